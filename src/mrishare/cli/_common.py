"""Options that several commands share: the key file and the number of worker processes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mrishare.keys import Key, load_or_random_key

log = logging.getLogger("mrishare")

KEY_HELP = ("secret key file (mrishare make-key F); without it a random key is used and the "
            "pseudonyms cannot be made again")


def add_key_file(parser: argparse.ArgumentParser) -> None:
    """Add ``--key-file F`` to a command's parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    """
    parser.add_argument("--key-file", metavar="F", type=Path, default=None, help=KEY_HELP)


def add_jobs(parser: argparse.ArgumentParser, help_text: str = "worker processes") -> None:
    """Add ``--jobs N`` (a whole number of 1 or more) to a command's parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    help_text : str, default "worker processes"
        The option's help.
    """
    parser.add_argument("--jobs", metavar="N", type=_positive, default=1, help=help_text)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"--jobs needs a whole number of 1 or more, got {text}")
    return number


def load_key(path: Path | None, consequence: str = "") -> Key:
    """Read the key file, or make a random key and warn that it is not reproducible.

    Parameters
    ----------
    path : Path or None
        The ``--key-file`` argument.
    consequence : str, default ""
        Appended to the warning about a random key (what the user loses).

    Returns
    -------
    mrishare.keys.Key

    Raises
    ------
    mrishare.errors.KeyFileError
        For a key file that cannot be read (the command exits with 2).
    """
    key = load_or_random_key(path)
    if not key.reproducible:
        log.warning("no --key-file: a random key is used, and these pseudonyms cannot be made "
                    "again%s", consequence)
    return key


def preload(*modules: str) -> None:
    """Start importing ``modules`` in the background while the command works.

    A command that will need a slow-to-import library only at its end (OpenCV for the
    face detector and the QC picture) loads it while the work before runs mostly outside
    Python (registration, compression), on the machine's other core. Importing the same
    module later waits for this import to finish; a module that fails to import fails
    there again, with its own error.

    Parameters
    ----------
    *modules : str
        Dotted module names, e.g. ``"cv2"``.
    """
    import importlib
    import threading

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the import that needs it will raise it
                return

    threading.Thread(target=load, name="mrishare-preload", daemon=True).start()
