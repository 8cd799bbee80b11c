"""Naming each image dcm2niix writes for one series: echoes, magnitude and phase, field maps.

dcm2niix writes one NIfTI file per series, or several when a series holds several echoes
(files ending ``_e1``, ``_e2``...), magnitude and phase images (``_ph``), or real and
imaginary parts (``_real``, ``_imaginary``); its sidecars say the same in ``EchoNumber``
and ``ImageType``. :func:`name_outputs` gives each file its BIDS suffix and the entities
``echo-<n>`` and ``part-mag``/``part-phase`` (only when the series has several echoes or
parts, or BIDS requires them), and turns a gradient-echo field map's magnitude echoes into
``magnitude1``/``magnitude2`` and its phase difference into ``phasediff``. Files it cannot
tell apart (dcm2niix's ``_i00001``, ``_c1``, ``_t…`` splits of mixed geometry, coils or
triggers) are refused with the reason, never named by guess.

Examples
--------
>>> from pathlib import Path
>>> from mrishare.bids import outputs
>>> files = [Path("image_e1.nii"), Path("image_e2.nii"), Path("image_e2_ph.nii")]
>>> [(o.suffix, o.entities) for o in outputs.name_outputs(files, "fmap", "phasediff")]
[('magnitude1', ()), ('magnitude2', ()), ('phasediff', ())]
>>> [o.entities for o in outputs.name_outputs(files[:2], "anat", "T2starw")]
[(('echo', '1'),), (('echo', '2'),)]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrishare.bids import schema
from mrishare.errors import BadInputError

__all__ = ["FIELDMAP_ECHOES", "Output", "name_outputs"]

FIELDMAP_ECHOES = {"magnitude": ("magnitude1", "magnitude2"), "phase": ("phase1", "phase2")}
"""A gradient-echo field map's images by echo order (BIDS 'Case 1' and 'Case 2')."""

_POSTFIX = re.compile(r"(?:_e(?P<echo>\d+))?(?:_(?P<part>ph|real|imaginary))?")
_PARTS = {"ph": "phase", "real": "real", "imaginary": "imag"}


@dataclass(frozen=True)
class Output:
    """One image dcm2niix wrote, and its BIDS name within the series.

    Attributes
    ----------
    image : Path
        dcm2niix's file (its sidecar and ``.bval``/``.bvec`` share the stem).
    suffix : str
        The BIDS suffix.
    entities : tuple of (str, str) pairs
        ``echo`` and ``part`` when the series needs them.
    """

    image: Path
    suffix: str
    entities: tuple[tuple[str, str], ...] = ()


def _sidecar(image: Path) -> dict[str, Any]:
    path = image.with_name(image.name.split(".")[0] + ".json")
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _features(image: Path, stem: str) -> tuple[int | None, str]:
    """Return the echo number and the part ("mag", "phase", "real", "imag") of a file."""
    postfix = image.name.split(".")[0][len(stem):]
    found = _POSTFIX.fullmatch(postfix)
    if found is None:
        raise BadInputError(f"dcm2niix split this series into images it names '{postfix}' "
                            "(mixed geometry, coils or triggers), which mrishare cannot tell "
                            "apart by echo or part")
    sidecar = _sidecar(image)
    echo = int(found["echo"]) if found["echo"] else sidecar.get("EchoNumber")
    kinds = {str(v).upper() for v in sidecar.get("ImageType", [])}
    part = _PARTS.get(found["part"] or "", "")
    if not part:
        part = ("phase" if kinds & {"P", "PHASE"} else "real" if "REAL" in kinds
                else "imag" if "IMAGINARY" in kinds else "mag")
    return (int(echo) if isinstance(echo, int | float | str) and str(echo).isdigit() else None,
            part)


def _fieldmap(found: list[tuple[Path, int | None, str]], suffix: str) -> list[Output]:
    by_part: dict[str, list[tuple[int, Path]]] = {"magnitude": [], "phase": []}
    for image, echo, part in found:
        kind = {"mag": "magnitude", "phase": "phase"}.get(part)
        if kind is None:
            raise BadInputError(f"a field map series with {part} images; mrishare names "
                                "magnitude and phase images only")
        by_part[kind].append((echo or 1, image))
    magnitudes, phases = sorted(by_part["magnitude"]), sorted(by_part["phase"])
    if suffix == "magnitude1" and phases:
        raise BadInputError("mapped as field map magnitude images, but the series also has "
                            "phase images: map it as phasediff")
    if suffix == "phasediff" and not phases:
        raise BadInputError("mapped as a field map phase difference, but dcm2niix wrote no "
                            "phase image for it")
    if len(magnitudes) > 2 or len(phases) > 2:
        raise BadInputError(f"a field map series with {len(magnitudes)} magnitude and "
                            f"{len(phases)} phase images; BIDS field maps have two of each "
                            "at most")
    names = [Output(image, FIELDMAP_ECHOES["magnitude"][i])
             for i, (_, image) in enumerate(magnitudes)]
    if len(phases) == 1:
        names.append(Output(phases[0][1], "phasediff" if suffix == "phasediff" else "phase1"))
    else:
        names += [Output(image, FIELDMAP_ECHOES["phase"][i]) for i, (_, image)
                  in enumerate(phases)]
    return names


def name_outputs(images: Sequence[Path], datatype: str, suffix: str,
                 stem: str = "image") -> list[Output]:
    """Name each image dcm2niix wrote for one series.

    Parameters
    ----------
    images : sequence of Path
        dcm2niix's files for the series (named ``stem`` plus dcm2niix's postfixes).
    datatype, suffix : str
        What the series' description maps it to.
    stem : str, default "image"
        The file name given to dcm2niix (``-f``).

    Returns
    -------
    list of Output
        In the order of ``images`` (field maps: magnitudes, then phase).

    Raises
    ------
    BadInputError
        When the files cannot be told apart, or BIDS has no entity to tell them apart for
        this datatype and suffix; the message says which.

    Examples
    --------
    >>> files = [Path("image_e1.nii"), Path("image_e1_ph.nii")]
    >>> [o.entities for o in name_outputs(files, "anat", "MEGRE")]
    [(('echo', '1'), ('part', 'mag')), (('echo', '1'), ('part', 'phase'))]
    >>> [o.entities for o in name_outputs([Path("image.nii")], "anat", "T1w")]
    [()]
    """
    found = [(image, *_features(image, stem)) for image in images]
    if datatype == "fmap" and suffix in ("phasediff", "magnitude1", "magnitude2"):
        return _fieldmap(found, suffix)
    rule = schema.file_rules()[datatype][suffix]
    echoes = {echo for _, echo, _ in found}
    parts = {part for _, _, part in found}
    need_echo = len(echoes) > 1 or "echo" in rule.required
    need_part = len(parts) > 1 or parts != {"mag"}
    for entity, needed in (("echo", need_echo), ("part", need_part)):
        if needed and entity not in rule.entities:
            raise BadInputError(f"dcm2niix wrote {len(found)} images for this series "
                                f"({'echoes' if entity == 'echo' else 'magnitude and phase'})"
                                f", but BIDS has no {entity} entity for {datatype}/{suffix}: "
                                "map the series to a suffix that has one")
    names = []
    for image, echo, part in found:
        entities = (("echo", str(echo or 1)),) if need_echo else ()
        entities += (("part", part),) if need_part else ()
        names.append(Output(image, suffix, entities))
    if len({o.entities for o in names}) < len(names):
        raise BadInputError(f"dcm2niix split this series into {len(names)} images that "
                            "mrishare cannot tell apart by echo or part")
    return names
