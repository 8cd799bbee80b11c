"""De-identify DICOM files by the standard's profile, with keyed pseudonyms.

The DICOM standard says what to do with every attribute that can identify a person: PS3.15
Annex E, the *Basic Application Level Confidentiality Profile*, Table E.1-1. Each attribute
gets an action:

====  ===========================================================================
D     replace with a dummy value (non-empty, consistent with the value type)
Z     replace with an empty value (or a dummy one)
X     remove
K     keep
C     clean: keep the meaning, remove what identifies (dates are shifted)
U     replace a UID with another one, the same everywhere it appears
====  ===========================================================================

and combined actions such as ``X/Z`` ("remove, unless the file would no longer be valid"),
which mrishare chooses by the attribute's type in the object's IOD.
mrishare does not type this table: it reads the newest edition that the maintained package
``dicom-anonymizer`` ships and names that edition in every file it writes. On top of the
profile come the options the standard defines (:class:`Options`), a secret
:class:`~mrishare.keys.Key` for stable pseudonyms, and a few rules of its own:

* private (vendor) attributes are removed, except an explicit allow-list of safe ones;
* the file meta header loses the sending station's name and address;
* screenshots and other images that may carry burned-in text are left out and reported;
* the pixel data are never touched.

The policy is data, in ``mrishare/rules/``: ``dicom_profile_options.yaml`` (the options
and mrishare's choices), ``safe_private_tags.tsv``, ``left_out_sop_classes.tsv`` and
``iod_attribute_types.json`` (attribute types by IOD, from the standard's tables).

The package's modules, one job each:

=============  ===========================================================================
``profile``    Table E.1-1 from dicom-anonymizer; the plan (one action per tag), and per
               SOP class the combined actions chosen by type
``iod``        the attributes' types in each IOD (the standard's tables, via highdicom)
``options``    the options and choices as data (the rule files' loaders)
``actions``    apply the plan to one dataset: dummies, UIDs, dates, private tags, file meta
``people``     participant ids and labels, study records, session numbers
``leave_out``  files not passed on (screenshots, photographs, documents)
``batch``      a whole folder: files, names, staging, copies and shared UIDs
``report``     what a batch did, and the mapping of every source file to its fate
``validate``   dciodvfy on every output and its source: the errors de-identification added
``values``     plain text values read from the bytes read, without converting them first
=============  ===========================================================================

Examples
--------
>>> from mrishare import data, dicom
>>> from mrishare.keys import Key
>>> ds = dicom.deidentify(data.sample_path("pydicom_MR_small"), Key(bytes(32)))
>>> ds.PatientIdentityRemoved
'YES'
>>> ds.PatientName == dicom.participant_label(data.sample_path("pydicom_MR_small"),
...                                           Key(bytes(32)))
True
"""

from __future__ import annotations

from mrishare.dicom.actions import clean_text, deidentify, word_patterns
from mrishare.dicom.batch import STAGING, FileResult, content_hash, deidentify_folder
from mrishare.dicom.iod import attribute_types, iod_of
from mrishare.dicom.leave_out import LeftOutClass, leave_out_reason, left_out_classes
from mrishare.dicom.options import (
    OptionRule,
    Options,
    ProfileRules,
    SafePrivateTag,
    profile_rules,
    safe_private_tags,
)
from mrishare.dicom.people import (
    StudyRecord,
    as_dataset,
    number_sessions,
    participant_id,
    participant_label,
    session_index,
    study_record,
)
from mrishare.dicom.profile import (
    Profile,
    dictionary_vr,
    load_profile,
    plan,
    profile_editions,
    typed_plans,
)
from mrishare.dicom.report import FileFate, Report, SkippedFile, WrittenSeries
from mrishare.errors import BadInputError, DestinationError, RuleFileError, SourceError

__all__ = [
    "STAGING",
    "BadInputError",
    "DestinationError",
    "FileFate",
    "FileResult",
    "LeftOutClass",
    "OptionRule",
    "Options",
    "Profile",
    "ProfileRules",
    "Report",
    "RuleFileError",
    "SafePrivateTag",
    "SkippedFile",
    "SourceError",
    "StudyRecord",
    "WrittenSeries",
    "as_dataset",
    "attribute_types",
    "clean_text",
    "content_hash",
    "deidentify",
    "deidentify_folder",
    "dictionary_vr",
    "iod_of",
    "leave_out_reason",
    "left_out_classes",
    "load_profile",
    "number_sessions",
    "participant_id",
    "participant_label",
    "plan",
    "profile_editions",
    "profile_rules",
    "safe_private_tags",
    "session_index",
    "study_record",
    "typed_plans",
    "word_patterns",
]
