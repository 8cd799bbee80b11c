"""Derive src/mrishare/rules/iod_attribute_types.json from the standard's tables in highdicom.

The confidentiality profile gives some attributes a combined action (``X/Z``, ``X/D``,
``Z/D``, ``X/Z/D``, ...): which one applies depends on the attribute's type (1, 2 or 3) in
the object's IOD. The standard's IOD and module tables (DICOM PS3.3) are shipped, as JSON,
by the maintained package highdicom (``highdicom/_standard/``: 22 MB), which generates them
from the innolitics ``dicom-standard`` tables parsed from PS3.3. This script keeps what
mrishare needs, so that nothing large is parsed at run time:

* ``sop_classes``: SOP Class UID -> IOD;
* ``iods``: IOD -> the modules of that IOD that hold an attribute of interest;
* ``modules``: module -> ``[path, keyword, type]`` for each attribute of interest (the
  attributes a combined action names, at any depth; ``path`` is the keywords of the
  enclosing sequences joined by ``/``).

Usage (highdicom installed; it is in the ``test`` extra)::

    PYTHONPATH=src python tools/make_iod_types.py            # write the file
    PYTHONPATH=src python tools/make_iod_types.py --check    # exit 1 if it is out of date

The output is sorted and carries no time stamp: the same highdicom and the same profile
give the same bytes.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "src" / "mrishare" / "rules" / "iod_attribute_types.json"
SOURCE_PACKAGE = "highdicom"


def _standard_folder() -> Path:
    """Return highdicom's folder of standard tables, without importing highdicom."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("highdicom is not installed: pip install 'highdicom==0.28.2' "
                         "(it is in mrishare's test extra).")
    return Path(next(iter(spec.submodule_search_locations))) / "_standard"


def combined_keywords() -> list[str]:
    """Return the keywords that any shipped edition of Table E.1-1 gives a combined action."""
    from pydicom.datadict import keyword_for_tag

    from mrishare.dicom.profile import load_profile, profile_editions

    found = set()
    for edition in profile_editions():
        for tag, action in load_profile(edition).actions.items():
            if "/" in action and keyword_for_tag(tag):
                found.add(keyword_for_tag(tag))
    return sorted(found)


def build() -> dict:
    """Return the content of the data file (see the module's docstring)."""
    folder = _standard_folder()
    version = importlib.metadata.version(SOURCE_PACKAGE)
    sop_classes = json.loads((folder / "sop_class_iod_map.json").read_text())
    iod_modules = json.loads((folder / "iod_module_map.json").read_text())
    module_attributes = json.loads((folder / "module_attribute_map.json").read_text())
    wanted = set(combined_keywords())
    modules: dict[str, list[list[str]]] = {}
    for module, attributes in module_attributes.items():
        rows = {("/".join(a["path"]), a["keyword"], a["type"]) for a in attributes
                if a["keyword"] in wanted and a["type"] in ("1", "1C", "2", "2C", "3")}
        if rows:
            modules[module] = [list(row) for row in sorted(rows)]
    iods = {iod: sorted({m["key"] for m in entries if m["key"] in modules})
            for iod, entries in iod_modules.items()}
    return {
        "about": "Types (PS3.3: 1, 1C, 2, 2C, 3) of the attributes that DICOM PS3.15 Table "
                 "E.1-1 gives a combined action (X/Z, X/D, Z/D, X/Z/D, X/Z/U*), per module, "
                 "at any depth; the modules of each IOD; the IOD of each SOP class. Read by "
                 "mrishare.dicom.iod. Do not edit: made by tools/make_iod_types.py.",
        "source": f"highdicom {version} (highdicom/_standard/sop_class_iod_map.json, "
                  "iod_module_map.json, module_attribute_map.json)",
        "derived_from": "the innolitics dicom-standard tables "
                        "(https://github.com/innolitics/dicom-standard), parsed from DICOM "
                        "PS3.3 Information Object Definitions",
        "edition": "the PS3.3 edition highdicom " + version + " was built from (highdicom "
                   "does not record it)",
        "licence": "highdicom and dicom-standard: MIT licence; the DICOM standard: "
                   "copyright NEMA, freely usable",
        "generated_by": "tools/make_iod_types.py",
        "attributes": sorted(wanted),
        "sop_classes": dict(sorted(sop_classes.items())),
        "iods": dict(sorted(iods.items())),
        "modules": dict(sorted(modules.items())),
    }


def render(content: dict) -> str:
    """Return the file's text: JSON with one SOP class, IOD or module row per line, sorted."""
    parts = []
    for name, value in content.items():
        if isinstance(value, dict):
            lines = []
            for key, item in value.items():
                if isinstance(item, list) and item and isinstance(item[0], list):
                    rows = ",\n".join("   " + json.dumps(row) for row in item)
                    lines.append(f"  {json.dumps(key)}: [\n{rows}\n  ]")
                else:
                    lines.append(f"  {json.dumps(key)}: {json.dumps(item)}")
            parts.append(f" {json.dumps(name)}: {{\n" + ",\n".join(lines) + "\n }")
        else:
            parts.append(f" {json.dumps(name)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    """Write the data file, or with --check say whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed file instead of writing it")
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = args.output.read_text(encoding="utf-8") == text
        print(f"{args.output.name} is {'up to date' if same else 'OUT OF DATE'}")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
