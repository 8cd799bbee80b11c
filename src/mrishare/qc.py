"""Check each defaced image: the face removed, and the brain left alone.

For every defaced image, :func:`check` measures, on the image's own grid:

* **brain removed**: voxels of the template's brain mask (carried by the same transform
  as the face mask) that were zeroed.
* **face removed**: the share of the template's face region, where the scan shows tissue,
  that was zeroed.
* **head fit**: how well the registered template head overlaps the scan's head (Dice);
  below its target the masks above cannot be trusted.

The targets, and why each is what it is, are policy: they live in
``rules/deface_qc.yaml`` (read by :func:`mrishare.deface.load_targets`); today none of the
brain, at least 95% of the face region and a fit of at least 0.85.

A result that misses a target is a failure: :attr:`QCReport.passed` is False and
:func:`summary` says FAILED in capitals, with the reason for the target. The ``mrishare
deface`` command then exits with status 1. :func:`picture` puts the detector's renders
before and after and slices in one picture (:func:`figure` shows it in a notebook).

Examples
--------
>>> from mrishare import data, deface, qc
>>> report = qc.check(deface.deface(data.sample_path("participant_T1w")))
>>> report.passed
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrishare.deface import (
    WHOLE_HEAD_MM,
    DefaceResult,
    Target,
    narrowest_extent_mm,
    voxel_ml,
)
from mrishare.deface import targets as _targets
from mrishare.deface.detect import DetectorCheck
from mrishare.deface.masks import PackedMask
from mrishare.errors import DefaceError
from mrishare.render.planes import PLANES, STEP_MM, orthogonal_planes

__all__ = [
    "TARGETS",
    "Measure",
    "QCReport",
    "check",
    "figure",
    "picture",
    "summary",
    "targets",
]


def targets() -> tuple[Target, ...]:
    """Return the targets every defaced image is held to, from ``rules/deface_qc.yaml``.

    Returns
    -------
    tuple of mrishare.deface.Target
        Brain removed, face region removed, head fit.

    Examples
    --------
    >>> [(t.name, t.comparison, t.value) for t in targets()][0]
    ('brain_removed_ml', '<=', 0.0)
    """
    return _targets.shipped().targets


TARGETS: dict[str, tuple[str, float, str, str]] = {
    t.name: (t.comparison, t.value, t.unit, t.description) for t in targets()
}
"""Measure name -> (comparison, target, unit, description), for code that reads the targets
as tuples; :func:`targets` gives them as records, with the reason for each."""


@dataclass(frozen=True)
class Measure:
    """One QC measurement with its target.

    Parameters
    ----------
    name : str
        The measure (``brain_removed_ml``, ``face_removed_share``, ``head_fit``).
    value : float
        What was measured.
    target : float
        The target it is held to.
    unit : str
        ``"ml"``, ``"share"`` or ``"Dice"``.
    comparison : str
        ``"<="`` or ``">="``.
    description : str
        What the measure is, for people.
    passed : bool
        The target is met.
    why : str
        The reason for the target.
    """

    name: str
    value: float
    target: float
    unit: str
    comparison: str
    description: str
    passed: bool
    why: str = ""

    @property
    def level(self) -> str:
        """Return ``"ok"`` or ``"error"`` (a missed target)."""
        return "ok" if self.passed else "error"


@dataclass
class QCReport:
    """The measures of one defaced image.

    Parameters
    ----------
    measures : list of Measure
        One per target, in the order of :func:`targets`.
    method : str
        The defacing method (``"template"`` or ``"quickshear"``).
    brain_removed_voxels : int
        Brain voxels removed, counted on the image's grid.
    independent_face_share : float or None
        The share of the face region removed, in a region placed by an independent
        registration (NaN when it failed, None when not measured).
    detector : mrishare.deface.detect.DetectorCheck or None
        The face detector before and after (None when not run).
    not_checked : list of str
        Checks that could not run on this image, and why (e.g. the independent registration
        on a slab that holds no whole head).
    """

    measures: list[Measure]
    method: str
    brain_removed_voxels: int
    independent_face_share: float | None = None
    detector: DetectorCheck | None = None
    not_checked: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return True when every target is met and no face is found after defacing."""
        detector_ok = self.detector is None or self.detector.status != "failed"
        return all(m.passed for m in self.measures) and detector_ok

    @property
    def face_found(self) -> tuple[bool | None, bool | None]:
        """Return whether the detector found a face before and after (None: not run)."""
        if self.detector is None:
            return None, None
        return self.detector.before.found, self.detector.after.found

    def measure(self, name: str) -> Measure:
        """Return the measure called ``name``.

        Parameters
        ----------
        name : str
            ``"brain_removed_ml"``, ``"face_removed_share"`` or ``"head_fit"``.

        Returns
        -------
        Measure

        Raises
        ------
        KeyError
            When the report has no such measure.
        """
        for measure in self.measures:
            if measure.name == name:
                return measure
        raise KeyError(f"no measure {name!r}; measured: {[m.name for m in self.measures]}")

    def as_dict(self) -> dict[str, float]:
        """Return measure name -> value (to serialise the report).

        Returns
        -------
        dict
        """
        return {m.name: m.value for m in self.measures}


