"""Tests of mrishare.lessons.render: the book's slider render."""

from __future__ import annotations

import io
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np
import pytest

from mrishare import data, render
from mrishare.lessons import render as lessons_render


def test_picture_png_round_trip():
    picture = np.zeros((5, 7))
    picture[2, 3] = 1.0
    back = mpimg.imread(io.BytesIO(lessons_render.picture_png(picture, scale=3)))
    assert back.shape[:2] == (15, 21)
    assert back[7, 10, 0] == pytest.approx(1.0) and back[0, 0, 0] == pytest.approx(0.0)


def test_interactive_face_has_no_output_widget():
    """An Output widget makes nbclient talk to the kernel mid-cell: the build can stall."""
    widgets = pytest.importorskip("ipywidgets")
    head = data.load_sample("template_head")
    box = lessons_render.interactive_face(head, step_mm=6.0)
    angle, lift = box.children[0].children
    picture = box.children[1]
    assert isinstance(picture, widgets.Image)
    front = picture.value
    expected = lessons_render.picture_png(render.face_render(head, 0.0, step_mm=6.0))
    assert front == expected
    angle.value = 90
    assert picture.value != front
    assert picture.value == lessons_render.picture_png(
        render.face_render(head, 90.0, step_mm=6.0))
    assert lift.value == 0


def test_the_core_does_not_import_the_lessons():
    code = ("import sys, mrishare.render, mrishare.qc, mrishare.deface; "
            "print(any(m.startswith('mrishare.lessons') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
