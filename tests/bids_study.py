"""A tiny DICOM study with identifiers planted in every carrier, for the BIDS tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import write_dataset
from pydicom.valuerep import PersonName

from mrishare.keys import Key
from mrishare.lessons import dicom_export

KEY = Key(bytes(range(32)))
MR = {"Modality": "MR", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4"}
T1 = {"MRAcquisitionType": "3D", "ScanningSequence": "GR\\IR", "SequenceVariant": "SP\\MP",
      "RepetitionTime": "2300", "EchoTime": "2.98", "InversionTime": "900", "FlipAngle": "9"}
T2 = {"MRAcquisitionType": "2D", "ScanningSequence": "SE", "SequenceVariant": "SK",
      "RepetitionTime": "5000", "EchoTime": "98", "FlipAngle": "150"}
PEOPLE = [
    dict(name=PersonName("Quaggafam^Zebragiven"), id="QZP0047131", other_id="OTHQZ-77-31",
         birth_date="1961-04-12", sex="F", height_m="1.71", weight_kg="64",
         address="Quaggastraat 12, Voorbeeldstad", telephone="555-0147",
         history="Quaggahistory", comments="Quaggacomment"),
    dict(name=PersonName("Okapifam^Gnugiven"), id="OKG0052288", other_id="OTHOK-81-04",
         birth_date="1930-11-30", sex="M", height_m="1.86", weight_kg="82",
         address="Okapiweg 7, Testdorp", telephone="555-0199",
         history="Okapihistory", comments="Okapicomment"),
]
SITE = dict(ae_title="QZ_AETITLE", institution="Quagga University Hospital",
            institution_address="Hospitaalplein 1, Quaggastad", department="Quaggadept",
            referring=PersonName("Refquagga^Anna"), performing=PersonName("Perfquagga^Sam"),
            operator=PersonName("Opquagga^Tom"), station="QZ-STATION-3", serial="SER45817")
# (person index, date, time, study number)
SESSIONS = [(0, "20240422", "141547", 2), (0, "20240311", "093012", 1),
            (1, "20240318", "111203", 1)]


def write_series(folder: Path, person: dict, date: str, number: int, contrast: str,
                 acquisition: dict, zooms: float = 2.0, seed: int = 7) -> None:
    """Write one small series of one person's study (identifiers planted everywhere)."""
    family = person["name"].family_name
    uid = f"1.2.999.4712.{int(date)}"
    study = dict(SITE, uid=uid, frame_uid=uid + ".0", date=date, time="093012", age="",
                 accession=f"ACCQZ{date}", study_id=f"SIDQZ{number}",
                 description=f"Research brain {family} {person['id']}")
    series = dict(uid=f"{uid}.{len(contrast)}", number=len(contrast), time="093012",
                  description=f"{contrast} {family}", protocol=f"{person['id']}_{contrast}",
                  comments=f"{family}: moved", acquisition=acquisition,
                  private={"PatientNameCopy": str(person["name"]), "PatientIDCopy": person["id"],
                           "OperatorNote": f"scanned for {family}", "CoilName": "Head"})
    rng = np.random.default_rng(seed)
    image = nib.Nifti1Image((rng.random((10, 12, 8)) * 900).astype(np.uint16),
                            np.diag([zooms, zooms, zooms, 1.0]))
    dicom_export.write_dicom_series(image, folder, person, study, series)


def planted_study(root: Path) -> list[str]:
    """Write a tiny study with identifiers in every carrier; return the identifying strings."""
    rng = np.random.default_rng(7)
    secrets = []
    for person_index, date, time, number in SESSIONS:
        person = PEOPLE[person_index]
        family = person["name"].family_name
        uid = f"1.2.999.4711.{person_index}.{number}"
        study = dict(SITE, uid=uid, frame_uid=uid + ".0", date=date, time=time, age="",
                     accession=f"ACCQZ{date}", study_id=f"SIDQZ{number}{person_index}",
                     description=f"Research brain {family} {person['id']}")
        folder = root / f"{family.upper()}_{person['birth_date']}" / f"{date}_{person['id']}"
        for contrast, acquisition, zooms in (("T1", T1, 2.0), ("t2_tse", T2, 3.0),
                                             ("localizer", T1, 4.0)):
            series = dict(uid=f"{uid}.{len(contrast)}", number=len(contrast), time=time,
                          description=f"{contrast} {family}", protocol=f"{person['id']}_{contrast}",
                          comments=f"{family}: moved", acquisition=acquisition,
                          private={"PatientNameCopy": str(person["name"]),
                                   "PatientIDCopy": person["id"],
                                   "OperatorNote": f"scanned for {family}", "CoilName": "Head"})
            image = nib.Nifti1Image((rng.random((10, 12, 8)) * 900).astype(np.uint16),
                                    np.diag([zooms, zooms, zooms, 1.0]))
            dicom_export.write_dicom_series(image, folder / f"{series['number']:03d}_{contrast}_"
                                        f"{family}", person, study, series)
        secrets += [date, f"{date[:4]}-{date[4:6]}-{date[6:]}", study["accession"],
                    study["study_id"], study["description"], uid]
    for person in PEOPLE:
        secrets += [str(person["name"]), person["name"].family_name, person["name"].given_name,
                    person["id"], person["other_id"], person["birth_date"],
                    person["birth_date"].replace("-", ""), person["address"],
                    person["telephone"], person["history"], person["comments"]]
    secrets += [str(v) for k, v in SITE.items()] + ["Refquagga", "Perfquagga", "Opquagga",
                                                    "1.2.999.4711"]
    return sorted(set(secrets))


def all_text(root: Path) -> list[tuple[str, bytes]]:
    """Every file's path and bytes (gzip files decompressed too)."""
    found = []
    for path in sorted(root.rglob("*")):
        found.append((path.relative_to(root).as_posix(), b""))
        if path.is_file():
            raw = path.read_bytes()
            found.append((path.name, raw + (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b"
                                            else b"")))
    return found


def write_bare(src: Path, dst: Path) -> Path:
    """Copy a folder of DICOM files, each rewritten without preamble and file meta header.

    The data sets are written implicit VR little endian, as old exports write them.
    """
    dst.mkdir(parents=True)
    for path in sorted(p for p in src.iterdir() if p.is_file()):
        ds = pydicom.dcmread(path)
        with open(dst / path.name, "wb") as raw:
            out = DicomFileLike(raw)
            out.is_little_endian = True
            out.is_implicit_VR = True
            write_dataset(out, ds)
    return dst
