"""Make every file in data_samples/ (seeded: the same run gives the same files).

Usage: ``python tools/make_samples.py PYDEFACE_WHEEL``

PYDEFACE_WHEEL is pydeface 2.1.0's wheel (MIT licence), fetched with
``pip download --no-deps pydeface==2.1.0``. From it this script takes the averaged head
template (``mean_reg2mean.nii.gz``) and its face mask (``facemask.nii.gz``), resamples them
to 1.5 mm, and then invents:

* a participant (seed 101): T1w and T2w scans on their own oblique grids;
* a DICOM study exported the way PACS systems do it: the invented person "Marieke Jansen"
  scanned twice six weeks apart, and the invented person "Pieter de Boer" once; each
  session with a T1w series and a thick-slice T2w series, one file per slice, and one
  screenshot with her name burned into the pixels; identifiers planted in every place real
  exports carry them. Her first session also holds what a research session has besides:
  a 3D T2w with a long effective echo time (SPACE-like, TE 408 ms), a short resting-state
  BOLD run (10 volumes, per-slice times), a small diffusion series (b0 and 6 directions in
  the standard attributes DiffusionBValue and DiffusionGradientOrientation), a
  gradient-echo field map (two magnitude echoes and a phase difference), a multi-echo
  gradient echo with magnitude and phase images, and one series with a site's own name
  that the shipped series mapping does not know.

Every name, number, address and date here is invented. Then the script writes
``MANIFEST.tsv`` and ``CHECKSUMS.tsv``, which ``mrishare.data`` reads. The template's brain
mask is made by ``tools/make_brainmask.py`` (it needs the registration code of mrishare).
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.processing import resample_from_to
from pydicom.valuerep import PersonName

from mrishare import data
from mrishare.lessons import dicom_export, simulate

OUT = Path(__file__).resolve().parents[1] / "data_samples"
ZOOM = 1.5  # mm, the shipped template's voxel size
SITE_ROOT = "1.2.999.4711"  # an invented UID root for the invented hospital

PEOPLE = {
    "jansen": {
        "name": PersonName("Jansen^Marieke^A"),
        "id": "VUMC0047131",
        "other_id": "ZZ-77-31-902",
        "birth_date": "1987-04-12",
        "sex": "F",
        "height_m": "1.71",
        "weight_kg": "64",
        "address": "Voorbeeldstraat 12, 9999 ZZ Voorbeeldstad",
        "telephone": "555-0147",
        "history": "Migraine since 2015; mother of Sanne Jansen (also in study)",
        "comments": "Claustrophobic, needs the mirror. Contact: M. Jansen 555-0147",
        "seed": 101,
        "head_scale": 1.0,
    },
    "deboer": {
        "name": PersonName("de Boer^Pieter"),
        "id": "VUMC0052288",
        "other_id": "ZZ-81-04-117",
        "birth_date": "1979-11-30",
        "sex": "M",
        "height_m": "1.86",
        "weight_kg": "82",
        "address": "Proefweg 7, 9998 YY Testdorp",
        "telephone": "555-0199",
        "history": "Healthy volunteer",
        "comments": "Colleague of the PI",
        "seed": 202,
        "head_scale": 1.04,
    },
}

SITE = {
    "institution": "Voorbeeld University Medical Centre",
    "institution_address": "Ziekenhuislaan 1, 9999 AA Voorbeeldstad",
    "department": "Radiology, MRI suite 3",
    "referring": PersonName("Vries^Anna^de^Dr."),
    "performing": PersonName("Bakker^Sanne"),
    "operator": PersonName("Visser^Tom"),
    "station": "VUMC-MR3-CONSOLE",
    "serial": "45817",
    "ae_title": "VUMC_MR3",
}

# (person, session number, date, time, age, seed of the head motion)
SESSIONS = [
    ("jansen", 1, "20240311", "093012", "036Y", 101),
    ("jansen", 2, "20240422", "141547", "037Y", 102),
    ("deboer", 1, "20240318", "111203", "044Y", 201),
]

SERIES = {
    "T1w": {
        "number": 3,
        "zooms": (2.0, 2.0, 2.0),
        "description": "T1 MPRAGE sag {family}",
        "protocol": "{pid}_t1_mprage",
        "comments": "{family}: moved a little at the end",
        "acquisition": {
            "MRAcquisitionType": "3D",
            "ScanningSequence": "GR\\IR",
            "SequenceVariant": "SP\\MP",
            "RepetitionTime": "2300",
            "EchoTime": "2.98",
            "InversionTime": "900",
            "FlipAngle": "9",
        },
        "coil": "HeadNeck_20",
    },
    "T2w": {
        "number": 5,
        "zooms": (1.5, 1.5, 5.0),  # thick axial slices
        "description": "t2 tse tra {family}",
        "protocol": "{pid}_t2_tse_tra",
        "comments": "repeat of {pid} series 4",
        "acquisition": {
            "MRAcquisitionType": "2D",
            "ScanningSequence": "SE",
            "SequenceVariant": "SK",
            "RepetitionTime": "5000",
            "EchoTime": "98",
            "FlipAngle": "150",
        },
        "coil": "HeadNeck_20",
    },
}


def template_from_wheel(wheel: Path, workdir: Path) -> tuple[nib.Nifti1Image, nib.Nifti1Image]:
    """Read pydeface's template and face mask from its wheel and resample them."""
    with zipfile.ZipFile(wheel) as archive:
        for member in ("pydeface/data/mean_reg2mean.nii.gz", "pydeface/data/facemask.nii.gz"):
            archive.extract(member, workdir)
    head = nib.load(workdir / "pydeface/data/mean_reg2mean.nii.gz")
    mask = nib.load(workdir / "pydeface/data/facemask.nii.gz")
    zooms = np.array(head.header.get_zooms()[:3])
    shape = np.ceil(np.array(head.shape) * zooms / ZOOM).astype(int)
    affine = head.affine.copy()
    affine[:3, :3] = affine[:3, :3] / zooms * ZOOM
    target = (tuple(shape), affine)
    small = resample_from_to(head, target, order=1)
    head_data = np.clip(np.rint(small.get_fdata()), 0, None).astype(np.int16)
    small_mask = resample_from_to(mask, target, order=0)
    mask_data = (small_mask.get_fdata() > 0.5).astype(np.uint8)
    out_head = nib.Nifti1Image(head_data, affine)
    out_mask = nib.Nifti1Image(mask_data, affine)
    for image in (out_head, out_mask):
        image.header.set_xyzt_units("mm", "sec")
        image.set_qform(affine, code=1)
        image.set_sform(affine, code=1)
    return out_head, out_mask


