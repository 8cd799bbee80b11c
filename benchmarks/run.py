"""Run every benchmark (benchmarks/bench_*.py) and print one markdown table.

Each module has ``run() -> list[dict]`` returning rows with the keys below; a floor or peer
(``reference``) is measured in the same run, so the ratio compares like with like on this
machine. ``make bench`` runs this script.

Usage::

    python benchmarks/run.py                      # every bench_*.py
    python benchmarks/run.py notebooks dicom      # only bench_notebooks.py and bench_dicom.py
    python benchmarks/run.py --json out.json      # also save the rows

Exit status: 0 every target met; 1 a target missed; 3 a benchmark module failed to run
(named on stderr; the others' rows are still printed).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEYS = ("what", "value", "unit", "reference", "reference_value", "ratio", "target", "met")


def modules(only: list[str] | None = None) -> list[Path]:
    """The bench_*.py files, sorted; ``only`` keeps those whose topic is listed."""
    found = sorted(HERE.glob("bench_*.py"))
    if only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in only}
        unknown = wanted - {p.stem.removeprefix("bench_") for p in found}
        if unknown:
            raise SystemExit(f"no benchmark named {sorted(unknown)} in {HERE}")
        found = [p for p in found if p.stem.removeprefix("bench_") in wanted]
    return found


def load(path: Path):
    """Import a benchmark module from its file (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(HERE))
    return module


def check_row(row: dict, source: str) -> dict:
    missing = [k for k in KEYS if k not in row]
    if missing:
        raise ValueError(f"{source}: a row lacks {missing}: {row}")
    return row


def _number(value: float) -> str:
    if value != value:  # NaN: the measurement did not happen
        return "n/a"
    if value == 0 or 0.01 <= abs(value) < 10_000:
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return f"{value:.3g}"


def table(rows: list[dict]) -> str:
    """The rows as one markdown table (topic first, ratio to the reference, target, met)."""
    head = ["topic", "what", "value", "reference", "ratio", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["topic"],
            r["what"],
            "n/a" if r["value"] != r["value"] else f"{_number(r['value'])} {r['unit']}",
            f"{r['reference']}: {_number(r['reference_value'])} {r['unit']}",
            "n/a" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}x",
            r["target"],
            "yes" if r["met"] else "**no**",
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {system}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="topics to run (default: all)")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    rows, failed = [], []
    for path in modules(args.only):
        topic = path.stem.removeprefix("bench_")
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        try:
            for row in load(path).run():
                rows.append({"topic": topic, **check_row(row, path.name)})
        except Exception:  # one broken benchmark must not hide the others' rows
            failed.append(path.name)
            traceback.print_exc()
            print(f"{path.name} failed; its rows are missing from the table", file=sys.stderr)

    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"Benchmarks of {stamp} on {machine()}.\n")
    print(table(rows))
    if failed:
        print(f"\nFailed to run: {', '.join(failed)}")
    if args.json:
        args.json.write_text(
            json.dumps({"date": stamp, "machine": machine(), "rows": rows}, indent=2),
            encoding="utf-8",
        )
    if failed:
        return 3
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
