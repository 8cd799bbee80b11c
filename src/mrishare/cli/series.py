"""List every series of a DICOM study with the rule of the series mapping it takes.

Reads the headers only (no pixel data; nothing is written). For each series: its folder,
description, protocol, sequence, image type, echo, repetition and inversion times (ms),
number of files, the description of the mapping that decides (file:id) and what the
series becomes (a BIDS datatype and name, skip, or unknown). For each series no
description takes, the reason and a YAML snippet that maps it: put it in a file, check the
suffix, and give the file to 'mrishare to-bids --config FILE' (your descriptions are tried
before the shipped ones).

The table names source folders and series descriptions, which may hold names: it is for
your terminal, not for sharing.

Exit status: 0 done; 1 with --strict when a series is not mapped; 2 usage error (a SRC
that is not a folder, a broken --config file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "list the series of a DICOM study and the mapping rule each takes (nothing written)"


def add_config(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FILE`` (a series mapping on top of the shipped one)."""
    parser.add_argument("--config", metavar="FILE", type=Path, default=None,
                        help="your series mapping (YAML, same shape as the shipped "
                             "rules/series_mapping.yaml); its descriptions are tried first")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments."""
    parser.add_argument("src", metavar="SRC", help="folder of DICOM files (only read)")
    add_config(parser)
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when any series is not mapped")


def load(config: Path | None):
    """Return the series mapping for ``--config`` (a usage error when the file is wrong)."""
    from mrishare.bids import load_config
    from mrishare.cli import UsageError
    from mrishare.errors import RuleFileError

    if config is not None and not config.is_file():
        raise UsageError(f"--config {config}: no such file.")
    try:
        return load_config(config)
    except RuleFileError as error:
        raise UsageError(f"--config: {error}") from None


def show(rows, skipped) -> None:
    """Print the table, each unmapped series with its snippet, and the summary line."""
    from mrishare.bids import format_table, summary_line

    print(format_table(rows))
    for row in rows:
        if row.unmapped:
            print(f"\nnot mapped: {row.folder} ({row.description!r}): {row.reason}\n"
                  f"A configuration that maps it (check the suffix):\n{row.snippet}")
    for problem in skipped:
        print(f"skipped {problem.source}: {problem.message}", file=sys.stderr)
    line = summary_line(rows)
    if line:
        print(line, file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    """List the series and return the exit status."""
    from mrishare.bids import list_series
    from mrishare.cli import EXIT_FOUND, EXIT_OK, UsageError
    from mrishare.errors import SourceError

    series_mapping = load(args.config)
    if not Path(args.src).is_dir():
        raise UsageError(f"SRC must be a folder of DICOM files; {args.src} is not one.")
    try:
        rows, skipped = list_series(args.src, series_mapping)
    except SourceError as error:
        raise UsageError(str(error)) from None
    show(rows, skipped)
    return EXIT_FOUND if args.strict and any(row.unmapped for row in rows) else EXIT_OK