def save_nifti(image: nib.Nifti1Image, path: Path) -> None:
    """Save with a gzip header that holds no file name and no time (reproducible bytes)."""
    import gzip
    import io

    raw = io.BytesIO()
    nib.Nifti1Image(np.asanyarray(image.dataobj), image.affine, image.header).to_stream(raw)
    with open(path, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
        gz.write(raw.getvalue())


SLAB = 12  # slices of the 4 mm research series (a slab through the middle of the head)
PHASE_TYPE = ["ORIGINAL", "PRIMARY", "P", "ND"]
GRADIENTS = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.7071, 0.7071, 0.0),
             (0.7071, 0.0, 0.7071), (0.0, 0.7071, 0.7071)]

# number, description, acquisition, kind (how its volumes are made)
RESEARCH = [
    (6, "T2 SPACE sag", {"MRAcquisitionType": "3D", "ScanningSequence": "SE",
                         "SequenceVariant": "SK\\SP", "RepetitionTime": "3200",
                         "EchoTime": "408", "FlipAngle": "120"}, "space"),
    (7, "rfMRI_REST_AP", {"MRAcquisitionType": "2D", "ScanningSequence": "EP",
                          "SequenceVariant": "SK", "RepetitionTime": "2000",
                          "EchoTime": "30", "FlipAngle": "77"}, "bold"),
    (8, "ep2d_diff_6dir", {"MRAcquisitionType": "2D", "ScanningSequence": "EP",
                           "SequenceVariant": "SK\\SP", "RepetitionTime": "4000",
                           "EchoTime": "80", "FlipAngle": "90"}, "dwi"),
    (9, "gre_field_mapping", {"MRAcquisitionType": "2D", "ScanningSequence": "GR",
                              "SequenceVariant": "SP", "RepetitionTime": "400",
                              "FlipAngle": "60"}, "magnitude"),
    (10, "gre_field_mapping", {"MRAcquisitionType": "2D", "ScanningSequence": "GR",
                               "SequenceVariant": "SP", "RepetitionTime": "400",
                               "EchoTime": "7.38", "FlipAngle": "60"}, "phasediff"),
    (11, "me_gre_3echo", {"MRAcquisitionType": "3D", "ScanningSequence": "GR",
                          "SequenceVariant": "SP", "RepetitionTime": "35",
                          "FlipAngle": "15"}, "megre"),
    (12, "neuromelanin_v3", {"MRAcquisitionType": "2D", "ScanningSequence": "GR",
                             "SequenceVariant": "SP\\MTC", "RepetitionTime": "600",
                             "EchoTime": "3.9", "FlipAngle": "40"}, "single"),
]


