"""NIfTI scrubbing: header text fields, extensions, stray bytes and gzip headers."""

from __future__ import annotations

import gzip
import io

import nibabel as nib
import numpy as np
import pydicom
import pytest
from nibabel import nifti1
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from mrishare import nifti

PLANTED = {
    "descrip": b"Jansen TE=3;Time=093012",
    "aux_file": b"VUMC0047131 moved",
    "intent_name": b"M.Jansen",
    "db_name": b"PACS-Voorbeeld",
    "data_type": b"19870412",
}
EXTENSION_TEXT = b"Patient Marieke Jansen, VUMC0047131, seen 2024-03-11"
SECRETS = [b"Jansen", b"VUMC0047131", b"093012", b"Voorbeeld", b"19870412", b"2024-03-11",
           b"Marieke", b"original_name", b"GAPSECRET", b"TRAILSECRET"]


def dicom_bytes() -> bytes:
    """A small DICOM file (preamble, meta and patient module) as bytes."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.PatientName = "Jansen^Marieke"
    ds.PatientID = "VUMC0047131"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def dirty_image(klass=nib.Nifti1Image, endian="<", extensions=((6, EXTENSION_TEXT),)):
    """An image with scaling, differing qform/sform, units and identifiers planted."""
    data = np.arange(4 * 5 * 3, dtype=np.int16).reshape(4, 5, 3) - 20
    qform = np.array([[0, -2, 0, 40], [2.1, 0, 0, -30], [0, 0, 3, 12], [0, 0, 0, 1]], float)
    sform = qform.copy()
    sform[:3, 3] += [1.5, -2.0, 0.5]
    img = klass(data, sform)
    header = img.header
    header.set_qform(qform, code=1)
    header.set_sform(sform, code=2)
    header.set_xyzt_units("mm", "msec")
    header.set_slope_inter(2.5, -3.0)
    for name, value in PLANTED.items():
        if name in header.keys():
            header[name] = value
    for code, content in extensions:
        header.extensions.append(nifti1.Nifti1Extension(code, content))
    raw = img.to_bytes()
    if endian == ">":
        hdr = klass.header_class.from_fileobj(io.BytesIO(raw), check=False)
        swapped = hdr.as_byteswapped(">")
        swapped.extensions = hdr.extensions
        out = io.BytesIO()
        swapped.write_to(out)
        raw = out.getvalue() + data.astype(">i2").tobytes(order="F")
    return raw


def write(path, raw: bytes, gz_name: str | None = "original_name.nii", mtime=1710145812):
    """Write raw NIfTI bytes, gzipped the way the gzip program does (name and time kept)."""
    if path.name.endswith(".gz"):
        with open(path, "wb") as f, gzip.GzipFile(gz_name, "wb", fileobj=f, mtime=mtime) as gz:
            gz.write(raw)
    else:
        path.write_bytes(raw)
    return path


def everything(path) -> bytes:
    raw = path.read_bytes()
    return raw + (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else b"")


@pytest.mark.parametrize("klass", [nib.Nifti1Image, nib.Nifti2Image])
@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("out_name", ["out.nii.gz", "out.nii"])
def test_scrub_nifti_leaves_no_identifier_and_keeps_the_image(tmp_path, klass, endian, out_name):
    src = write(tmp_path / "in.nii.gz", dirty_image(klass, endian))
    before = src.read_bytes()
    findings = nifti.scrub_nifti(src, tmp_path / out_name)
    out = tmp_path / out_name
    assert src.read_bytes() == before  # the source is never modified
    assert {f.carrier for f in findings} >= {"descrip", "aux_file", "intent_name",
                                             "extension[0]"}
    blob = everything(out)
    for secret in SECRETS:
        assert secret.lower() not in blob.lower(), secret
    a, b = nib.load(src), nib.load(out)
    assert nifti.header_findings(out) == []
    assert len(b.header.extensions) == 0
    for field in nifti.FREE_TEXT_FIELDS:
        if field in b.header.keys():
            assert not np.asarray(b.header[field]).tobytes().strip(b"\x00"), field
    # geometry, units, type and scaling unchanged; stored integers identical
    np.testing.assert_array_equal(a.header.get_qform(), b.header.get_qform())
    np.testing.assert_array_equal(a.header.get_sform(), b.header.get_sform())
    assert (int(a.header["qform_code"]), int(a.header["sform_code"])) == (1, 2)
    assert (int(b.header["qform_code"]), int(b.header["sform_code"])) == (1, 2)
    assert b.header.get_xyzt_units() == a.header.get_xyzt_units() == ("mm", "msec")
    assert b.get_data_dtype() == a.get_data_dtype()
    assert (b.dataobj.slope, b.dataobj.inter) == (a.dataobj.slope, a.dataobj.inter) == (2.5, -3)
    np.testing.assert_array_equal(b.dataobj.get_unscaled(), a.dataobj.get_unscaled())
    if out_name.endswith(".gz"):
        assert nifti.gzip_header(out) == {"name": None, "mtime": 0, "comment": None}


def test_stray_bytes_between_header_and_data_and_after_the_data_are_dropped(tmp_path):
    img = nib.Nifti1Image(np.ones((3, 3, 3), np.uint8), np.eye(4))
    header = img.header.copy()
    header["vox_offset"] = 352 + 48
    out = io.BytesIO()
    header.write_to(out)
    raw = out.getvalue() + b"GAPSECRET".ljust(48, b"\x00") + b"\x01" * 27 + b"TRAILSECRET"
    src = write(tmp_path / "gap.nii", raw)
    assert {f.carrier for f in nifti.header_findings(src)} == {"gap bytes", "trailing bytes"}
    nifti.scrub_nifti(src, tmp_path / "clean.nii.gz")
    blob = everything(tmp_path / "clean.nii.gz")
    assert b"GAPSECRET" not in blob and b"TRAILSECRET" not in blob
    assert nib.load(tmp_path / "clean.nii.gz").get_fdata().sum() == 27


@pytest.mark.parametrize("code", [2, 6, 40])
def test_a_dicom_header_in_an_extension_is_refused_with_the_file_named(tmp_path, code):
    src = write(tmp_path / "with_dicom.nii.gz", dirty_image(extensions=[(code, dicom_bytes())]))
    assert nifti.dicom_extensions(src) == [0]
    assert [f.level for f in nifti.header_findings(src) if f.carrier == "extension[0]"] == [
        "error"]
    with pytest.raises(nifti.DicomExtensionError, match=r"with_dicom\.nii\.gz.*DICOM header"):
        nifti.scrub_nifti(src, tmp_path / "out.nii.gz")
    assert not (tmp_path / "out.nii.gz").exists()
    nifti.scrub_nifti(src, tmp_path / "out.nii.gz", allow_dicom_extension=True,
                      keep_extensions=[code])
    assert b"Jansen" not in everything(tmp_path / "out.nii.gz")
    assert len(nib.load(tmp_path / "out.nii.gz").header.extensions) == 0


def test_extensions_on_the_safe_list_stay_and_others_go(tmp_path):
    src = write(tmp_path / "two.nii", dirty_image(extensions=[(6, b"keep me"), (4, b"afni")]))
    nifti.scrub_nifti(src, tmp_path / "out.nii", keep_extensions={6})
    kept = nib.load(tmp_path / "out.nii").header.extensions
    assert [(e.get_code(), e.content.rstrip(b"\x00")) for e in kept] == [(6, b"keep me")]
    assert nifti.SAFE_EXTENSIONS == frozenset()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda raw: gzip.compress(raw)[:-40], r"broken\.nii\.gz is a damaged gzip file"),
        (lambda raw: gzip.compress(raw)[:30], r"broken\.nii\.gz is a damaged gzip file"),
        (lambda raw: raw, r"broken\.nii\.gz ends in \.gz but is not gzip"),
        (lambda raw: gzip.compress(b"hello world, not nifti"), r"broken\.nii\.gz is not a NIfTI"),
        (lambda raw: gzip.compress(raw[:-10]), r"broken\.nii\.gz is cut short"),
    ],
)
def test_bad_files_give_a_clear_error_naming_the_file(tmp_path, damage, message):
    src = tmp_path / "broken.nii.gz"
    src.write_bytes(damage(dirty_image()))
    with pytest.raises(nifti.NiftiReadError, match=message):
        nifti.scrub_nifti(src, tmp_path / "out.nii.gz")
    assert list(tmp_path.iterdir()) == [src]  # nothing half-written


def test_scrub_header_and_save_nifti_keep_stored_values_and_scaling(tmp_path):
    src = write(tmp_path / "in.nii.gz", dirty_image())
    img = nib.load(src)
    clean = nifti.scrub_header(img)
    assert nifti.header_findings(clean) == []
    assert nifti.header_findings(img)  # the input image is left as it was
    out = nifti.save_nifti(clean, tmp_path / "saved.nii.gz")
    again = nib.load(out)
    np.testing.assert_array_equal(again.dataobj.get_unscaled(), img.dataobj.get_unscaled())
    assert (again.dataobj.slope, again.dataobj.inter) == (2.5, -3.0)
    np.testing.assert_array_equal(again.header.get_qform(), img.header.get_qform())
    np.testing.assert_array_equal(again.affine, img.affine)
    assert nifti.gzip_header(out)["mtime"] == 0 and nifti.gzip_header(out)["name"] is None
    assert nifti.header_findings(out) == []


def test_header_findings_reports_the_gzip_header(tmp_path):
    src = write(tmp_path / "in.nii.gz", dirty_image(extensions=()))
    carriers = {f.carrier for f in nifti.header_findings(src)}
    assert {"gzip name", "gzip mtime", "descrip", "aux_file", "intent_name"} <= carriers


def test_dicom_bytes_helper_is_dicom():
    assert pydicom.dcmread(io.BytesIO(dicom_bytes())).PatientID == "VUMC0047131"
