"""Whole-process measurements shared by the benchmarks, and the shape of a table row.

:func:`measure` runs a command inside a fresh wrapper process and reads the wall time and
the peak resident memory of the command (``getrusage(RUSAGE_CHILDREN)`` in the wrapper sees
only that command). :func:`compare` times several commands in interleaved rounds and keeps
each one's fastest run, so that a moment when the machine is busy does not fall on one
command only.
:func:`row` builds one row of the table that ``benchmarks/run.py`` prints, with the ratio to
a reference measured in the same run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"s": seconds, "mb": peak, "rc": done.returncode}))
"""


def measure(
    command: list[str], repeats: int = 1, ok: tuple[int, ...] = (0,), cwd: Path | None = None
) -> dict[str, float]:
    """Run ``command`` ``repeats`` times; return the median seconds and the largest peak MB.

    Raises RuntimeError when the command exits with a status not in ``ok``.
    """
    runs = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", _WRAPPER, *map(str, command)],
                              capture_output=True, text=True, check=True, cwd=cwd)
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        if measured["rc"] not in ok:
            raise RuntimeError(f"{' '.join(map(str, command[:5]))} exited with {measured['rc']}")
        runs.append(measured)
    return {"s": statistics.median(r["s"] for r in runs), "mb": max(r["mb"] for r in runs)}


def compare(commands: dict[str, list], rounds: int = 3,
            before_each: Callable[[], None] | None = None) -> dict[str, dict[str, float]]:
    """Run each command once per round, in turn; return its fastest seconds and largest MB.

    ``before_each`` runs before every command (e.g. to empty the output folder).
    """
    best: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, command in commands.items():
            if before_each is not None:
                before_each()
            measured = measure(command)
            seen = best.setdefault(name, {"s": float("inf"), "mb": 0.0})
            seen["s"] = min(seen["s"], measured["s"])
            seen["mb"] = max(seen["mb"], measured["mb"])
    return best


def python(code: str) -> list[str]:
    """The command that runs ``code`` in a new Python process."""
    return [sys.executable, "-c", code]


def row(what: str, value: float, unit: str, reference: str, reference_value: float,
        target: str, met: bool) -> dict:
    """One table row; the ratio is ``value / reference_value``."""
    ratio = value / reference_value if reference_value else float("nan")
    return {"what": what, "value": round(value, 3), "unit": unit, "reference": reference,
            "reference_value": round(reference_value, 3), "ratio": round(ratio, 2),
            "target": target, "met": bool(met)}
