"""Quality control of defacing: was the face removed, and was the brain left alone?

For every defaced image, :func:`check` measures, on the image's own grid:

* **brain removed**: voxels of the template's brain mask (carried by the same transform
  as the face mask) that were zeroed. Target: none.
* **face removed**: the share of the template's face region, where the scan shows tissue,
  that was zeroed. Target: at least 95%.
* **head fit**: how well the registered template head overlaps the scan's head (Dice).
  Below 0.85 the masks above cannot be trusted.

A result that misses a target is a failure: :attr:`QCReport.passed` is False and
:func:`summary` says FAILED in capitals. The ``mrishare deface`` command then exits with
status 1. :func:`figure` puts the before and after renders and slices in one picture.

Examples
--------
>>> from mrishare import data, deface, qc
>>> report = qc.check(deface.deface(data.sample_path("participant_T1w")))
>>> report.passed
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mrishare.deface import MIN_FIT, DefaceResult, _head_mask, _unscaled

__all__ = ["TARGETS", "Measure", "QCReport", "check", "figure", "summary"]

# name -> (comparison, target, unit, what it means)
TARGETS = {
    "brain_removed_ml": ("<=", 0.0, "ml", "brain (template mask) removed"),
    "face_removed_share": (">=", 0.95, "share", "face region (with tissue) removed"),
    "head_fit": (">=", MIN_FIT, "Dice", "template head overlap after registration"),
}


@dataclass(frozen=True)
class Measure:
    """One QC measurement with its target.

    Attributes
    ----------
    name, value, target, unit, comparison, description, passed
    """

    name: str
    value: float
    target: float
    unit: str
    comparison: str
    description: str
    passed: bool

    @property
    def level(self) -> str:
        """``"ok"`` or ``"error"`` (a missed target)."""
        return "ok" if self.passed else "error"


@dataclass
class QCReport:
    """The measures of one defaced image.

    Attributes
    ----------
    measures : list of Measure
    method : str
    brain_removed_voxels : int
    """

    measures: list[Measure]
    method: str
    brain_removed_voxels: int

    @property
    def passed(self) -> bool:
        """True when every target is met."""
        return all(m.passed for m in self.measures)

    def as_dict(self) -> dict[str, float]:
        """Measure name -> value."""
        return {m.name: m.value for m in self.measures}


def check(result: DefaceResult) -> QCReport:
    """Measure a defacing result against the targets in :data:`TARGETS`.

    Parameters
    ----------
    result : DefaceResult
        From :func:`mrishare.deface.deface` or :func:`mrishare.deface.deface_other`.

    Returns
    -------
    QCReport

    Examples
    --------
    >>> from mrishare import data, deface
    >>> report = check(deface.deface(data.sample_path("participant_T1w"), "quickshear"))
    >>> report.as_dict()["brain_removed_ml"]
    0.0
    """
    zooms = np.linalg.norm(result.original.affine[:3, :3], axis=0)
    voxel_ml = float(zooms.prod()) / 1000.0
    brain_removed = int((result.removed & result.brain).sum())
    stored = np.nan_to_num(_unscaled(result.original).astype(np.float32, copy=False))
    tissue = result.face & _head_mask(stored)
    face_share = float((tissue & result.removed).sum() / tissue.sum()) if tissue.any() else 0.0
    values = {
        "brain_removed_ml": brain_removed * voxel_ml,
        "face_removed_share": face_share,
        "head_fit": float(result.registration.fit),
    }
    measures = []
    for name, (comparison, target, unit, description) in TARGETS.items():
        value = values[name]
        ok = value <= target if comparison == "<=" else value >= target
        measures.append(Measure(name, value, target, unit, comparison, description, bool(ok)))
    return QCReport(measures=measures, method=result.method,
                    brain_removed_voxels=brain_removed)


def summary(report: QCReport) -> str:
    """A few lines for people: each measure, its target, and PASSED or FAILED.

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
    return "\n".join(lines)


def figure(result: DefaceResult, report: QCReport | None = None, *, step_mm: float = 2.0):
    """Before/after face renders and slices with the removed region, in one figure.

    Examples
    --------
    >>> from mrishare import data, deface
    >>> fig = figure(deface.deface(data.sample_path("participant_T1w")), step_mm=3.0)
    >>> len(fig.axes)
    7
    """
    import matplotlib.pyplot as plt

    from mrishare import render

    report = report or check(result)
    fig = plt.figure(figsize=(12, 6.8))
    plt.close(fig)
    top = fig.subplots(1, 4, gridspec_kw={"bottom": 0.45, "top": 0.9})
    bottom = fig.subplots(1, 3, gridspec_kw={"bottom": 0.05, "top": 0.4})
    for pair, image, title in ((top[:2], result.original, "before"),
                               (top[2:], result.image, "after")):
        render.show_face(image, ("front", "right"), step_mm=step_mm,
                         frame=result.registration.matrix, axes=pair)
        pair[0].set_title(f"{title}: front", fontsize=9)
        pair[1].set_title(f"{title}: side", fontsize=9)
    render.slices(result.image, overlay=result.removed, overlay2=result.brain, axes=bottom)
    status = "PASSED" if report.passed else "FAILED"
    measures = report.as_dict()
    fig.suptitle(
        f"QC {status} ({result.method}): brain removed {measures['brain_removed_ml']:.1f} ml, "
        f"face region removed {measures['face_removed_share']:.0%}, "
        f"head fit {measures['head_fit']:.2f}   (red: removed, yellow: brain)",
        color="black" if report.passed else "red", fontsize=10,
    )
    return fig
