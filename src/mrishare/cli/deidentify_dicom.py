"""De-identify a folder of DICOM files by the DICOM PS3.15 Basic Profile and its options.

Every attribute is handled as the standard's Table E.1-1 says (the edition is named in the
files and the report); private attributes are removed; UIDs, the participant label and date
shifts come from the key file, so the same key gives the same output every time. Output
paths are made of pseudonyms: sub-<label>/ses-<n>/<series>-<modality>/<instance>.dcm.
Screenshots and other images that may show burned-in text are left out. Files without a
file meta header (as old exports write them) are accepted and written as DICOM Part 10 files.

Files that share a SOP Instance UID are never mixed: copies of one object are written once
and named as copies; different objects each get their own keyed UID. Overlays and curves
are removed whole. With --validate, dciodvfy (package dicom3tools) checks every output
against its source and the report names the errors de-identification added.

A report (JSON and text) and a mapping (DST_mapping.tsv: every source file, its fate and
its output) are written next to DST, not inside it: they name source files, whose paths
can carry names. SRC is never written.

Exit status: 0 done; 1 --validate found an output with errors its source did not have;
2 usage error; 3 some inputs could not be processed (each named; the rest done).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mrishare._paths import inside
from mrishare.cli._common import add_jobs, add_key_file, load_key

HELP = "de-identify DICOM files (PS3.15 Basic Profile, keyed pseudonyms)"

log = logging.getLogger("mrishare")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments."""
    parser.add_argument("src", type=Path, help="folder of DICOM files (or one file); only read")
    parser.add_argument("dst", type=Path, help="output folder (not inside SRC)")
    add_key_file(parser)
    parser.add_argument("--keep-longitudinal-dates", action="store_true",
                        help="shift dates by a keyed amount per participant instead of "
                             "removing them (intervals between sessions survive)")
    parser.add_argument("--clean-descriptors", action="store_true",
                        help="keep series and study descriptions, cleaned of identifying words")
    parser.add_argument("--keep-patient-characteristics", action="store_true",
                        help="keep sex, age, size and weight")
    parser.add_argument("--keep-private-safe", action="store_true",
                        help="keep private attributes known to be safe (e.g. coil name)")
    add_jobs(parser)
    parser.add_argument("--report", type=Path, default=None,
                        help="report path without suffix (default: DST_report next to DST)")
    parser.add_argument("--mapping", type=Path, default=None,
                        help="where to write the mapping of source files to outputs "
                             "(default: DST_mapping.tsv next to DST)")
    parser.add_argument("--validate", action="store_true",
                        help="check every output and its source with dciodvfy (dicom3tools) "
                             "and report the errors de-identification added")


def main(args: argparse.Namespace) -> int:
    """Run the command and return the exit status."""
    from mrishare import dicom
    from mrishare.cli import UsageError

    if not args.src.exists():
        raise UsageError(f"The source {args.src} does not exist.")
    report_path = args.report or args.dst.with_name(args.dst.name + "_report")
    mapping_path = args.mapping or args.dst.with_name(args.dst.name + "_mapping.tsv")
    for target in (args.dst, report_path, mapping_path):
        if inside(target, args.src):
            raise UsageError(
                f"{target} is the source folder or inside it; SRC is never written. "
                "Choose a destination outside it."
            )
    key = load_key(args.key_file)
    options = dicom.Options(
        keep_longitudinal_dates=args.keep_longitudinal_dates,
        clean_descriptors=args.clean_descriptors,
        keep_patient_characteristics=args.keep_patient_characteristics,
        keep_private_safe=args.keep_private_safe,
    )
    if inside(mapping_path, args.dst) or inside(report_path, args.dst):
        raise UsageError("The report and the mapping name source files: keep them out of "
                         f"{args.dst}.")
    report = dicom.deidentify_folder(args.src, args.dst, key, options, jobs=args.jobs,
                                     progress=sys.stderr.isatty(), validate=args.validate)
    for row in report.left_out:
        log.info("left out %s: %s", row.source, row.reason)
    for row in report.failed:
        log.error("could not process %s: %s", row.source, row.reason)
    for row in report.made_invalid:
        log.error("%s is less valid than its source %s: %s", row.output, row.source,
                  "; ".join(row.added_errors))
    _, text_path = report.save(report_path)
    report.save_mapping(mapping_path)
    files = sum(s.files for s in report.series)
    if report.validation:
        log.info("validation: %s", report.validation)
    log.info("wrote %d files in %d series; report: %s; mapping: %s", files,
             len(report.series), text_path, mapping_path)
    return report.exit_status
