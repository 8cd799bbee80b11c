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
deface`` command then exits with status 1. :func:`figure` puts the before and after renders
and slices in one picture.

Examples
--------
>>> from mrishare import data, deface, qc
>>> report = qc.check(deface.deface(data.sample_path("participant_T1w")))
>>> report.passed
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mrishare.deface import DefaceResult, Target, head_mask, stored_values, voxel_ml
from mrishare.deface import targets as _targets

__all__ = ["TARGETS", "Measure", "QCReport", "check", "figure", "summary", "targets"]


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
    """

    measures: list[Measure]
    method: str
    brain_removed_voxels: int

    @property
    def passed(self) -> bool:
        """Return True when every target is met."""
        return all(m.passed for m in self.measures)

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


def check(result: DefaceResult) -> QCReport:
    """Measure a defacing result against the targets of :func:`targets`.

    Parameters
    ----------
    result : mrishare.deface.DefaceResult
        From :func:`mrishare.deface.deface` or :func:`mrishare.deface.deface_other`.

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
    brain_removed = int((result.removed & result.brain).sum())
    stored = np.nan_to_num(stored_values(result.original).astype(np.float32, copy=False))
    tissue = result.face & head_mask(stored)
    face_share = float((tissue & result.removed).sum() / tissue.sum()) if tissue.any() else 0.0
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
    return QCReport(measures=measures, method=result.method,
                    brain_removed_voxels=brain_removed)


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
    return "\n".join(lines)


def figure(result: DefaceResult, report: QCReport | None = None, *,
           step_mm: float = 2.0) -> Any:
    """Return before/after face renders and slices with the removed region, in one figure.

    Parameters
    ----------
    result : mrishare.deface.DefaceResult
        The defaced image.
    report : QCReport, optional
        Its check; made with :func:`check` when not given.
    step_mm : float, default 2
        Pixel size of the renders.

    Returns
    -------
    matplotlib.figure.Figure
        Title in red when QC failed.

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
    fig.suptitle(
        f"QC {status} ({result.method}): brain removed "
        f"{report.measure('brain_removed_ml').value:.1f} ml, face region removed "
        f"{report.measure('face_removed_share').value:.0%}, head fit "
        f"{report.measure('head_fit').value:.2f}   (red: removed, yellow: brain)",
        color="black" if report.passed else "red", fontsize=10,
    )
    return fig
