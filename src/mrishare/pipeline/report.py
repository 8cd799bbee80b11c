"""The report of a ``prepare`` run, in Markdown and HTML, from Jinja2 templates.

The templates live in ``mrishare/pipeline/templates/`` (``report.md.j2``,
``report.html.j2``; the HTML one escapes every value). The report is private: it names the
source's folders and shows faces before defacing, so it goes beside the dataset.

Examples
--------
>>> from pathlib import Path
>>> from mrishare.pipeline import ImageResult, ParticipantResult, PrepareResult, QCResult
>>> image = ImageResult("sub-a/anat/sub-a_T1w.nii.gz", "T1w", qc=QCResult(passed=False))
>>> result = PrepareResult(Path("d"), Path("r"),
...                        participants=[ParticipantResult("a", images=[image])])
>>> qc_failures(result)
['sub-a/anat/sub-a_T1w.nii.gz']
>>> "NOT ready" in render_markdown(result)
True
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from mrishare import __version__
from mrishare.pipeline.records import PrepareResult

__all__ = ["SummaryLine", "qc_failures", "render_html", "render_markdown", "summary_lines"]

_VERDICTS = {0: "ready to share (as far as the checks go)",
             1: "NOT ready: the audit found identifiers or QC failed",
             3: "incomplete: some inputs failed"}


@dataclass(frozen=True)
class SummaryLine:
    """One line of the report's summary.

    Parameters
    ----------
    markdown : str
        The line in Markdown (``**bold**`` and ```code``` marks).
    loud : bool
        True for a line that says the dataset is not ready (shown in red in HTML).
    """

    markdown: str
    loud: bool = False

    @property
    def plain(self) -> str:
        """The line without Markdown marks."""
        return self.markdown.replace("**", "").replace("`", "")


def qc_failures(result: PrepareResult) -> list[str]:
    """Return the dataset paths of the images whose defacing missed a QC target.

    Parameters
    ----------
    result : PrepareResult

    Returns
    -------
    list of str
    """
    return [image.path for _, image in result.images() if not image.qc_passed]


def summary_lines(result: PrepareResult) -> list[SummaryLine]:
    """Return the summary of a run: verdict, participants, time, key, QC, audit.

    Parameters
    ----------
    result : PrepareResult

    Returns
    -------
    list of SummaryLine
    """
    done = sum(p.status == "done" for p in result.participants)
    status = result.exit_status
    lines = [
        SummaryLine(f"Verdict: **{_VERDICTS[status]}** (exit status {status})", status == 1),
        SummaryLine(f"Participants: {len(result.participants)} ({done} done, "
                    f"{len(result.reused)} reused from an earlier run, "
                    f"{len(result.failed)} with problems)"),
        SummaryLine(f"Time: {result.seconds} s"),
        SummaryLine("Key: " + ("from a key file" if result.reproducible
                               else "random (pseudonyms cannot be made again)")),
    ]
    failures = qc_failures(result)
    if failures:
        lines.append(SummaryLine(
            f"**QC FAILED** for {len(failures)} image(s): "
            + ", ".join(f"`{path}`" for path in failures)
            + ". The face may still be there or brain was removed: look at the pictures "
            "below, and do not share these images as they are.", True))
    audit = result.audit
    if audit is not None:
        found = "clean" if audit.clean else f"{len(audit.findings)} findings"
        lines.append(SummaryLine(f"Audit: {found}; {audit.files} files searched for "
                                 f"{sum(audit.searched.values())} values harvested from the "
                                 "source"))
    if result.not_dicom:
        lines.append(SummaryLine("Source files that are not DICOM images (ignored): "
                                 f"{len(result.not_dicom)}"))
    return lines


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mrishare.pipeline", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False, default=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _render(name: str, result: PrepareResult) -> str:
    return _environment().get_template(name).render(
        version=__version__, now=f"{dt.datetime.now():%Y-%m-%d %H:%M}", result=result,
        summary=summary_lines(result),
        audit_summary=None if result.audit is None else result.audit.summary(limit=50),
    )


def render_markdown(result: PrepareResult) -> str:
    """Return the report as Markdown (private: it names source folders).

    Parameters
    ----------
    result : PrepareResult

    Returns
    -------
    str
    """
    return _render("report.md.j2", result)


def render_html(result: PrepareResult) -> str:
    """Return the report as one HTML page (pictures linked from ``images/``).

    Parameters
    ----------
    result : PrepareResult

    Returns
    -------
    str
    """
    return _render("report.html.j2", result)
