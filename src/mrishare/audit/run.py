"""Audit a folder: search every file and path for identifiers and risks.

Examples
--------
>>> import tempfile, pathlib
>>> from mrishare.audit import IdentifierSet
>>> with tempfile.TemporaryDirectory() as tmp:
...     folder = pathlib.Path(tmp, "dataset")
...     folder.mkdir()
...     _ = (folder / "notes.txt").write_text("scanned by Tom Visser")
...     ids = IdentifierSet()
...     ids.add_value("Visser^Tom", "staff name")
...     [(f.file, f.kind) for f in audit(folder, ids, check_face=False).findings]
[('notes.txt', 'staff name')]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mrishare.audit.harvesting import harvest
from mrishare.audit.report import AuditReport
from mrishare.audit.search import FileSearch, face_checker, is_nifti, profile_actions
from mrishare.audit.values import IdentifierSet

__all__ = ["audit"]


def audit(
    directory: str | Path,
    identifiers: IdentifierSet | None = None,
    *,
    against: str | Path | None = None,
    check_face: bool = True,
    check_dicom: bool = True,
    exclude: Iterable[str | Path] = (),
) -> AuditReport:
    """Search a folder for identifiers and risks.

    Every path name is searched; every file's bytes (gzip content decompressed, its gzip
    header too), and, by format, DICOM elements (private, nested, file meta), NIfTI header
    fields and extensions, JSON keys and values, and TSV cells.

    Parameters
    ----------
    directory : str or Path
        The folder to audit (a BIDS dataset, a DICOM export, anything).
    identifiers : IdentifierSet, optional
        Values to search for; see :func:`mrishare.audit.harvest` and
        :func:`mrishare.audit.read_identifier_file`.
    against : str or Path, optional
        A source DICOM tree: its identifiers are harvested and added.
    check_face : bool, default True
        Register the template to every 3D anatomical NIfTI image and flag a face that is
        still there (:func:`mrishare.deface.face_present`).
    check_dicom : bool, default True
        Flag ``BurnedInAnnotation`` YES and attributes the basic profile removes.
    exclude : iterable of paths, default ()
        Files or folders inside ``directory`` to leave out (an audit report, say).

    Returns
    -------
    AuditReport
        ``report.clean`` is True when nothing was found.

    Raises
    ------
    NotADirectoryError
        When ``directory`` is not a folder.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(
            f"Expected a folder to audit, got {directory}: it is not a folder (or it does not "
            "exist). Give the folder of the dataset you are about to share."
        )
    ids = identifiers if identifiers is not None else IdentifierSet()
    if against is not None:
        ids = ids | harvest(against)
    report = AuditReport(searched=ids.counts())
    excluded = [Path(e).resolve() for e in exclude]
    checker = face_checker(report.not_checked) if check_face else None
    profile = profile_actions(report.not_checked) if check_dicom else None
    if not len(ids):
        report.not_checked.append("known values: no identifiers given (use against=SRC)")

    paths = [p for p in sorted(directory.rglob("*"))
             if not any(p.resolve() == e or e in p.resolve().parents for e in excluded)]
    for path in paths:
        search = FileSearch(ids, path.relative_to(directory).as_posix())
        search.search("path name", path.name)
        if path.is_file():
            report.files += 1
            try:
                data = search.content(path)
            except OSError as error:
                search.add("whole file", "unreadable", str(error), "warning")
                report.findings += search.findings
                continue
            name = path.name.lower()
            if is_nifti(data):
                image = search.search_nifti(data)
                if check_face:
                    search.check_face(image, checker)
            elif name.endswith((".json", ".json.gz")):
                search.search_json(data)
            elif name.endswith((".tsv", ".tsv.gz")):
                search.search_tsv(data)
            else:
                search.search_dicom(path, data, profile)
            search.search_bytes(data)
        report.findings += search.findings
        report.not_checked += search.not_checked
    return report
