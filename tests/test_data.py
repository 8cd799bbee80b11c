"""Tests of mrishare.data: the sample registry, paths, loading and checksums."""

from __future__ import annotations

import shutil

import nibabel as nib
import pydicom
import pytest

from mrishare import data


def test_every_sample_is_listed_with_description_and_licence():
    table = data.list_samples()
    assert len(table) >= 8
    assert table["name"].is_unique
    for column in ("description", "licence", "source", "kind"):
        assert (table[column].str.len() > 0).all(), column


@pytest.mark.parametrize("name", data.list_samples()["name"].tolist())
def test_every_sample_verifies_and_loads(name):
    loaded = data.load_sample(name)
    kind = data.list_samples().set_index("name").loc[name, "kind"]
    expected = {"nifti": nib.Nifti1Image, "dicom": pydicom.Dataset}
    if kind in expected:
        assert isinstance(loaded, expected[kind])
    else:
        assert loaded.is_dir() and any(loaded.rglob("*.dcm"))


def test_unknown_sample_names_the_known_ones():
    with pytest.raises(data.SampleNotFoundError, match="Known samples: .*participant_T1w"):
        data.sample_path("participant_T3w")


@pytest.fixture
def copied_data(tmp_path, monkeypatch):
    """A copy of the data folder that a test may damage; mrishare.data is pointed at it."""
    copy = tmp_path / "samples"
    shutil.copytree(data.data_dir(), copy)
    monkeypatch.setattr(data, "data_dir", lambda: copy)
    return copy


def test_a_changed_byte_is_caught_with_a_clear_message(copied_data):
    target = copied_data / "participant_T1w.nii.gz"
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0xFF
    target.write_bytes(bytes(raw))
    with pytest.raises(data.ChecksumError, match="participant_T1w.nii.gz.*changed or damaged"):
        data.load_sample("participant_T1w")
    # Reading without the check still works, for whoever wants the damaged file.
    assert data.sample_path("participant_T1w", verify=False) == target


def test_a_missing_file_in_a_folder_sample_is_caught(copied_data):
    victim = next((copied_data / "dicom_study").rglob("*.dcm"))
    victim.unlink()
    with pytest.raises(data.ChecksumError, match="is missing"):
        data.verify_sample("dicom_study")


def test_an_extra_file_in_a_folder_sample_is_caught(copied_data):
    (copied_data / "dicom_study" / "notes.txt").write_text("added by hand")
    with pytest.raises(data.ChecksumError, match="not shipped"):
        data.verify_sample("dicom_study")


def test_samples_of_installed_packages_resolve_inside_them():
    assert "pydicom" in data.sample_path("pydicom_MR_small").parts
    assert data.load_sample("nibabel_siemens_dicom").Manufacturer == "SIEMENS"


def test_open_dataset_download_refuses_unknown_names():
    with pytest.raises(data.SampleNotFoundError, match="No open dataset"):
        data.fetch_open_dataset("no-such-dataset")


def test_open_datasets_pin_a_checksum():
    for name, entry in data.OPEN_DATASETS.items():
        assert entry["hash"].split(":")[0] in {"md5", "sha256"}, name
        assert entry["url"].startswith("https://"), name


def test_open_dataset_download_offline_says_so_plainly(monkeypatch, tmp_path):
    import pooch
    import requests

    def no_network(**kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve host")

    monkeypatch.setattr(pooch, "retrieve", no_network)
    with pytest.raises(ConnectionError, match="needs internet.*optional"):
        data.fetch_open_dataset("stanford_t1", cache=tmp_path)