def _slab(seed: int, contrast: str) -> tuple[np.ndarray, np.ndarray]:
    """A 4 mm simulated scan cut to SLAB axial slices: (uint16 data, affine)."""
    scan = simulate.simulate_scan(seed, contrast=contrast, zooms=(4.0, 4.0, 4.0), truth=False,
                                  max_oblique_deg=5.0)
    data = np.asarray(scan.image.dataobj)
    first = data.shape[2] // 2 - SLAB // 2
    affine = scan.image.affine.copy()
    affine[:3, 3] = (affine @ np.array([0.0, 0.0, first, 1.0]))[:3]
    return data[:, :, first:first + SLAB], affine


def _volumes(kind: str, seed: int) -> tuple[list[tuple[np.ndarray, dict]], np.ndarray]:
    """The volumes of one research series and their grid."""
    rng = np.random.default_rng(seed)
    if kind == "space":
        scan = simulate.simulate_scan(seed, contrast="T2w", zooms=(4.0, 4.0, 4.0), truth=False,
                                      axes="ASR")
        return [(np.asarray(scan.image.dataobj), {})], scan.image.affine
    t2, affine = _slab(seed, "T2w" if kind in ("bold", "dwi", "phasediff", "magnitude")
                       else "T1w")
    base = t2.astype(float)
    phase = 2048 + 1500 * np.sin(np.indices(t2.shape)[0] / 7.0 + np.indices(t2.shape)[1] / 11.0)
    phase = np.where(base > 0.05 * base.max(), phase, 2048 + rng.normal(0, 600, t2.shape))

    def u16(values: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(values), 0, 4095).astype(np.uint16)

    if kind == "bold":
        drift = [1.0 + 0.01 * np.sin(t / 3.0) for t in range(10)]
        return [(u16(base * d + rng.normal(0, 8, t2.shape)), {}) for d in drift], affine
    if kind == "dwi":
        volumes = [(u16(base), {"DiffusionBValue": 0})]
        for gradient in GRADIENTS:
            weight = 0.45 + 0.1 * abs(gradient[2])
            volumes.append((u16(base * weight + rng.normal(0, 6, t2.shape)),
                            {"DiffusionBValue": 1000,
                             "DiffusionGradientOrientation": list(gradient)}))
        return volumes, affine
    if kind == "magnitude":
        return [(u16(base), {"EchoTime": "4.92", "EchoNumbers": 1}),
                (u16(base * 0.85), {"EchoTime": "7.38", "EchoNumbers": 2})], affine
    if kind == "phasediff":
        return [(u16(phase), {"EchoNumbers": 2, "ImageType": PHASE_TYPE})], affine
    if kind == "megre":
        volumes = []
        for echo, time in enumerate(("5", "12", "19"), start=1):
            decay = np.exp(-float(time) / 45.0)
            volumes.append((u16(base * decay), {"EchoTime": time, "EchoNumbers": echo}))
            volumes.append((u16(2048 + (phase - 2048) * echo / 3.0),
                            {"EchoTime": time, "EchoNumbers": echo, "ImageType": PHASE_TYPE}))
        return volumes, affine
    return [(u16(base), {})], affine


def interleaved(count: int, repetition_ms: float) -> list[float]:
    """Slice times (ms) of an interleaved acquisition: odd slices first, then even."""
    order = list(range(0, count, 2)) + list(range(1, count, 2))
    step = repetition_ms / count
    times = [0.0] * count
    for position, index in enumerate(order):
        times[index] = round(position * step, 1)
    return times


