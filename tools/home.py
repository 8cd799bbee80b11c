"""Copy the project's home (repository.url in _config.yml) into the README and notebooks.

The address is written once, in ``_config.yml``. A fork changes that line and runs
``make home``; ``tests/test_home.py`` fails while any copy differs.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Where copies of the address live: file patterns relative to the repository.
COPIES = ["README.md", "book/*.md", "notebooks/*.ipynb", "src/mrishare/__init__.py"]
ADDRESS = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+?(?=[/\"'\s)]|\.git|$)")
BINDER = re.compile(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w.-]+")


def home() -> tuple[str, str]:
    """Return (repository address, branch) from _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def project_addresses(text: str, url: str) -> list[str]:
    """Addresses in ``text`` that name this project (same repository name as ``url``)."""
    name = url.rsplit("/", 1)[-1]
    return [a for a in ADDRESS.findall(text) if a.rsplit("/", 1)[-1] == name]


def files() -> list[Path]:
    """The files that hold copies of the address."""
    return sorted({p for pattern in COPIES for p in ROOT.glob(pattern)})


def main() -> None:
    """Rewrite every copy to the address in _config.yml."""
    url, branch = home()
    owner_repo = url.removeprefix("https://github.com/")
    for path in files():
        text = path.read_text(encoding="utf-8")
        new = text
        for old in set(project_addresses(text, url)):
            new = new.replace(old, url)
        new = BINDER.sub(f"https://mybinder.org/v2/gh/{owner_repo}/{branch}", new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print("updated", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
