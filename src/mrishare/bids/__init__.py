"""From a DICOM study to a BIDS dataset that carries no identifiers.

:func:`to_bids` reads a DICOM tree (never writing to it), sorts the files into series
(:mod:`~mrishare.bids.series`), **maps** each series from its descriptors and acquisition
parameters with the series mapping, a rule file in the style of a dcm2bids configuration
(:mod:`~mrishare.bids.mapping`, read and checked by :mod:`~mrishare.bids.mapping_file`
from ``rules/series_mapping.yaml``; unknown series are skipped and reported, never
guessed), converts each with **dcm2niix** (:mod:`~mrishare.bids.convert`) into a temporary
folder, and then writes:

* ``sub-<label>[/ses-<n>]/<datatype>/sub-<label>[_ses-<n>][_<entities>]_<suffix>.nii.gz``
  (``anat``, ``func``, ``dwi``, ``fmap``; ``run-<n>`` when a name repeats, ``echo-<n>`` and
  ``part-mag``/``part-phase`` when dcm2niix splits a series by echo or into magnitude and
  phase, :mod:`~mrishare.bids.outputs`): NIfTI files scrubbed by
  :func:`mrishare.nifti.scrub_nifti` (header text fields and
  extensions cleared, gzip header without file name or time, voxels copied byte for byte);
* a JSON sidecar next to each, holding only acquisition fields that the BIDS schema defines
  for MRI minus those that name a site or a person (:mod:`~mrishare.bids.sidecars`,
  ``rules/sidecar_fields.yaml``), plus ``DeidentificationMethod`` and what BIDS requires
  from the session (:mod:`~mrishare.bids.session`: ``TaskName``, ``SliceTiming``,
  ``EchoTime1``/``EchoTime2``, ``IntendedFor``); ``.bval``/``.bvec`` beside diffusion
  images;
* ``scans.tsv`` per participant (or session) with ``acq_time`` shifted back to 1925 or
  earlier, one shift per participant; ``participants.tsv`` (age in calendar years, ``89+``
  from 89 on; sex only when asked); ``dataset_description.json`` with licence and
  ``GeneratedBy``; a README (:mod:`~mrishare.bids.dataset`).

Labels come from the secret key (:mod:`mrishare.keys`) exactly as in the DICOM step
(:mod:`mrishare.dicom`): the participant label is ``key.label(participant_id)``, the date
shift ``key.date_shift(participant_id)``, where ``participant_id`` is the PatientID
(:func:`mrishare.dicom.participant_id`); sessions are numbered by date within a
participant (:func:`mrishare.dicom.number_sessions`). :func:`validate` runs the BIDS
validator offline (:mod:`~mrishare.bids.validator`). :func:`list_series` shows the rule each
series takes before converting (:mod:`~mrishare.bids.listing`), with a configuration
snippet for a series no rule takes; :func:`load_config` reads a user's mapping on top of
the shipped one.

Examples
--------
>>> from mrishare import bids, data, keys
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "bids"
>>> report = bids.to_bids(data.sample_path("dicom_study"), out, keys.Key(bytes(32)))
>>> len(report.written), len(report.unmapped), len(report.failed)
(18, 1, 0)
>>> sorted(p.name for p in out.iterdir())[:3]
['README', 'dataset_description.json', 'participants.json']
"""

from mrishare.bids.build import BidsReport, to_bids
from mrishare.bids.convert import (
    Conversion,
    convert_series,
    convert_study,
    dcm2niix_path,
    run_dcm2niix,
)
from mrishare.bids.dataset import dataset_readme, shift_datetime
from mrishare.bids.listing import SeriesRow, format_table, list_series, snippet, summary_line
from mrishare.bids.mapping import (
    Classification,
    Description,
    SeriesMapping,
    classify,
    default_mapping,
    label_from_name,
    load_mapping,
    series_features,
)
from mrishare.bids.mapping_file import combine, load_config
from mrishare.bids.series import Problem, Series, find_series, uses_sessions
from mrishare.bids.session import WrittenImage
from mrishare.bids.sidecars import (
    SIDECAR_DENY,
    SIDECAR_GROUPS,
    scrub_sidecar,
    sidecar_allowlist,
    sidecar_rules,
)
from mrishare.bids.validator import validate, validator_path
from mrishare.errors import DestinationError, SourceError

__all__ = [
    "SIDECAR_DENY",
    "SIDECAR_GROUPS",
    "BidsReport",
    "Classification",
    "Conversion",
    "Description",
    "DestinationError",
    "Problem",
    "Series",
    "SeriesMapping",
    "SeriesRow",
    "SourceError",
    "WrittenImage",
    "classify",
    "combine",
    "convert_series",
    "convert_study",
    "dataset_readme",
    "dcm2niix_path",
    "default_mapping",
    "find_series",
    "format_table",
    "label_from_name",
    "list_series",
    "load_config",
    "load_mapping",
    "run_dcm2niix",
    "scrub_sidecar",
    "series_features",
    "shift_datetime",
    "sidecar_allowlist",
    "sidecar_rules",
    "snippet",
    "summary_line",
    "to_bids",
    "uses_sessions",
    "validate",
    "validator_path",
]
