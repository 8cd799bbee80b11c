"""The NIfTI part of mrishare.readers: one loader and one writer, the same messages."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest

from mrishare import nifti, readers
from mrishare.errors import NiftiReadError


def image_bytes() -> bytes:
    img = nib.Nifti1Image(np.arange(60, dtype=np.int16).reshape(3, 4, 5), np.eye(4))
    img.header.set_slope_inter(2.0, 1.0)
    return img.to_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda raw: gzip.compress(raw)[:-40], r"broken\.nii\.gz is a damaged gzip file"),
        (lambda raw: raw, r"broken\.nii\.gz ends in \.gz but is not gzip-compressed"),
        (lambda raw: gzip.compress(b"hello, not nifti"), r"broken\.nii\.gz is not a NIfTI file"),
        (lambda raw: gzip.compress(raw[:200]), r"cut short inside its 348-byte NIfTI header"),
        (lambda raw: gzip.compress(raw[:-10]), r"broken\.nii\.gz is cut short: the header"),
    ],
)
@pytest.mark.parametrize("reader", [readers.load_nifti, readers.read_nifti_raw])
def test_every_reader_gives_the_same_message_naming_the_file(tmp_path, content, message,
                                                              reader):
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(content(image_bytes()))
    with pytest.raises(NiftiReadError, match=message):
        reader(path)


def test_a_missing_file_and_a_nifti_pair_are_refused_with_advice(tmp_path):
    with pytest.raises(NiftiReadError, match=r"Cannot read .*missing\.nii"):
        readers.load_nifti(tmp_path / "missing.nii")
    nib.save(nib.Nifti1Pair(np.zeros((2, 2, 2), np.uint8), np.eye(4)), tmp_path / "pair.hdr")
    with pytest.raises(NiftiReadError, match=r"pair\.hdr.*NIfTI pair.*nib\.save"):
        readers.read_nifti_raw(tmp_path / "pair.hdr")


def test_read_and_write_raw_copy_the_data_block_byte_for_byte(tmp_path):
    source = tmp_path / "in.nii"
    source.write_bytes(image_bytes() + b"TRAILING")
    raw = readers.read_nifti_raw(source)
    assert (raw.gap, raw.trailing) == (0, 8)
    out = readers.write_nifti_raw(raw.header, raw.data, tmp_path / "out.nii.gz")
    again = readers.read_nifti_raw(out)
    assert again.data == raw.data and again.trailing == 0
    assert out.read_bytes()[3:8] == b"\x00" * 5  # no file name flag, mtime 0
    loaded = nib.load(out)
    assert (loaded.dataobj.slope, loaded.dataobj.inter) == (2.0, 1.0)


def test_save_nifti_of_an_array_image_writes_the_array(tmp_path):
    data = np.linspace(0, 1, 24, dtype=np.float32).reshape(2, 3, 4)
    out = readers.save_nifti(nib.Nifti1Image(data, np.diag([1, 2, 3, 1])), tmp_path / "a.nii")
    np.testing.assert_array_equal(nib.load(out).get_fdata(dtype=np.float32), data)


def test_save_nifti_keeps_stored_integers_and_writes_the_same_bytes_twice(tmp_path):
    source = tmp_path / "in.nii"
    source.write_bytes(image_bytes())
    img = readers.load_nifti(source)
    first = readers.save_nifti(img, tmp_path / "a.nii.gz")
    second = readers.save_nifti(img, tmp_path / "b.nii.gz")
    assert first.read_bytes() == second.read_bytes()
    np.testing.assert_array_equal(nib.load(first).dataobj.get_unscaled(),
                                  img.dataobj.get_unscaled())
    assert nifti.gzip_header(first) == {"name": None, "mtime": 0, "comment": None}


def test_write_gzip_is_reproducible_and_takes_chunks(tmp_path):
    one = readers.write_gzip(tmp_path / "one.gz", b"abcdef")
    two = readers.write_gzip(tmp_path / "two.gz", [b"abc", b"def"])
    assert one.read_bytes() == two.read_bytes() and gzip.decompress(one.read_bytes()) == b"abcdef"
    assert one.read_bytes()[:2] == readers.GZIP_MAGIC


def test_nifti_names_the_readers_functions():
    """Modules that import them from mrishare.nifti get the one loader and writer."""
    assert nifti.load_nifti is readers.load_nifti
    assert nifti.save_nifti is readers.save_nifti
    assert nifti.write_gzip is readers.write_gzip
