"""Checking a dataset with the BIDS validator, offline.

Examples
--------
>>> from pathlib import Path
>>> from mrishare.bids import validator
>>> Path(validator.validator_path()).name
'bids-validator-deno'
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["validate", "validator_path"]


def validator_path() -> str:
    """Return the BIDS validator program (``bids-validator-deno``, from PyPI).

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        When it is not installed, with the command that installs it.

    Examples
    --------
    >>> Path(validator_path()).is_file()
    True
    """
    here = Path(sys.executable).with_name("bids-validator-deno")
    found = str(here) if here.exists() else shutil.which("bids-validator-deno")
    if not found:
        raise FileNotFoundError("The BIDS validator is not installed. Install it with "
                                "'pip install bids-validator-deno' (it runs offline).")
    return found


def validate(dataset: str | Path) -> Any:
    """Run the BIDS validator offline and count its issues by severity, code and field.

    Parameters
    ----------
    dataset : str or Path
        A BIDS dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``severity``, ``code``, ``field`` and ``count``; errors first.

    Raises
    ------
    RuntimeError
        When the validator gives no report (with what it said).

    Examples
    --------
    >>> import tempfile
    >>> from mrishare import bids, data, keys
    >>> out = Path(tempfile.mkdtemp()) / "bids"
    >>> _ = bids.to_bids(data.sample_path("dicom_study"), out, keys.Key(bytes(32)))
    >>> checked = validate(out)
    >>> int(checked.loc[checked.severity == "error", "count"].sum())
    0
    """
    import pandas as pd

    result = subprocess.run([validator_path(), str(dataset), "--format", "json"],
                            capture_output=True, text=True, check=False, timeout=600)
    try:
        issues = json.loads(result.stdout)["issues"]["issues"]
    except (json.JSONDecodeError, KeyError):
        raise RuntimeError(f"The BIDS validator gave no report (exit {result.returncode}): "
                           f"{result.stderr.strip()[:300]}") from None
    table = pd.DataFrame(
        [(i["severity"], i["code"], i.get("subCode") or "") for i in issues],
        columns=["severity", "code", "field"],
    )
    counted = table.value_counts().rename("count").reset_index()
    return counted.sort_values(["severity", "code", "field"]).reset_index(drop=True)
