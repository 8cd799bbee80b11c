"""The mrishare command: command discovery, --version, make-key and usage errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mrishare import cli
from mrishare.keys import Key


def test_every_command_module_has_help_and_a_main():
    found = cli.commands()
    assert "make-key" in found
    for name, module in found.items():
        assert module.HELP and module.__doc__, name


def test_version_and_help_run_as_a_program():
    result = subprocess.run([sys.executable, "-m", "mrishare", "--version"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("mrishare ")


def test_make_key_writes_a_private_key_and_never_overwrites(tmp_path, capsys):
    path = tmp_path / "study.key"
    assert cli.run(["make-key", str(path)]) == 0
    assert Key.from_file(path).secret
    assert path.stat().st_mode & 0o777 == 0o600
    before = path.read_bytes()
    with pytest.raises(SystemExit) as stop:
        cli.run(["make-key", str(path)])
    assert stop.value.code == cli.EXIT_USAGE
    assert "exists already" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as stop:
        cli.run(["no-such-command"])
    assert stop.value.code == 2