def research_series(root: Path, person: dict, study: dict, time: str, seed: int) -> None:
    """Write the research series of one session (see the module's description)."""
    for number, description, acquisition, kind in RESEARCH:
        volumes, affine = _volumes(kind, seed * 10 + number)
        series = {
            "uid": f"{study['uid']}.{number}",
            "number": number,
            "time": f"{int(time[:2]) + 1:02d}{number:02d}{time[4:6]}",
            "description": description,
            "protocol": description,
            "comments": "",
            "acquisition": acquisition,
            "private": {
                "PatientNameCopy": str(person["name"]),
                "PatientIDCopy": person["id"],
                "OperatorNote": f"scanned by {SITE['operator']} for {person['name']}",
                "CoilName": "HeadNeck_20",
            },
        }
        slice_times = interleaved(SLAB, 2000.0) if kind == "bold" else None
        dicom_export.write_dicom_volumes(volumes, affine,
                                     root / f"{number:03d}_{description.replace(' ', '_')}",
                                     person, study, series, slice_times_ms=slice_times)


def study_tree(person_key: str, session: int, date: str, time: str, age: str, seed: int):
    """Write one session of the DICOM study; returns nothing, files land under OUT."""
    person = PEOPLE[person_key]
    family = person["name"].family_name.upper().replace(" ", "")
    given = person["name"].given_name.upper()
    birth = data_birth = person["birth_date"].replace("-", "")
    root = OUT / "dicom_study" / f"{family}_{given}_{data_birth}" / f"{date}_{person['id']}"
    study = dict(SITE)
    person_number = list(PEOPLE).index(person_key) + 1
    study.update(
        uid=f"{SITE_ROOT}.1.{person_number}.{session}",
        frame_uid=f"{SITE_ROOT}.2.{person_number}.{session}",
        date=date,
        time=time,
        age=age,
        accession=f"ACC{date}{person_number:02d}{session}",
        study_id=f"{family[:6]}{session:02d}",
        description=f"Research brain {family} {person['id']}",
    )
    for contrast, spec in SERIES.items():
        scan = simulate.simulate_scan(
            seed * 10 + spec["number"], contrast=contrast, zooms=spec["zooms"],
            head_scale=person["head_scale"], truth=False,
            axes="ASR" if contrast == "T1w" else "RAS",
        )
        fill = {"family": family.title(), "pid": person["id"]}
        series = {
            "uid": f"{study['uid']}.{spec['number']}",
            "number": spec["number"],
            "time": f"{int(time[:2]) + spec['number'] // 4:02d}{time[2:]}",
            "description": spec["description"].format(**fill),
            "protocol": spec["protocol"].format(**fill),
            "comments": spec["comments"].format(**fill),
            "acquisition": spec["acquisition"],
            "private": {
                "PatientNameCopy": str(person["name"]),
                "PatientIDCopy": person["id"],
                "OperatorNote": f"scanned by {SITE['operator']} for {person['name']}",
                "CoilName": spec["coil"],
            },
        }
        folder = root / f"{spec['number']:03d}_{series['description'].replace(' ', '_')}"
        dicom_export.write_dicom_series(scan.image, folder, person, study, series)
        if person_key == "jansen" and session == 1:
            if contrast == "T1w":
                research_series(root, person, study, time, seed)
            save_nifti(scan.image, OUT / f"participant_{contrast}.nii.gz")
            if contrast == "T1w":
                shot = dict(series, uid=f"{study['uid']}.99", number=99, modality="OT",
                            description=f"Screen capture {family}")
                dicom_export.write_screenshot(
                    scan.image, root / "099_Screen_capture" / f"SC_{birth}.dcm",
                    person, study, shot,
                )