def _face_share(result: DefaceResult, face: NDArray[np.bool_] | PackedMask,
                every: tuple[slice, ...] = (slice(None),) * 3) -> float:
    """Return the share of ``face`` (where the input showed tissue) that was removed.

    ``face`` is either on the image's grid, one bit per voxel, or an array on a subgrid:
    every n-th voxel of the image, as ``every`` says.
    """
    tissue = result.tissue_bits()
    if isinstance(face, PackedMask):  # counted one bit per voxel: no image-sized array
        total = tissue.count(face)
        inside = tissue.count(face, result.removed_mask)
    else:
        both = face & tissue.unpack(every)
        removed = result.removed_mask.unpack(every)
        total, inside = int(both.sum()), int(np.count_nonzero(both & removed))
    return float(inside / total) if total else 0.0


_CHECK_MM = 2.0  # the independent face region is measured on voxels of about this size


def _independent_share(result: DefaceResult) -> float:
    """Return the face share removed in a region placed by an independent registration."""
    from mrishare.deface.images import affine_of
    from mrishare.deface.template import carry_grid, register_template

    fixed = result.reduced
    if fixed is None:
        from mrishare.deface.template import reduced

        fixed = reduced(result.original, result.original_values())
    try:
        registration = register_template(result.original, fixed=fixed, independent=True,
                                         orientation=result.registration.matrix,
                                         name=result.name)
    except DefaceError:
        return float("nan")
    affine = affine_of(result.original)
    stride = [max(1, int(_CHECK_MM / z)) for z in np.linalg.norm(affine[:3, :3], axis=0)]
    every = tuple(slice(None, None, n) for n in stride)
    shape = tuple(len(range(n)[part]) for n, part in zip(result.image.shape[:3], every,
                                                          strict=True))
    face, _ = carry_grid(registration, affine @ np.diag([*stride, 1.0]), shape)
    return _face_share(result, face, every)


def _detect(result: DefaceResult) -> DetectorCheck:
    """Return the face detector's answer on the input and on the defaced image."""
    from mrishare.deface.detect import detect_faces
    from mrishare.deface.images import affine_of, stored_values
    from mrishare.render import reduce_for_render, render_factors

    frame = result.registration.upright()
    affine, step = affine_of(result.image), _targets.shipped().detector.step_mm
    grid = reduce_for_render(stored_values(result.image), affine, step)
    after = detect_faces(result.image, frame=frame, grid=grid)
    # The input's grid from the defaced one and the removed values, in the same array
    # (the renders after have their own copy): no copy of the image, no second reduction.
    factors = render_factors(affine, step, result.image.shape)
    before = detect_faces(result.original, frame=frame,
                          grid=result.original_reduced(factors, defaced=grid))
    return DetectorCheck(before, after)


