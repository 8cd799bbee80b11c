"""Every error mrishare raises, under one base class.

A caller that wants to catch "anything mrishare refused" catches :class:`MrishareError`; the
command line prints its message and exits with the class's :attr:`~MrishareError.exit_status`:
2 for a usage error (bad arguments, a refused source, destination or key file), 3 for an
input that could not be processed. Each class also derives from the builtin error callers
already catch (``ValueError``, ``LookupError``), so code written against those keeps working.

Messages say what was expected, what was given, and what to do.

Examples
--------
>>> from mrishare.errors import BadInputError, DestinationError, MrishareError
>>> issubclass(BadInputError, MrishareError)
True
>>> BadInputError.exit_status, DestinationError.exit_status
(3, 2)
>>> try:
...     raise BadInputError("scan.dcm: not a DICOM file")
... except MrishareError as error:
...     print(error)
scan.dcm: not a DICOM file
"""

from __future__ import annotations

__all__ = [
    "AnswerError",
    "BadInputError",
    "ChecksumError",
    "DefaceError",
    "DestinationError",
    "KeyFileError",
    "MrishareError",
    "NiftiReadError",
    "PrepareError",
    "RuleFileError",
    "SampleNotFoundError",
    "SourceError",
    "UsageError",
]

EXIT_USAGE = 2
"""Exit status of the ``mrishare`` command for a usage error (argparse's own code)."""

EXIT_FAILED_INPUTS = 3
"""Exit status of the ``mrishare`` command when inputs could not be processed."""


class MrishareError(Exception):
    """Base of every error mrishare raises on purpose.

    Attributes
    ----------
    exit_status : int
        The status the ``mrishare`` command exits with when this error stops it: 3 (an
        input could not be processed) unless a subclass says 2 (a usage error).
    """

    exit_status: int = EXIT_FAILED_INPUTS


class BadInputError(MrishareError, ValueError):
    """An input file that cannot be processed: empty, truncated, not DICOM or NIfTI, damaged."""


class NiftiReadError(BadInputError):
    """A file that cannot be read as single-file NIfTI (the message names the file)."""


class SourceError(MrishareError, ValueError):
    """A source that is not what a command needs (missing, not a folder, empty)."""

    exit_status = EXIT_USAGE


class DestinationError(MrishareError, ValueError):
    """A destination that would overwrite or sit inside the source."""

    exit_status = EXIT_USAGE


class KeyFileError(MrishareError, ValueError):
    """A key file that is missing, unreadable or not a key made by ``mrishare make-key``."""

    exit_status = EXIT_USAGE


class DefaceError(MrishareError, ValueError):
    """An image that cannot be defaced safely (not a head, 4D, skull-stripped...)."""


class PrepareError(MrishareError, ValueError):
    """A ``prepare`` run that cannot start (bad source, destination or options)."""

    exit_status = EXIT_USAGE


class RuleFileError(MrishareError, ValueError):
    """A policy data file (``mrishare/rules/``) that is malformed; the message says where."""


class AnswerError(MrishareError, ValueError):
    """An answer the decision tree does not offer at that question."""


class SampleNotFoundError(MrishareError, LookupError):
    """A sample name that mrishare does not ship."""


class ChecksumError(MrishareError, ValueError):
    """A sample file whose checksum differs from the one recorded in the manifest."""


class UsageError(MrishareError, ValueError):
    """Arguments found wrong after parsing (an output that is also an input, say): exit 2."""

    exit_status = EXIT_USAGE
