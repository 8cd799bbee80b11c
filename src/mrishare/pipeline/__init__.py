"""``prepare``: from a DICOM study to a shareable BIDS dataset, with proof.

:func:`prepare` composes the other modules, one participant at a time:

1. **classify and convert** the participant's series (:func:`mrishare.bids.to_bids`: series
   classified by its rule table, converted by dcm2niix, NIfTI headers, gzip headers and
   sidecars scrubbed, labels and date shifts from the secret key, screenshots and unknown
   series skipped with a reason);
2. **deface** each session's T1w image and carry the same face region to its other
   anatomical images, checking each (:func:`mrishare.deface.deface_images`), and draw
   before/after pictures (:mod:`mrishare.render`);
3. move the participant's folder into the dataset in one rename, and rebuild the
   dataset's shared files (``participants.tsv``, ``dataset_description.json``, README);
4. **audit** the whole dataset against the identifiers harvested from the source
   (:func:`mrishare.audit.audit`);
5. write a **report** from templates: per participant and session what was done, the QC
   numbers, the pictures, what was skipped and why, and the audit's result.

The report names source folders and shows faces before defacing, so it is written *beside*
the dataset (``<DST>_report/``), never inside it. It also keeps each participant's state,
so that running :func:`prepare` again skips the participants already done: a cohort can be
prepared by many jobs, one participant each (``participant_labels``), as BIDS Apps do on a
cluster. The key is never written anywhere.

The modules: :mod:`~mrishare.pipeline.records` (what was done, as dataclasses),
:mod:`~mrishare.pipeline.participant` (one participant's job),
:mod:`~mrishare.pipeline.state` (state files, shared files, the lock),
:mod:`~mrishare.pipeline.jobs` (:func:`prepare`) and :mod:`~mrishare.pipeline.report`.

Examples
--------
>>> import tempfile, pathlib
>>> from mrishare import data, keys
>>> out = pathlib.Path(tempfile.mkdtemp()) / "shared"
>>> result = prepare(data.sample_path("dicom_study", verify=False), out, keys.Key(bytes(32)),
...                  progress=False)  # doctest: +SKIP
>>> result.to_frame()[["participant", "image", "qc_passed"]]  # doctest: +SKIP
"""

from __future__ import annotations

from mrishare.errors import PrepareError
from mrishare.pipeline.jobs import REPORT_SUFFIX, list_participants, prepare, report_dir_for
from mrishare.pipeline.participant import ANATOMICAL
from mrishare.pipeline.records import (
    FRAME_COLUMNS,
    ImageResult,
    ParticipantResult,
    PrepareResult,
    QCResult,
    SourceNote,
)
from mrishare.pipeline.report import qc_failures, render_html, render_markdown

__all__ = [
    "ANATOMICAL",
    "FRAME_COLUMNS",
    "REPORT_SUFFIX",
    "ImageResult",
    "ParticipantResult",
    "PrepareError",
    "PrepareResult",
    "QCResult",
    "SourceNote",
    "list_participants",
    "prepare",
    "qc_failures",
    "render_html",
    "render_markdown",
    "report_dir_for",
]
