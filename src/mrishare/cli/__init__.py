"""The ``mrishare`` command.

Each sub-command lives in its own module of this package: ``make_key.py`` is the command
``make-key``. A command module has a one-line ``HELP``, a docstring (the command's longer
description) and two functions, ``add_arguments(parser)`` and ``main(args) -> int``.
:func:`commands` finds them; :func:`run` builds the parser and returns the exit status:

* 0: done, and clean
* 1: ``audit`` found identifiers, or QC failed
* 2: usage error (argparse's own code), including a refused destination
* 3: some inputs could not be processed (each named on stderr and in the report)

A command signals trouble by raising a :class:`~mrishare.errors.MrishareError`; :func:`run`
catches that one base class, prints the message and exits with the error's
``exit_status`` (2 for usage errors such as a refused destination, 3 otherwise). Commands do
not catch mrishare's errors themselves.

Logs never echo the command line or source paths: they can carry names.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from mrishare import __version__
from mrishare.errors import EXIT_FAILED_INPUTS, EXIT_USAGE, MrishareError, UsageError

__all__ = [
    "EXIT_FAILED_INPUTS",
    "EXIT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "commands",
    "main",
    "run",
]

EXIT_OK = 0
"""Done, and clean."""

EXIT_FOUND = 1
"""``audit`` found identifiers, or QC failed."""


def commands() -> dict[str, ModuleType]:
    """Return the command modules of this package by command name.

    Returns
    -------
    dict of str to module
        Command name (``make-key``) to its module (``make_key``), sorted by name.

    Examples
    --------
    >>> "make-key" in commands()
    True
    """
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "add_arguments") and hasattr(module, "main"):
            found[info.name.replace("_", "-")] = module
    return dict(sorted(found.items()))


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with one sub-parser per command module.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> build_parser().prog
    'mrishare'
    """
    parser = argparse.ArgumentParser(
        prog="mrishare",
        description="Share brain MRI safely: de-identify, convert, deface and audit.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mrishare {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to tell on stderr",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in commands().items():
        command = sub.add_parser(
            name, help=module.HELP, description=module.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(_main=module.main)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (``sys.argv[1:]`` by default).

    Returns
    -------
    int
        0, 1 or 3 (see the module's description).

    Raises
    ------
    SystemExit
        With status 2 for a usage error: argparse's own, or a
        :class:`~mrishare.errors.MrishareError` whose ``exit_status`` is 2 (its message is
        printed after the usage line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run(["make-key", str(pathlib.Path(tempfile.mkdtemp()) / "study.key")])
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="mrishare: %(message)s", stream=sys.stderr)
    try:
        return int(args._main(args))
    except MrishareError as error:
        if error.exit_status == EXIT_USAGE:
            parser.error(str(error))  # prints the usage line and the message, exits with 2
        print(f"mrishare: error: {error}", file=sys.stderr)
        return error.exit_status


def _give_back_freed_arrays() -> None:
    """Ask the C library to return large freed blocks to the system at once.

    glibc keeps freed blocks of up to 32 MB for reuse once blocks of that size have come and
    gone, so a process that works through whole images one after the other keeps holding
    the memory of images it no longer uses. From 1 MB up, blocks are then always mapped
    and unmapped. On other C libraries nothing changes.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except OSError:
        pass


_M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter for the size from which blocks are mapped (malloc.h)."""


def main() -> None:
    """Run the ``mrishare`` console script and exit with its status."""
    _give_back_freed_arrays()
    raise SystemExit(run())
