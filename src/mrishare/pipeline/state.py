"""The private state of a prepared dataset: one record per participant, and the shared files.

Each participant's :class:`~mrishare.pipeline.ParticipantResult` is kept as JSON in the
report folder (``state/<label>.json``), so that a later run skips the participants already
done and several jobs of one cohort can fill one dataset. The dataset's shared files
(``participants.tsv``, the README) are rebuilt from every state, under a lock
(:func:`lock`, a :class:`filelock.FileLock`), so jobs update them in turn.

Examples
--------
>>> import tempfile, pathlib
>>> from mrishare.pipeline import ParticipantResult
>>> report = pathlib.Path(tempfile.mkdtemp())
>>> _ = save_state(report, ParticipantResult("a", row={"age": "36"}))
>>> load_state(report, "a").row
{'age': '36'}
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

from mrishare._paths import write_json, write_text, write_tsv
from mrishare.bids.dataset import dataset_readme
from mrishare.errors import PrepareError
from mrishare.pipeline.records import ParticipantResult

__all__ = ["load_state", "load_states", "lock", "participants_row", "save_state",
           "state_path", "update_shared_files"]

@contextlib.contextmanager
def lock(folder: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.lock``: jobs of one cohort update shared files in turn.

    Works on every platform (:class:`filelock.FileLock`); a second job waits until the
    first releases the lock.

    Parameters
    ----------
    folder : str or Path
        The report folder (created when missing).

    Yields
    ------
    None
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        yield


def state_path(report: str | Path, label: str) -> Path:
    """Return the state file of a participant: ``<report>/state/<label>.json``.

    Parameters
    ----------
    report : str or Path
    label : str

    Returns
    -------
    Path
    """
    return Path(report) / "state" / f"{label}.json"


def load_state(report: str | Path, label: str) -> ParticipantResult | None:
    """Read a participant's state, or None when there is none.

    Parameters
    ----------
    report : str or Path
        The report folder.
    label : str
        The participant's label.

    Returns
    -------
    ParticipantResult or None

    Raises
    ------
    PrepareError
        When the state file is damaged: the message names it and says what to do.
    """
    path = state_path(report, label)
    if not path.is_file():
        return None
    try:
        result = ParticipantResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise PrepareError(
            f"The state file {path} is damaged ({error}). Delete it and run prepare again: "
            f"participant {label} will then be prepared again."
        ) from None
    if result.label != label:
        raise PrepareError(f"The state file {path} is about participant {result.label}, not "
                           f"{label}. Delete it and run prepare again.")
    return result


def load_states(report: str | Path) -> list[ParticipantResult]:
    """Read every participant's state in the report folder, by label.

    Raises
    ------
    PrepareError
        When a state file is damaged.
    """
    return [state for path in sorted((Path(report) / "state").glob("*.json"))
            if (state := load_state(report, path.stem)) is not None]


def save_state(report: str | Path, result: ParticipantResult) -> Path:
    """Write a participant's state (atomically) and return its path.

    Parameters
    ----------
    report : str or Path
    result : ParticipantResult

    Returns
    -------
    Path
    """
    return write_json(state_path(report, result.label), result.to_dict())


def participants_row(table: str | Path, label: str) -> dict[str, str]:
    """Return one participant's row of a ``participants.tsv`` (just the id when absent).

    Parameters
    ----------
    table : str or Path
        A ``participants.tsv`` (written by :func:`mrishare.bids.to_bids`).
    label : str

    Returns
    -------
    dict of str to str
    """
    with Path(table).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("participant_id") == f"sub-{label}":
                return {k: v for k, v in row.items() if k is not None and v is not None}
    return {"participant_id": f"sub-{label}"}


def update_shared_files(dst: str | Path, report: str | Path, reproducible: bool
                        ) -> list[ParticipantResult]:
    """Rebuild ``participants.tsv`` from every participant's state, and the README.

    Call it under :func:`lock`: the table is read from all states and written whole.

    Parameters
    ----------
    dst : str or Path
        The dataset.
    report : str or Path
        Its report folder (where the states are).
    reproducible : bool
        False when a random key was used (the README says so).

    Returns
    -------
    list of ParticipantResult
        The states of the participants whose folder is in the dataset.
    """
    dst = Path(dst)
    states = [s for s in load_states(report) if (dst / f"sub-{s.label}").is_dir()]
    columns = ["participant_id"]
    for state in states:
        columns += [c for c in state.row if c not in columns]
    if states:
        write_tsv(dst / "participants.tsv", columns,
                  [{**state.row, "participant_id": f"sub-{state.label}"} for state in states])
    write_text(dst / "README",
               dataset_readme(defaced=True, random_key=not reproducible, tool="prepare"))
    return states
