"""Tests of mrishare.qc: passes good defacing, fails loudly when a target is missed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mrishare import deface, qc
from mrishare.lessons import simulate


@pytest.fixture(scope="module")
def result():
    scan = simulate.simulate_scan(seed=61, zooms=(3.0, 3.0, 3.0), truth=False)
    return deface.deface(scan.image)


def test_good_result_passes(result):
    report = qc.check(result)
    assert report.passed
    values = report.as_dict()
    assert values["brain_removed_ml"] == 0.0
    assert values["face_removed_share"] >= 0.95
    assert "QC PASSED" in qc.summary(report)


def test_cut_brain_fails(result):
    removed = result.removed | result.brain  # a defacer that took the brain too
    bad = dataclasses.replace(result, removed=removed)
    report = qc.check(bad)
    assert not report.passed
    assert report.as_dict()["brain_removed_ml"] > 100
    assert "FAILED" in qc.summary(report)
    assert [m.name for m in report.measures if not m.passed] == ["brain_removed_ml"]


def test_face_left_fails(result):
    removed = result.removed.copy()
    removed[tuple(np.argwhere(result.face)[::3].T)] = False  # a third of the face kept
    report = qc.check(dataclasses.replace(result, removed=removed))
    assert not report.passed
    assert 0.5 < report.as_dict()["face_removed_share"] < 0.95


def test_figure(result):
    figure = qc.figure(result, step_mm=4.0)
    assert "PASSED" in figure._suptitle.get_text()
