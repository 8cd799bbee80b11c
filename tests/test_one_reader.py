"""One DICOM reader for every command: the same file is accepted, or refused with the same
reason, by the DICOM de-identification, the BIDS conversion and the audit's harvest."""

from __future__ import annotations

import pydicom
import pytest
from dicom_helpers import without_file_meta
from pydicom.data import get_testdata_file

from mrishare import audit, bids, dicom, readers
from mrishare.errors import BadInputError
from mrishare.keys import Key


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    (folder / "bare.dcm").write_bytes(without_file_meta(ds))  # an old export: no file meta
    (folder / "notes.dcm").write_text("scanned on Monday, see the paper list\n")
    (folder / "empty.dcm").write_bytes(b"")
    return folder, str(ds.PatientName)


def _reasons(problems) -> dict[str, str]:
    return {p.source.rsplit("/", 1)[-1]: p.reason if hasattr(p, "reason") else p.message
            for p in problems}


def test_every_command_takes_the_bare_file_and_gives_the_readers_reasons(export, tmp_path):
    folder, name = export
    expected = {}
    for file in ("notes.dcm", "empty.dcm"):
        with pytest.raises(BadInputError) as refused:
            readers.read_dicom(folder / file)
        expected[file] = str(refused.value)
    assert readers.is_dicom(folder / "bare.dcm")

    report = dicom.deidentify_folder(folder, tmp_path / "deid", Key(bytes(32)))
    assert _reasons(report.failed) == expected
    assert len(list((tmp_path / "deid").rglob("*.dcm"))) == 1  # the bare file, written

    found, skipped = bids.find_series(folder)
    assert _reasons(skipped) == expected
    assert [len(one.files) for one in found] == [1]

    harvested = audit.harvest(folder)
    assert any(value.value == name.split("^")[0] for value in harvested.values.values())
