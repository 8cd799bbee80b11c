"""The ``mrishare`` command.

Each sub-command lives in its own module of this package: ``make_key.py`` is the command
``make-key``. A command module has a one-line ``HELP``, a docstring (the command's longer
description) and two functions, ``add_arguments(parser)`` and ``main(args) -> int``.
:func:`commands` finds them; :func:`run` builds the parser and returns the exit status:

* 0: done, and clean
* 1: ``audit`` found identifiers, or QC failed
* 2: usage error (argparse's own code), including a refused destination
* 3: some inputs could not be processed (each named on stderr and in the report)

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

__all__ = [
    "EXIT_FAILED_INPUTS", "EXIT_FOUND", "EXIT_OK", "EXIT_USAGE", "UsageError", "commands", "run",
]

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_FAILED_INPUTS = 3



class UsageError(Exception):
    """Bad arguments found after parsing (e.g. a destination inside the source): exit 2."""


def commands() -> dict[str, ModuleType]:
    """Return the command modules of this package by command name.

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
    """Return the parser with one sub-parser per command module."""
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

    Examples
    --------
    >>> run(["--version"])  # doctest: +SKIP
    mrishare 0.1.0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="mrishare: %(message)s", stream=sys.stderr)
    try:
        return int(args._main(args))
    except UsageError as error:
        parser.error(str(error))  # exits with status 2
    return EXIT_USAGE  # not reached


def main() -> None:
    """Entry point of the ``mrishare`` console script."""
    raise SystemExit(run())
