"""What the files of a conversion carry besides the image: a table for chapter 4.

Examples
--------
>>> import tempfile
>>> from mrishare.lessons.carriers import describe_carriers
>>> describe_carriers(tempfile.mkdtemp()).empty
True
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from mrishare import nifti
from mrishare.bids import sidecars

__all__ = ["describe_carriers"]


def describe_carriers(folder: str | Path) -> Any:
    """List what the files of a conversion carry besides the image, one row per carrier.

    For each ``.nii``/``.nii.gz`` file: its name, the header text fields, extensions and
    gzip header; for each image's ``.json`` sidecar: every field
    :func:`mrishare.bids.scrub_sidecar` would drop (except the fields mrishare writes
    itself, such as ``DeidentificationMethod``).

    Parameters
    ----------
    folder : str or Path
        Output of dcm2niix, or a BIDS dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``carrier`` and ``value``.

    Examples
    --------
    >>> import tempfile
    >>> from mrishare import bids, data
    >>> out = Path(tempfile.mkdtemp())
    >>> series = sorted(data.sample_path("dicom_study").glob("DEBOER*/*/003_*"))[0]
    >>> _ = bids.run_dcm2niix(series, out, "-z", "y", "-f", "%p_%i")
    >>> table = describe_carriers(out)
    >>> "file name" in set(table.carrier), "header descrip" in set(table.carrier)
    (True, True)
    """
    import pandas as pd

    folder = Path(folder)
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.name.endswith((".nii", ".nii.gz")):
            rows.append((name, "file name", path.name))
            header = nifti.load_nifti(path).header
            for field_name in nifti.FREE_TEXT_FIELDS:
                if field_name in header.keys():
                    text = nifti.field_text(header, field_name)
                    if text:
                        rows.append((name, f"header {field_name}", text.decode("latin-1")))
            for index, extension in enumerate(header.extensions):
                rows.append((name, f"extension {index}", f"code {extension.get_code()}"))
            if path.name.endswith(".gz"):
                gz = nifti.gzip_header(path)
                if gz["name"]:
                    rows.append((name, "gzip file name", gz["name"]))
                if gz["mtime"]:
                    when = dt.datetime.fromtimestamp(gz["mtime"], dt.UTC)
                    rows.append((name, "gzip time", when.isoformat(timespec="seconds")))
        elif path.suffix == ".json" and any(path.with_suffix(s).exists()
                                            for s in (".nii", ".nii.gz")):
            sidecar = json.loads(path.read_text())
            _, dropped = sidecars.scrub_sidecar(sidecar)
            rows += [(name, f"sidecar {key}", json.dumps(sidecar[key])) for key in dropped
                     if key not in sidecars.WRITTEN_BY_MRISHARE]
    return pd.DataFrame(rows, columns=["file", "carrier", "value"])
