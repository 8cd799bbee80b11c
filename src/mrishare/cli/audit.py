"""Search a dataset for identifiers before you share it.

Give the source DICOM study with --against: mrishare harvests its names, IDs, birth dates,
addresses, staff, station, serial number, accession numbers, UIDs, dates and folder names,
and searches DIR for every one of them: in every file's bytes (gzip content too), DICOM
elements (private, nested, file meta), NIfTI headers and extensions, JSON sidecars, TSV
tables and path names. It also flags faces still present, burned-in annotations and DICOM
attributes the basic profile removes.

Exit status 0: nothing found. Exit status 1: something was found (listed, values masked).
Write the JSON report outside DIR, or audit it next time with the rest.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mrishare._paths import write_json

HELP = "find identifiers left anywhere in a dataset (exit 1 when found)"

log = logging.getLogger("mrishare")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments."""
    parser.add_argument("directory", metavar="DIR", help="the dataset to audit")
    parser.add_argument("--against", metavar="SRC",
                        help="the source DICOM study whose identifiers to search for")
    parser.add_argument("--identifiers", metavar="F", action="append", default=[],
                        help="a text file of more values to search, one per line "
                             "(may be given more than once)")
    parser.add_argument("--json", metavar="F", help="write the full report as JSON to F")
    parser.add_argument("--no-face-check", action="store_true",
                        help="do not register the template to look for faces (faster)")
    parser.add_argument("--limit", type=int, default=30,
                        help="how many findings to list on the terminal")


def main(args: argparse.Namespace) -> int:
    """Run the audit and return 0 (clean) or 1 (found something)."""
    from mrishare import audit as _audit
    from mrishare.cli import UsageError

    directory = Path(args.directory)
    if not directory.is_dir():
        raise UsageError(f"DIR must be a folder; {directory} is not one.")
    if args.against and not Path(args.against).exists():
        raise UsageError(f"--against {args.against} does not exist.")
    identifiers = _audit.IdentifierSet()
    try:
        for path in args.identifiers:
            identifiers = _audit.read_identifier_file(path, identifiers)
    except (FileNotFoundError, UnicodeDecodeError) as error:
        raise UsageError(str(error)) from None
    if not args.against and not args.identifiers:
        log.warning("no --against or --identifiers: only risks without a known value "
                    "(faces, burned-in text, profile attributes) are checked")
    exclude = [Path(args.json)] if args.json else []
    report = _audit.audit(directory, identifiers, against=args.against,
                          check_face=not args.no_face_check, exclude=exclude)
    print(report.summary(limit=args.limit))
    if args.json:
        write_json(args.json, report.to_dict())
    sys.stdout.flush()
    return report.exit_status
