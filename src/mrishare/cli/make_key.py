"""Write a new secret key file (64 hexadecimal characters, readable by you alone).

Use the same key file for every batch of a study, so that the same person gets the same
pseudonym, UIDs and date shift every time. Keep it secret and never share it.
"""

from __future__ import annotations

import argparse
import logging

from mrishare.errors import UsageError
from mrishare.keys import Key

HELP = "write a new secret key file for reproducible pseudonyms"

log = logging.getLogger("mrishare")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments to its parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-parser of ``make-key``.
    """
    parser.add_argument(
        "path", help="where to write the key (an existing file is never overwritten)"
    )


def main(args: argparse.Namespace) -> int:
    """Write the key and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments (``path``).

    Returns
    -------
    int
        0 once the key is written.

    Raises
    ------
    mrishare.errors.UsageError
        When the file exists already (exit 2).
    """
    try:
        Key.generate().save(args.path)
    except FileExistsError:
        raise UsageError(f"{args.path} exists already; choose a new name.") from None
    log.info("wrote a new key; keep it secret and out of any shared dataset")
    return 0