MANIFEST = [
    ("template_head", "template_head.nii.gz", "nifti", "MIT (pydeface 2.1.0)",
     "pydeface 2.1.0 data/mean_reg2mean.nii.gz, resampled to 1.5 mm",
     "Averaged head template with a face (a mean of many heads, not one person)"),
    ("template_facemask", "template_facemask.nii.gz", "nifti", "MIT (pydeface 2.1.0)",
     "pydeface 2.1.0 data/facemask.nii.gz, resampled to 1.5 mm",
     "Face mask of the template: 0 on the face region, 1 elsewhere"),
    ("template_brainmask", "template_brainmask.nii.gz", "nifti", "CC0",
     "derived from the template by tools/make_brainmask.py",
     "Brain mask of the template, for checking that defacing leaves the brain alone"),
    ("participant_T1w", "participant_T1w.nii.gz", "nifti", "CC0",
     "simulated from the template by tools/make_samples.py (seed 1013)",
     "Simulated participant, T1-weighted, 2 mm, sagittal oblique grid, moved head"),
    ("participant_T2w", "participant_T2w.nii.gz", "nifti", "CC0",
     "simulated from the template by tools/make_samples.py (seed 1015)",
     "Simulated participant, T2-weighted-like, 1.5 x 1.5 x 5 mm thick axial slices"),
    ("dicom_study", "dicom_study", "dicom-folder", "CC0",
     "written by tools/make_samples.py from simulated scans",
     "DICOM export of two invented people (3 sessions) with planted identifiers; the "
     "first session also has a 3D T2w (TE 408 ms), a BOLD run, a diffusion series, a field "
     "map, a multi-echo gradient echo and a series the shipped mapping does not know"),
    ("pydicom_MR_small", "pkg:pydicom:data/test_files/MR_small.dcm", "dicom", "MIT (pydicom)",
     "shipped inside the pydicom package", "A real vendor MR header (pydicom's test file)"),
    ("nibabel_siemens_dicom", "pkg:nibabel:nicom/tests/data/1.dcm", "dicom",
     "MIT (nibabel)", "shipped inside the nibabel package",
     "A real Siemens DICOM file with CSA private headers (nibabel's test file)"),
]


def write_tables() -> None:
    """Write MANIFEST.tsv, CHECKSUMS.tsv and PROVENANCE.md for everything present in OUT."""
    with (OUT / "MANIFEST.tsv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["name", "path", "kind", "licence", "source", "description"])
        writer.writerows(MANIFEST)
    rows = []
    for _name, path, *_ in MANIFEST:
        if path.startswith("pkg:"):
            continue
        target = OUT / path
        files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
        rows += [(p.relative_to(OUT).as_posix(), data.sha256(p)) for p in files if p.exists()]
    with (OUT / "CHECKSUMS.tsv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["path", "sha256"])
        writer.writerows(rows)
    write_provenance()


PROVENANCE_HEAD = """# Provenance of the sample data

Written by `tools/make_samples.py` (do not edit by hand; run the script again). No file here
shows or names a real person: the simulated scans are made from an averaged template, and every
name, number, address and date in the DICOM headers and folder names is invented.

Remake everything (same bytes, the script is seeded):

    pip download --no-deps pydeface==2.1.0 -d /tmp/pydeface
    python tools/make_samples.py /tmp/pydeface/pydeface-2.1.0-py3-none-any.whl
    python tools/make_brainmask.py

## Licences

- `template_head.nii.gz` and `template_facemask.nii.gz` are resampled from the data files of
  [pydeface](https://github.com/poldracklab/pydeface) 2.1.0 (`data/mean_reg2mean.nii.gz`, an
  average of many registered heads, and `data/facemask.nii.gz`), MIT licence ("Copyright (c)
  2015", the pydeface authors); the licence text ships with pydeface.
- Everything else made here (brain mask, simulated scans, DICOM study) is dedicated to the
  public domain (CC0 1.0).
- `pydicom_MR_small` and `nibabel_siemens_dicom` are not copied here: they are read from the
  installed pydicom and nibabel packages (MIT licences).

## Samples

| name | path | licence | how it was made | description |
|---|---|---|---|---|
"""


def write_provenance() -> None:
    """Write PROVENANCE.md: the samples and the sha256 of every file."""
    lines = [PROVENANCE_HEAD.rstrip("\n")]
    lines += [f"| {n} | `{p}` | {lic} | {src} | {desc} |" for n, p, _, lic, src, desc in MANIFEST]
    lines += ["", "## Checksums (sha256) of every file", "", "| file | sha256 |", "|---|---|"]
    with (OUT / "CHECKSUMS.tsv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    lines += [f"| `{path}` | `{digest}` |" for path, digest in rows]
    (OUT / "PROVENANCE.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(wheel: Path) -> None:
    """Make all samples."""
    with tempfile.TemporaryDirectory() as tmp:
        head, mask = template_from_wheel(wheel, Path(tmp))
    save_nifti(head, OUT / "template_head.nii.gz")
    save_nifti(mask, OUT / "template_facemask.nii.gz")
    write_tables()  # so that mrishare.data finds the template while simulating
    shutil.rmtree(OUT / "dicom_study", ignore_errors=True)
    for session in SESSIONS:
        study_tree(*session)
    write_tables()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
