"""Face renders: the face shows before defacing and not after; renders of a reduced grid."""

from __future__ import annotations

import numpy as np
import pytest

from mrishare import data, deface, render
from mrishare.lessons import simulate


def _face_relief(picture: np.ndarray) -> float:
    """Variation of shading in the lower middle of a front view (nose, mouth, eyes)."""
    rows, cols = picture.shape
    window = picture[int(rows * 0.35): int(rows * 0.75), int(cols * 0.35): int(cols * 0.65)]
    return float(np.std(window[window > 0])) if (window > 0).any() else 0.0


def test_template_face_renders():
    front = render.face_render(data.load_sample("template_head"), "front", step_mm=2.0)
    assert front.shape[0] == front.shape[1]
    assert 0.0 <= front.min() and front.max() <= 1.0
    assert (front > 0).mean() > 0.2  # a head fills a good part of the picture


def test_a_path_renders_as_the_loaded_image():
    path = data.sample_path("participant_T2w")
    from_path = render.face_render(path, "right", step_mm=4.0)
    assert np.array_equal(from_path, render.face_render(data.load_sample("participant_T2w"),
                                                        "right", step_mm=4.0))


@pytest.mark.parametrize("axes", ["RAS", "LPS", "ASR"])
def test_same_face_whatever_the_grid(axes):
    """The render is made in world space: the voxel order does not change the picture."""
    scan = simulate.simulate_scan(seed=7, zooms=(2.5, 2.5, 2.5), axes=axes, truth=False,
                                  max_oblique_deg=0, noise=0.0, bias=0.0)
    front = render.face_render(scan.image, "front", step_mm=2.5)
    reference = simulate.simulate_scan(seed=7, zooms=(2.5, 2.5, 2.5), truth=False,
                                       max_oblique_deg=0, noise=0.0, bias=0.0)
    expected = render.face_render(reference.image, "front", step_mm=2.5)
    assert front.shape == expected.shape
    assert np.mean((front > 0) == (expected > 0)) > 0.95


def test_defaced_face_is_flat():
    scan = simulate.simulate_scan(seed=8, zooms=(2.5, 2.5, 2.5), truth=False)
    result = deface.deface(scan.image)
    frame = result.registration.matrix
    before = render.face_render(scan.image, "right", step_mm=2.5, frame=frame)
    after = render.face_render(result.image, "right", step_mm=2.5, frame=frame)
    # Seen from the side, the head loses its front-lower part: fewer lit pixels in the
    # lower right quarter (where nose, mouth and chin were).
    rows, cols = before.shape
    quarter = (slice(rows // 2, rows), slice(cols // 2, cols))
    assert (after[quarter] > 0).sum() < 0.6 * (before[quarter] > 0).sum()
    assert _face_relief(render.face_render(scan.image, "front", step_mm=2.5, frame=frame)) > 0


def test_figures():
    head = data.load_sample("template_head")
    assert len(render.before_after(head, head, step_mm=4.0).axes) == 4
    figure = render.show_face(head, ("front", 45.0), step_mm=4.0, title="template")
    assert [ax.get_title() for ax in figure.axes] == ["front", "45 deg"]
    assert figure.get_suptitle() == "template"


def test_surface_threshold_empty():
    assert render.surface_threshold(np.zeros(10)) == float("inf")


def test_a_reduced_grid_renders_as_the_image_it_came_from():
    head = data.load_sample("template_head")
    grid = render.reduce_for_render(np.asarray(head.dataobj), head.affine, 4.0)
    zooms = head.header.get_zooms()[:3]
    assert render.render_factors(head.affine, 4.0, head.shape) == [int(4.0 / z) for z in zooms]
    from_image = render.Head(head, step_mm=4.0).render(30.0)
    from_grid = render.Head(None, step_mm=4.0, grid=grid).render(30.0)
    assert np.array_equal(from_image, from_grid)


def test_a_scan_too_small_to_reduce_keeps_its_voxels():
    assert render.render_factors(np.eye(4) * 0.5, 2.0, (6, 40, 40)) == [1, 1, 1]
