"""Install what the tests need from outside PyPI: Debian packages and the pinned axe-core.

tests/test_browser.py drives headless Chromium (Debian's ``chromium`` package, never a
browser build downloaded by a driver) and injects axe-core (from the npm registry, pinned in
tools/axe/package-lock.json) into every page of the built book. The DICOM tests validate
every de-identified file with ``dciodvfy``, the DICOM reference validator (Debian's
``dicom3tools`` package).

Usage::

    python tools/test_tools.py --install   # install what is missing (Chromium needs root)
    python tools/test_tools.py             # only report what is there, exit 1 when incomplete

Both steps are skipped when already done, so ``make test`` can call ``--install`` every time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# Programs the tests run, and the Debian package that brings each.
DEBIAN = {CHROMIUM: "chromium", Path("/usr/bin/dciodvfy"): "dicom3tools"}
AXE_DIR = ROOT / "tools" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def pinned_axe_version() -> str:
    """Return the axe-core version pinned in tools/axe/package-lock.json."""
    lock = json.loads((AXE_DIR / "package-lock.json").read_text(encoding="utf-8"))
    return lock["packages"]["node_modules/axe-core"]["version"]


def installed_axe_version() -> str | None:
    """Return the installed axe-core version, or None when it is not installed."""
    meta = AXE_DIR / "node_modules" / "axe-core" / "package.json"
    if not (meta.is_file() and AXE_JS.is_file()):
        return None
    return json.loads(meta.read_text(encoding="utf-8")).get("version")


def missing() -> list[str]:
    """Return a sentence for each thing the browser tests need and do not find."""
    problems = [f"{program} not found (Debian package '{package}')"
                for program, package in DEBIAN.items() if not os.access(program, os.X_OK)]
    want, have = pinned_axe_version(), installed_axe_version()
    if have != want:
        problems.append(
            f"axe-core {want} not installed in {AXE_DIR / 'node_modules'} (found {have})"
        )
    return problems


def run(cmd: list[str], **kwargs) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def install_debian() -> None:
    wanted = sorted({p for program, p in DEBIAN.items() if not os.access(program, os.X_OK)})
    if not wanted:
        return
    names = " ".join(wanted)
    if shutil.which("apt-get") is None:
        raise SystemExit(f"{names} missing and apt-get is not here: install them by hand.")
    if os.geteuid() != 0:
        raise SystemExit(f"{names} missing: run as root, or `apt-get install {names}`.")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *wanted], env=env)


def install_axe() -> None:
    if installed_axe_version() == pinned_axe_version():
        return
    if shutil.which("npm") is None:
        raise SystemExit("npm is not installed: `apt-get install npm`, then run this again.")
    run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=AXE_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--install", action="store_true", help="install what is missing (default: only check)"
    )
    args = parser.parse_args(argv)
    if args.install:
        install_debian()
        install_axe()
    problems = missing()
    for problem in problems:
        print(f"test tools: {problem}", file=sys.stderr)
    if not problems:
        ready = ", ".join(str(p) for p in DEBIAN)
        print(f"test tools: {ready} and axe-core {pinned_axe_version()} are ready")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
