"""Print the pip pins of environment.yml as a requirements file.

environment.yml is the one source of version pins: Binder reads it directly and
``make`` installs from this output, so the two cannot drift.

Usage: ``python tools/pins.py [environment.yml] > requirements.txt``
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# A pip entry in the environment file: "      - name==version"
PIN = re.compile(r"^\s+-\s+([A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.\-+]+)\s*$")


def pins(path: Path) -> list[str]:
    """Return the ``name==version`` lines of the pip section of ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    except StopIteration:
        raise SystemExit(f"{path}: no '- pip:' section found") from None
    found = [m.group(1) for line in lines[start + 1 :] if (m := PIN.match(line))]
    if not found:
        raise SystemExit(f"{path}: the pip section has no 'name==version' pins")
    return found


if __name__ == "__main__":
    env = Path(sys.argv[1] if len(sys.argv) > 1 else "environment.yml")
    print("\n".join(pins(env)))
