"""The project's address is written once (_config.yml); every copy agrees with it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import home  # noqa: E402

import mrishare  # noqa: E402


def test_every_copy_of_the_address_matches_config():
    url, branch = home.home()
    assert url == mrishare.HOME
    owner_repo = url.removeprefix("https://github.com/")
    for path in home.files():
        text = path.read_text(encoding="utf-8")
        for address in home.project_addresses(text, url):
            assert address == url, f"{path}: {address} (run `make home`)"
        for binder in home.BINDER.findall(text):
            assert binder == f"https://mybinder.org/v2/gh/{owner_repo}/{branch}", path


def test_the_address_check_catches_a_fork_left_half_done():
    text = 'see "https://github.com/someone/mrishare" and https://github.com/mrishare/mrishare'
    found = home.project_addresses(text, "https://github.com/mrishare/mrishare")
    assert "https://github.com/someone/mrishare" in found
