"""Convert a DICOM study into a BIDS dataset that carries no identifiers.

Series are mapped to BIDS names (anat T1w, T2w, FLAIR, PDw, T2starw...; func bold and
sbref; dwi with .bval/.bvec; fmap phasediff, magnitude1/2 and epi; echo-<n> and part-mag/
part-phase when a series holds several echoes or phase images) from their descriptions and
acquisition parameters by the series mapping (rules/series_mapping.yaml, plus your own with
--config FILE, tried first). A series no rule takes is never guessed: it is not converted,
named on stderr with one summary line; 'mrishare series SRC' (or --dry-run) shows the rule
each series takes and a configuration snippet for the others. Each is converted with
dcm2niix, and then NIfTI headers, gzip headers and JSON sidecars are scrubbed; participant
labels and shifted dates come from the key file. SRC is only read. DST must be a new or
empty folder outside SRC. Faces are not removed by this command: run 'mrishare deface' on
the anatomical images next.

Exit status: 0 done; 1 with --strict when a series was not mapped; 2 usage error (a SRC
that is not a folder, a refused DST, a bad key file or --config file); 3 some series could
not be converted (each named on stderr; the others were converted).
"""

from __future__ import annotations

import argparse
import logging
import sys

from mrishare.cli._common import add_key_file, load_key
from mrishare.cli.series import add_config, load, show

HELP = "convert a DICOM study into a de-identified BIDS dataset"

log = logging.getLogger("mrishare")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments."""
    parser.add_argument("src", metavar="SRC", help="folder of DICOM files (only read)")
    parser.add_argument("dst", metavar="DST", nargs="?",
                        help="new or empty folder for the BIDS dataset (not needed with "
                             "--dry-run)")
    add_key_file(parser)
    add_config(parser)
    parser.add_argument("--dry-run", action="store_true",
                        help="only list the series and the rule each takes (as "
                             "'mrishare series'); write nothing")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when any series was not mapped (after converting the "
                             "others)")
    parser.add_argument("--include-sex", action="store_true",
                        help="write the participants' sex in participants.tsv")
    parser.add_argument("--license", default="CC0",
                        help="licence written in dataset_description.json")


def main(args: argparse.Namespace) -> int:
    """Convert and return the exit status."""
    from mrishare.bids import list_series, summary_line, to_bids
    from mrishare.cli import EXIT_FAILED_INPUTS, EXIT_FOUND, EXIT_OK, UsageError
    from mrishare.errors import DestinationError, SourceError

    series_mapping = load(args.config)
    if args.dry_run:
        try:
            rows, skipped = list_series(args.src, series_mapping)
        except SourceError as error:
            raise UsageError(str(error)) from None
        show(rows, skipped)
        return EXIT_FOUND if args.strict and any(row.unmapped for row in rows) else EXIT_OK
    if args.dst is None:
        raise UsageError("DST is required (or give --dry-run to only list the series).")
    key = load_key(args.key_file)
    try:
        report = to_bids(args.src, args.dst, key, include_sex=args.include_sex,
                         license=args.license, series_mapping=series_mapping)
    except (SourceError, DestinationError) as error:
        raise UsageError(str(error)) from None
    # Problems name source paths so that the operator can find them; they go to this
    # terminal only, never into the dataset.
    for problem in report.skipped:
        print(f"skipped {problem.source}: {problem.message}", file=sys.stderr)
    for problem in report.failed:
        print(f"FAILED {problem.source}: {problem.message}", file=sys.stderr)
    line = summary_line(report.series)
    if line:
        print(line, file=sys.stderr)
    log.info("wrote %d images; %d series or files skipped (%d not mapped); %d series failed",
             len(report.written), len(report.skipped), len(report.unmapped),
             len(report.failed))
    if report.failed:
        return EXIT_FAILED_INPUTS
    return EXIT_FOUND if args.strict and report.unmapped else EXIT_OK