def check(result: DefaceResult, *, detector: bool = True, independent: bool = True) -> QCReport:
    """Measure a defacing result against the targets of :func:`targets`.

    Besides the measures in the region the defacing registration placed, two checks that
    do not come from that registration: the face region removed in a region placed by an
    independent registration (QC fails when the two differ by more than the
    ``agreement`` of ``rules/deface_qc.yaml``), and a face detector on renders before and
    after (QC fails when it finds a face after; see :mod:`mrishare.deface.detect`).

    Parameters
    ----------
    result : mrishare.deface.DefaceResult
        From :func:`mrishare.deface.deface` or :func:`mrishare.deface.deface_other`.
    detector : bool, default True
        Run the face detector.
    independent : bool, default True
        Measure the face region removed in an independently registered region.

    Returns
    -------
    QCReport

    Examples
    --------
    >>> from mrishare import data, deface
    >>> report = check(deface.deface(data.sample_path("participant_T1w"), "quickshear"))
    >>> report.measure("brain_removed_ml").value
    0.0
    """
    brain_removed = result.brain_mask.count(result.removed_mask)
    face_share = _face_share(result, result.face_mask)
    values = {
        "brain_removed_ml": brain_removed * voxel_ml(result.original),
        "face_removed_share": face_share,
        "head_fit": float(result.registration.fit),
    }
    measures = [
        Measure(t.name, values[t.name], t.value, t.unit, t.comparison, t.description,
                t.passes(values[t.name]), t.why)
        for t in targets()
    ]
    second, not_checked = None, []
    extent = narrowest_extent_mm(result.original)
    if independent and extent < WHOLE_HEAD_MM:
        not_checked.append(
            f"independent registration: the image covers only {extent:.0f} mm along one axis "
            "(a slab, not a whole head), so the face region cannot be placed a second time")
    elif independent:
        policy = _targets.shipped()
        second = _independent_share(result)
        difference = abs(face_share - second) if np.isfinite(second) else 1.0
        measures.append(Measure(
            "face_share_disagreement", difference, policy.max_disagreement, "share", "<=",
            f"face region removed by an independent registration: {second:.1%}; "
            "difference", bool(difference <= policy.max_disagreement),
            policy.disagreement_why))
    found = _detect(result) if detector else None
    return QCReport(measures=measures, method=result.method,
                    brain_removed_voxels=brain_removed, independent_face_share=second,
                    detector=found, not_checked=not_checked)


def summary(report: QCReport) -> str:
    """Return a few lines for people: each measure, its target, and PASSED or FAILED.

    A missed target is followed by the reason for it.

    Parameters
    ----------
    report : QCReport

    Returns
    -------
    str

    Examples
    --------
    >>> from mrishare import data, deface
    >>> print(summary(check(deface.deface(data.sample_path("participant_T1w")))))
    ... # doctest: +ELLIPSIS
    QC PASSED (template)...
    """
    lines = [f"QC {'PASSED' if report.passed else 'FAILED'} ({report.method})"]
    for m in report.measures:
        value = f"{m.value:.1%}" if m.unit == "share" else f"{m.value:.2f} {m.unit}"
        target = f"{m.target:.0%}" if m.unit == "share" else f"{m.target:g}"
        mark = "ok" if m.passed else "FAILED"
        lines.append(f"  {m.description}: {value} (target {m.comparison} {target}) {mark}")
        if not m.passed and m.why:
            lines.append(f"    why: {m.why}")
    if report.detector is not None:
        status = report.detector.status
        mark = {"passed": "ok", "failed": "FAILED", "could not run": "not checked"}[status]
        lines.append(f"  face detector: {report.detector.sentence()} {mark}")
        if status == "failed":
            lines.append(f"    why: {_targets.shipped().detector.why}")
    lines += [f"  {note} not checked" for note in report.not_checked]
    return "\n".join(lines)


_TILE = 200  # pixels: the longer side of each render in the QC picture


def _title(result: DefaceResult, report: QCReport) -> list[str]:
    """Return the QC picture's title: the verdict, the measures, the detector's answer."""
    assert report.detector is not None
    return [f"QC {'PASSED' if report.passed else 'FAILED'} ({result.method}): brain removed "
            f"{report.measure('brain_removed_ml').value:.1f} ml, face region removed "
            f"{report.measure('face_removed_share').value:.0%}, head fit "
            f"{report.measure('head_fit').value:.2f}",
            f"{report.detector.sentence()}   (slices: red removed, yellow brain)"]


