"""Running dcm2niix: a study's series in one run per job give what each series alone gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from mrishare import bids, data
from mrishare.bids import convert


@pytest.fixture(scope="module")
def sample_series():
    found = bids.find_series(data.sample_path("dicom_study"))[0]
    return sorted(found, key=lambda s: s.folder)


def _names_and_bytes(conversion: convert.Conversion) -> dict[str, bytes]:
    """Every file written for a series (image, sidecar, .bval/.bvec) by name."""
    folders = {image.parent for image in conversion.images}
    return {p.name: p.read_bytes() for folder in folders for p in folder.iterdir()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_study_run_writes_what_each_series_alone_writes(sample_series, tmp_path, jobs):
    together = convert.convert_study([(s.uid, s.files) for s in sample_series],
                                     tmp_path / "study", jobs)
    assert len(together) == len(sample_series)
    names = set()
    for number, (series, done) in enumerate(zip(sample_series, together, strict=True)):
        alone = convert.convert_series(series.files, tmp_path / f"alone-{number}")
        assert done.images and not done.message
        assert _names_and_bytes(done) == _names_and_bytes(alone), series.folder
        names |= {p.name for p in done.images}
    # echoes, phase and the diffusion series are among them
    assert {"image_e2.nii", "image_e1_ph.nii"} <= names


def test_a_series_the_study_run_cannot_convert_is_run_alone_for_its_reason(
        sample_series, tmp_path):
    good = sample_series[0]
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in good.files:
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = ds.SeriesInstanceUID + ".1"
        ds.PixelData = ds.PixelData[:64]
        ds.save_as(broken / path.name)
    broken_files = sorted(broken.iterdir())
    done = convert.convert_study([(good.uid, good.files), (good.uid + ".1", broken_files)],
                                 tmp_path / "work", jobs=1)
    assert len(done[0].images) == 1 and not done[0].message
    assert not done[1].images
    alone = convert.convert_series(broken_files, tmp_path / "alone")
    assert done[1].message == alone.message != ""


def test_an_output_named_after_no_series_given_is_not_used(sample_series, tmp_path,
                                                         monkeypatch):
    series = sample_series[0]
    original = convert.run_dcm2niix

    def run_and_add_a_stranger(src, out, *args):
        result = original(src, out, *args)
        for path in Path(out).iterdir():
            shutil.copy(path, Path(out) / path.name.replace(series.uid, "9.9.9"))
        return result

    monkeypatch.setattr(convert, "run_dcm2niix", run_and_add_a_stranger)
    done = convert.convert_study([(series.uid, series.files)], tmp_path / "work")
    assert [p.name for p in done[0].images] == ["image.nii"]


@pytest.mark.parametrize(("sizes", "jobs", "expected"), [
    ([100, 10, 10, 80], 2, [[0], [1, 2, 3]]),
    ([40, 30, 30, 20], 2, [[0, 3], [1, 2]]),
    ([5, 5, 5], 1, [[0, 1, 2]]),
    ([5], 4, [[0]]),
    ([], 2, []),
])
def test_series_are_split_into_groups_of_similar_size(sizes, jobs, expected):
    assert convert._groups(sizes, jobs) == expected


def test_a_folder_holding_just_the_series_is_linked_whole_else_each_file(sample_series,
                                                                         tmp_path):
    files = sample_series[0].files
    convert._link(files, tmp_path / "whole")
    assert (tmp_path / "whole").is_symlink()
    assert (tmp_path / "whole").resolve() == files[0].parent.resolve()
    convert._link(files[:-1], tmp_path / "some")  # one file of the folder left out
    assert not (tmp_path / "some").is_symlink()
    assert sorted(p.resolve() for p in (tmp_path / "some").iterdir()) == sorted(
        p.resolve() for p in files[:-1])


def test_a_file_dcm2niix_finds_no_image_in_gives_its_reason(tmp_path):
    import nibabel

    shipped = Path(nibabel.__file__).parent / "nicom" / "tests" / "data" / "csa_slice_norm.dcm"
    done = convert.convert_series([shipped], tmp_path / "one")
    assert not done.images and "No valid DICOM images" in done.message
