"""Turn a DICOM study into a defaced, de-identified BIDS dataset, and prove it clean.

One command for the whole way: classify the series, convert them to BIDS with scrubbed
headers and sidecars, deface every anatomical image, check the defacing, and search the
result for every identifier of the source study. A report (Markdown and HTML) goes into
DST_report/ beside the dataset: it names source folders and shows faces before defacing,
so keep it private.

Running the command again skips the participants already done. On a cluster, list the
participants once with --list-participants and give each job of an array one
--participant-label (the same --key-file for all).

Exit status: 0 ready; 1 the audit found identifiers or QC failed; 2 usage error;
3 some inputs failed (named in the report).
"""

from __future__ import annotations

import argparse
import logging
import os

from mrishare.cli._common import add_jobs, add_key_file, load_key
from mrishare.cli.series import add_config

HELP = "DICOM study -> defaced, de-identified, audited BIDS dataset with a report"

log = logging.getLogger("mrishare")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments."""
    parser.add_argument("src", metavar="SRC", help="the DICOM study (only read)")
    parser.add_argument("dst", metavar="DST", help="the BIDS dataset to write")
    add_key_file(parser)
    parser.add_argument("--participant-label", metavar="L", nargs="+",
                        help="prepare only these participants (for job arrays)")
    add_jobs(parser, "participants prepared at the same time (processes)")
    parser.add_argument("--report-dir", metavar="D",
                        help="where the private report goes (default: DST_report beside DST)")
    parser.add_argument("--list-participants", action="store_true",
                        help="print the participant labels this key gives, one a line, and stop")
    parser.add_argument("--no-face-check", action="store_true",
                        help="let the final audit skip its own face check (faster)")
    add_config(parser)


def main(args: argparse.Namespace) -> int:
    """Run prepare and return the exit status."""
    from mrishare import pipeline
    from mrishare.cli import UsageError
    from mrishare.errors import DestinationError, PrepareError, RuleFileError, SourceError

    if args.list_participants and args.key_file is None:
        raise UsageError("Labels come from the key: give --key-file to list them.")
    key = load_key(args.key_file, " (re-running adds the same people under new labels)")
    if args.list_participants:
        if not os.path.isdir(args.src):
            raise UsageError(f"SRC must be a folder; {args.src} is not one.")
        for label in pipeline.list_participants(args.src, key):
            print(label)
        return 0
    try:
        result = pipeline.prepare(
            args.src, args.dst, key, participant_labels=args.participant_label,
            jobs=args.jobs, report_dir=args.report_dir, check_face=not args.no_face_check,
            config=args.config,
        )
    except (PrepareError, SourceError, DestinationError, RuleFileError) as error:
        raise UsageError(str(error)) from None
    for participant in result.failed:
        # Source folders often carry names: stderr gives the label and the reason, the
        # private report also the folder.
        for item in participant.failed:
            log.error("sub-%s %s: %s (the source series is named in the report)",
                      participant.label, participant.status, item.reason)
    audit = result.audit
    state = "not run" if audit is None else ("clean" if audit.clean else
                                              f"{len(audit.findings)} findings")
    print(f"{len(result.participants)} participants ({len(result.reused)} done before); "
          f"audit: {state}; report: {result.report}")
    for path in pipeline.qc_failures(result):
        log.error("QC FAILED: %s (see the report: the face may still be there, or brain "
                  "was removed)", path)
    return result.exit_status
