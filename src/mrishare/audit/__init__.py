"""Find identifiers left anywhere in a dataset, and prove a prepared dataset clean.

An audit has two halves.

1. :func:`harvest` reads a *source* DICOM tree and collects what identifies its people: the
   values of every attribute the identifiers table (:mod:`mrishare.identifiers`) marks as
   harvested, with the variants they take elsewhere (``Jansen^Marieke``, ``Marieke Jansen``,
   ``JANSEN_MARIEKE``; ``19870412``, ``1987-04-12``, ``12-04-1987``), every original UID and
   the site's UID root, and the folder and file names of the source.
   :func:`read_identifier_file` adds values you list yourself.
2. :func:`audit` searches a folder for those values everywhere: the bytes of every file
   (gzip content decompressed, and the file name a gzip header keeps), every DICOM element
   including private tags, nested sequences and the file meta, NIfTI header fields and
   extensions, JSON sidecars (keys and values), TSV tables (every cell) and every path
   name. It also flags what is risky without a known value: a face still present in an
   image, ``BurnedInAnnotation`` YES, and DICOM attributes the basic profile removes.

Each :class:`Finding` says which file, where in it, and what kind of identifier; it shows
a masked hint (``J…n (6 characters)``), never the value.

Short values are never searched as free text: sex ``F`` or weight ``64`` would match
everywhere. What is specific enough is data (``rules/audit_specificity.yaml``, read by
:func:`specificity`); values that fail it are listed in :attr:`IdentifierSet.skipped`.

The modules: :mod:`~mrishare.audit.values` (values and their variants),
:mod:`~mrishare.audit.harvesting`, :mod:`~mrishare.audit.search` (one file, every format),
:mod:`~mrishare.audit.report` and :mod:`~mrishare.audit.run` (:func:`audit`).

Examples
--------
>>> from mrishare import audit
>>> ids = audit.IdentifierSet()
>>> ids.add_value("Jansen^Marieke^A", "patient name")
>>> sorted(m.kind for m in ids.find("Scan of MARIEKE JANSEN, weight 64"))
['patient name']
"""

from __future__ import annotations

from mrishare.audit.harvesting import harvest, harvest_kind, read_identifier_file
from mrishare.audit.report import AuditReport, Finding
from mrishare.audit.run import audit
from mrishare.audit.specificity import Specificity, load_specificity, specificity
from mrishare.audit.values import VARIANT_KINDS, Identifier, IdentifierSet, Match, mask

__all__ = [
    "VARIANT_KINDS",
    "AuditReport",
    "Finding",
    "Identifier",
    "IdentifierSet",
    "Match",
    "Specificity",
    "audit",
    "harvest",
    "harvest_kind",
    "load_specificity",
    "mask",
    "read_identifier_file",
    "specificity",
]
