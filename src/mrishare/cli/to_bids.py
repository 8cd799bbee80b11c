"""Convert a DICOM study into a BIDS dataset that carries no identifiers.

Series are mapped to BIDS names (T1w, T2w, FLAIR) from their descriptions and acquisition
parameters by the series mapping (rules/series_mapping.yaml); other series are skipped and
listed. Each is converted with dcm2niix, and then NIfTI headers, gzip headers and JSON
sidecars are scrubbed; participant labels and shifted dates come from the key file. SRC is
only read. DST must be a new or empty folder outside SRC. Faces are not removed by this
command: run 'mrishare deface' on the images next.

Exit status: 0 done; 2 usage error (a SRC that is not a folder, a refused DST, a bad key
file); 3 some series could not be converted (each named on stderr; the others were
converted).
"""

from __future__ import annotations

import argparse
import logging
import sys

from mrishare.bids import to_bids
from mrishare.cli._common import add_key_file, load_key
from mrishare.errors import DestinationError, SourceError

HELP = "convert a DICOM study into a de-identified BIDS dataset"

log = logging.getLogger("mrishare")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments."""
    parser.add_argument("src", metavar="SRC", help="folder of DICOM files (only read)")
    parser.add_argument("dst", metavar="DST", help="new or empty folder for the BIDS dataset")
    add_key_file(parser)
    parser.add_argument("--include-sex", action="store_true",
                        help="write the participants' sex in participants.tsv")
    parser.add_argument("--license", default="CC0",
                        help="licence written in dataset_description.json")


def main(args: argparse.Namespace) -> int:
    """Convert and return the exit status."""
    from mrishare.cli import EXIT_FAILED_INPUTS, EXIT_OK, UsageError

    key = load_key(args.key_file)
    try:
        report = to_bids(args.src, args.dst, key, include_sex=args.include_sex,
                         license=args.license)
    except (SourceError, DestinationError) as error:
        raise UsageError(str(error)) from None
    # Problems name source paths so that the operator can find them; they go to this
    # terminal only, never into the dataset.
    for problem in report.skipped:
        print(f"skipped {problem.source}: {problem.message}", file=sys.stderr)
    for problem in report.failed:
        print(f"FAILED {problem.source}: {problem.message}", file=sys.stderr)
    log.info("wrote %d images; %d series or files skipped; %d series failed",
             len(report.written), len(report.skipped), len(report.failed))
    return EXIT_FAILED_INPUTS if report.failed else EXIT_OK
