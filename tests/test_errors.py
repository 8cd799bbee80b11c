"""mrishare.errors: one base class, the builtin each error also is, and what the CLI does."""

from __future__ import annotations

import inspect

import pytest

from mrishare import cli, errors
from mrishare.cli import make_key

# Each error and the builtin callers may already catch it as (named in its module's doc).
BUILTIN = {
    "AnswerError": ValueError,
    "BadInputError": ValueError,
    "ChecksumError": ValueError,
    "DefaceError": ValueError,
    "DestinationError": ValueError,
    "KeyFileError": ValueError,
    "NiftiReadError": ValueError,
    "PrepareError": ValueError,
    "RuleFileError": ValueError,
    "SampleNotFoundError": LookupError,
    "SourceError": ValueError,
    "UsageError": ValueError,
}
USAGE = {"DestinationError", "KeyFileError", "PrepareError", "SourceError", "UsageError"}
CLASSES = {name: cls for name, cls in inspect.getmembers(errors, inspect.isclass)
           if cls.__module__ == errors.__name__}


def test_every_class_is_listed_and_exported():
    assert set(CLASSES) == set(BUILTIN) | {"MrishareError"}
    assert set(errors.__all__) == set(CLASSES)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_error_derives_from_the_base_and_its_builtin(name):
    cls = CLASSES[name]
    assert issubclass(cls, errors.MrishareError)
    assert issubclass(cls, BUILTIN[name])
    assert cls.__doc__ and cls.__doc__.strip()


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_error_says_how_the_command_exits(name):
    expected = errors.EXIT_USAGE if name in USAGE else errors.EXIT_FAILED_INPUTS
    assert CLASSES[name].exit_status == expected
    assert cli.EXIT_USAGE == 2 and cli.EXIT_FAILED_INPUTS == 3


def test_the_cli_reexports_its_usage_error():
    assert cli.UsageError is errors.UsageError


def _raising(error: Exception):
    def main(args):
        raise error
    return main


@pytest.mark.parametrize("name", sorted(set(BUILTIN) - USAGE))
def test_the_cli_turns_an_input_error_into_exit_3_with_its_message(name, monkeypatch, capsys,
                                                                  tmp_path):
    message = f"scan-{name}.dcm: cannot be processed"
    monkeypatch.setattr(make_key, "main", _raising(CLASSES[name](message)))
    assert cli.run(["make-key", str(tmp_path / "k")]) == 3
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("name", sorted(USAGE))
def test_the_cli_turns_a_usage_error_into_exit_2_with_its_message(name, monkeypatch, capsys,
                                                                 tmp_path):
    message = f"out-{name}: choose a destination outside the source"
    monkeypatch.setattr(make_key, "main", _raising(CLASSES[name](message)))
    with pytest.raises(SystemExit) as stop:
        cli.run(["make-key", str(tmp_path / "k")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage: mrishare" in err


def test_other_exceptions_are_not_swallowed(monkeypatch, tmp_path):
    monkeypatch.setattr(make_key, "main", _raising(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):
        cli.run(["make-key", str(tmp_path / "k")])

