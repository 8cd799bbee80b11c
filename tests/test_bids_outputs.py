"""Naming the images dcm2niix writes for one series: echoes, magnitude and phase, field maps."""

from __future__ import annotations

import json

import pytest

from mrishare.bids import outputs
from mrishare.errors import BadInputError


def files(tmp_path, names, sidecars=None):
    paths = []
    for name in names:
        path = tmp_path / f"{name}.nii"
        path.write_bytes(b"")
        (tmp_path / f"{name}.json").write_text(json.dumps((sidecars or {}).get(name, {})))
        paths.append(path)
    return paths


def named(found):
    return [(o.image.stem, o.suffix, o.entities) for o in found]


def test_a_single_image_keeps_the_mapped_name(tmp_path):
    assert named(outputs.name_outputs(files(tmp_path, ["image"]), "anat", "T1w")) == [
        ("image", "T1w", ())]


def test_echoes_and_parts_become_entities_by_dcm2niix_postfix(tmp_path):
    found = outputs.name_outputs(files(tmp_path, ["image_e1", "image_e1_ph", "image_e2",
                                                  "image_e2_ph"]), "anat", "MEGRE")
    assert named(found) == [
        ("image_e1", "MEGRE", (("echo", "1"), ("part", "mag"))),
        ("image_e1_ph", "MEGRE", (("echo", "1"), ("part", "phase"))),
        ("image_e2", "MEGRE", (("echo", "2"), ("part", "mag"))),
        ("image_e2_ph", "MEGRE", (("echo", "2"), ("part", "phase")))]


def test_echo_number_and_phase_also_come_from_the_sidecar(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths = files(tmp_path / "a", ["image"], {
        "image": {"EchoNumber": 1, "ImageType": ["ORIGINAL", "PRIMARY", "M"]}})
    paths += files(tmp_path / "b", ["image"], {
        "image": {"EchoNumber": 1, "ImageType": ["ORIGINAL", "PRIMARY", "P", "PHASE"]}})
    found = outputs.name_outputs(paths, "func", "bold")
    assert [o.entities for o in found] == [(("part", "mag"),), (("part", "phase"),)]


def test_a_phasediff_field_map_pairs_magnitudes_and_phase(tmp_path):
    magnitudes = files(tmp_path, ["image_e1", "image_e2"])
    assert named(outputs.name_outputs(magnitudes, "fmap", "magnitude1")) == [
        ("image_e1", "magnitude1", ()), ("image_e2", "magnitude2", ())]
    phase = files(tmp_path, ["image_e2_ph"])
    assert named(outputs.name_outputs(phase, "fmap", "phasediff")) == [
        ("image_e2_ph", "phasediff", ())]
    both = outputs.name_outputs(magnitudes + phase, "fmap", "phasediff")  # GE/Philips style
    assert [o.suffix for o in both] == ["magnitude1", "magnitude2", "phasediff"]


@pytest.mark.parametrize("names, datatype, suffix, message", [
    (["image", "image_i00002"], "anat", "T1w", "mixed geometry"),
    (["image_e1", "image_e2"], "dwi", "dwi", "BIDS has no echo entity for dwi/dwi"),
    (["image_e1", "image_e2"], "fmap", "phasediff", "no phase image"),
    (["image_e1", "image_e1_ph"], "fmap", "magnitude1", "map it as phasediff"),
    (["image_e1", "image_e2", "image_e3"], "fmap", "magnitude1", "two of each at most"),
])
def test_images_that_cannot_be_told_apart_are_refused_with_the_reason(tmp_path, names,
                                                                      datatype, suffix,
                                                                      message):
    with pytest.raises(BadInputError, match=message):
        outputs.name_outputs(files(tmp_path, names), datatype, suffix)