def picture(result: DefaceResult, report: QCReport | None = None, *, title: bool = True
            ) -> NDArray[np.uint8]:
    """Return the QC picture: the detector's renders before and after, and slices.

    Composed with OpenCV as an array (no plotting library), so ``mrishare deface
    --qc-png`` stays light; :func:`figure` shows the same picture in a notebook.

    Parameters
    ----------
    result : mrishare.deface.DefaceResult
        The defaced image.
    report : QCReport, optional
        Its check; made with :func:`check` when not given (or when it has no detector).
    title : bool
        Write the verdict and measures above (in red when QC failed).

    Returns
    -------
    numpy.ndarray
        RGB bytes: one row of renders before defacing, one after (boxes: faces the
        detector found, green with enough votes to count, thin grey below), three slices
        with the removed region outlined in red and the brain in yellow.

    Examples
    --------
    >>> from mrishare import data, deface
    >>> rgb = picture(deface.deface(data.sample_path("participant_T1w")))
    >>> rgb.dtype.name, rgb.shape[2]
    ('uint8', 3)
    """
    from mrishare.render import sheet

    if report is None or report.detector is None:
        report = check(result)
    assert report.detector is not None
    rows = []
    for detection, when in ((report.detector.before, "before"),
                            (report.detector.after, "after")):
        tiles = []
        for view in detection.views:
            tile = sheet.grey(view.picture, size=_TILE)
            zoom = tile.shape[1] / view.picture.shape[1]
            for x, y, w, h, votes in view.boxes:
                face = votes >= view.min_votes
                sheet.box(tile, (x * zoom, y * zoom), w * zoom, h * zoom,
                          "green" if face else "grey", 2 if face else 1)
            if view.faces:
                x, y, _, _, votes = max(view.faces, key=lambda found: found[4])
                sheet.text(tile, f"{votes} hits", (x * zoom + 3, y * zoom + 14), "green",
                           background="black")
            words = f"{when}, {view.view:.0f} deg: {'face' if view.faces else 'no face'}"
            tiles.append(sheet.caption(tile, words))
        rows.append(tiles)
    views, top = orthogonal_planes(result.image, result.removed_mask, result.brain_mask)
    slices = []
    for name, (values, (removed, brain)) in zip(PLANES, views, strict=True):
        tile = sheet.grey(values, top, scale=STEP_MM)  # a pixel a millimetre
        sheet.outline(tile, brain, "yellow")
        sheet.outline(tile, removed, "red")
        slices.append(sheet.caption(tile, name))
    rows.append(slices)
    return sheet.stack(rows, title=_title(result, report) if title else (),
                       colour="black" if report.passed else "red")


def figure(result: DefaceResult, report: QCReport | None = None) -> Any:
    """Return the QC picture of :func:`picture` as a matplotlib figure (for notebooks).

    Parameters
    ----------
    result : mrishare.deface.DefaceResult
        The defaced image.
    report : QCReport, optional
        Its check; made with :func:`check` when not given (or when it has no detector).

    Returns
    -------
    matplotlib.figure.Figure
        The picture, with the verdict and measures as its title (red when QC failed).

    Examples
    --------
    >>> from mrishare import data, deface
    >>> fig = figure(deface.deface(data.sample_path("participant_T1w")))
    >>> fig.get_suptitle().startswith("QC PASSED")
    True
    """
    import matplotlib.pyplot as plt

    if report is None or report.detector is None:
        report = check(result)
    rgb = picture(result, report, title=False)
    height, width = rgb.shape[:2]
    fig = plt.figure(figsize=(width / 90, height / 90 + 0.5))  # 0.5 in for the title
    plt.close(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, height / (height + 45)))
    ax.imshow(rgb)
    ax.set_axis_off()
    fig.suptitle("\n".join(_title(result, report)),
                 color="black" if report.passed else "red", fontsize=10)
    return fig
