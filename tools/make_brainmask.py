"""Derive the template's brain mask: ``data_samples/template_brainmask.nii.gz``.

Usage: ``python tools/make_brainmask.py [--png FOLDER]``

pydeface's template head comes without a brain mask, and mrishare needs one to check that
defacing never removes brain. It is made here, offline and reproducibly, from nilearn's
bundled MNI152 template and brain mask (skull-stripped, shipped inside nilearn):

1. Start: the MNI brain placed in the head by its extent (centred left-right, its back
   12 mm in front of the back of the head, its top 12 mm below the top of the head),
   shifted front-back by -10 to 20 mm and scaled by 0.85 or 1: eight starts, each
   registered at 8 and 4 mm by normalised correlation; the best match wins (the others
   end in poor local optima, e.g. a brain blown up to the scalp).
2. From the best start, one more affine registration by normalised correlation at 4 and
   2 mm, with the MNI brain mask grown by 4 mm limiting where the metric looks (same
   contrast: dark CSF and skull must meet dark). It fits the brain's inside well but, with
   nothing to pin the scale, leaves the brain a little small: the MNI mask carried by it
   is the *core* (about 1210 ml).
3. The core grown in 1.5 mm steps (at most 12 mm, never beyond 9 mm of the core) into
   voxels brighter than CSF and skull (smoothed template intensity above 150, about 40%
   of white matter), then closed and its holes filled.

The result is checked: its volume must be that of an adult brain (1200-1700 ml), it must
not touch the template's face region, and with ``--png`` overlays on 12 slices are saved
to look at.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage as ndi

from mrishare import data, deface

OUT = Path(__file__).resolve().parents[1] / "data_samples"
THRESHOLD = 150.0  # smoothed template intensity separating tissue from CSF and bone
GROW_STEPS = 8  # voxels of 1.5 mm
OUTER_STEPS = 6  # voxels of 1.5 mm: the growth stays within 9 mm of the core
VOLUME_ML = (1200.0, 1700.0)
SHIFTS_MM = (-10.0, 0.0, 10.0, 20.0)  # front-back shifts of the start
SCALES = (0.85, 1.0)  # sizes of the start


def _mni():
    import warnings

    from nilearn import datasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        template = datasets.load_mni152_template(resolution=1)
        mask = datasets.load_mni152_brain_mask(resolution=1)
    return template, mask


def _start(head_data: np.ndarray, head_affine: np.ndarray, mni_mask) -> np.ndarray:
    """MNI world -> head world: a translation placing the MNI brain by the head's extent."""

    def extent(mask, affine):
        ijk = np.argwhere(mask)
        world = (affine @ np.c_[ijk, np.ones(len(ijk))].T)[:3]
        return world.min(axis=1), world.max(axis=1)

    head_lo, head_hi = extent(head_data > 0.15 * np.percentile(head_data, 99), head_affine)
    brain_lo, brain_hi = extent(np.asarray(mni_mask.dataobj) > 0.5, mni_mask.affine)
    start = np.eye(4)
    start[0, 3] = (head_lo[0] + head_hi[0]) / 2 - (brain_lo[0] + brain_hi[0]) / 2
    start[1, 3] = (head_lo[1] + 12.0) - brain_lo[1]
    start[2, 3] = (head_hi[2] - 12.0) - brain_hi[2]
    return start


def _carry(mask_img, matrix: np.ndarray, head) -> np.ndarray:
    """The MNI mask in the head's grid; ``matrix`` maps MNI world to head world."""
    voxels = np.linalg.inv(mask_img.affine) @ np.linalg.inv(matrix) @ head.affine
    coords = np.indices(head.shape, dtype=np.float32).reshape(3, -1)
    coords = voxels[:3, :3].astype(np.float32) @ coords + voxels[:3, 3:4].astype(np.float32)
    values = np.asarray(mask_img.dataobj, np.float32)
    return ndi.map_coordinates(values, coords, order=1).reshape(head.shape) > 0.5


def make_brainmask() -> tuple[nib.Nifti1Image, dict]:
    """Return the brain mask image and a few numbers about it."""
    head = data.load_sample("template_head")
    face = np.asarray(data.load_sample("template_facemask").dataobj) < 0.5
    head_data = np.asarray(head.dataobj, np.float32)
    template, mask = _mni()

    fixed = deface.downsample(np.asarray(template.dataobj, np.float32), template.affine, 2.0)
    region = deface.downsample(np.asarray(mask.dataobj, np.float32), template.affine, 2.0)[0]
    region = ndi.binary_dilation(region > 0.5, iterations=2)
    moving = deface.downsample(head_data, head.affine, 2.0)
    start = _start(head_data, head.affine, mask)
    # The correlation fit has poor local optima (a brain blown up to the scalp): try a few
    # starts at 8 and 4 mm and keep the best match, then refine it at 2 mm.
    tries = []
    for shift, scale in itertools.product(SHIFTS_MM, SCALES):
        initial = start.copy()
        initial[1, 3] += shift
        initial[:3, :3] *= scale
        tries.append(
            deface.register(
                fixed, moving, fixed_mask=region, initial=initial, levels_mm=(8.0, 4.0),
                sampling=0.3, metric="correlation",
            )
        )
    best = min(tries, key=lambda r: r.metric)
    result = deface.register(
        fixed, moving, fixed_mask=region, initial=best.matrix, levels_mm=(4.0, 2.0),
        sampling=0.3, metric="correlation", stages=("affine",),
    )
    found = {"core": _carry(mask, result.matrix, head)}
    found["outer"] = ndi.binary_dilation(found["core"], iterations=OUTER_STEPS)

    smooth = ndi.gaussian_filter(head_data, 0.7)
    allowed = (smooth > THRESHOLD) & found["outer"]
    brain = found["core"].copy()
    for _ in range(GROW_STEPS):
        brain = (ndi.binary_dilation(brain) & allowed) | found["core"]
    brain = ndi.binary_fill_holes(ndi.binary_closing(brain, iterations=2))

    zooms = np.asarray(head.header.get_zooms()[:3], float)
    ml = float(brain.sum() * zooms.prod() / 1000.0)
    facts = {
        "volume_ml": ml,
        "core_ml": float(found["core"].sum() * zooms.prod() / 1000.0),
        "outer_ml": float(found["outer"].sum() * zooms.prod() / 1000.0),
        "face_overlap_voxels": int((brain & face).sum()),
    }
    if not VOLUME_ML[0] <= ml <= VOLUME_ML[1]:
        raise RuntimeError(f"The brain mask holds {ml:.0f} ml, not an adult brain: {facts}")
    if facts["face_overlap_voxels"]:
        raise RuntimeError(f"The brain mask reaches into the face region: {facts}")
    image = nib.Nifti1Image(brain.astype(np.uint8), head.affine)
    image.header.set_xyzt_units("mm", "sec")
    image.set_qform(head.affine, code=1)
    image.set_sform(head.affine, code=1)
    return image, facts


def save_overlays(mask: nib.Nifti1Image, folder: Path) -> list[Path]:
    """Save the mask's outline on 12 slices of the template head (for a look by eye)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    head = np.asarray(data.load_sample("template_head").dataobj, np.float32)
    brain = np.asarray(mask.dataobj) > 0
    face = np.asarray(data.load_sample("template_facemask").dataobj) < 0.5
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for axis, name in enumerate(("sagittal", "coronal", "axial")):
        figure, axes = plt.subplots(1, 4, figsize=(16, 4.5))
        for ax, share in zip(axes, (0.25, 0.45, 0.6, 0.75), strict=True):
            index = int(share * head.shape[axis])
            cut = [slice(None)] * 3
            cut[axis] = index
            ax.imshow(head[tuple(cut)].T, origin="lower", cmap="gray")
            ax.contour(brain[tuple(cut)].T, [0.5], colors="r", linewidths=0.8)
            if face[tuple(cut)].any():
                ax.contour(face[tuple(cut)].T, [0.5], colors="y", linewidths=0.8)
            ax.set_title(f"{name} {index}")
            ax.set_axis_off()
        path = folder / f"template_brainmask_{name}.png"
        figure.savefig(path, dpi=70, bbox_inches="tight")
        plt.close(figure)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=Path, help="save overlay pictures in this folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_samples

    image, facts = make_brainmask()
    make_samples.save_nifti(image, OUT / "template_brainmask.nii.gz")
    make_samples.write_tables()
    print(", ".join(f"{k} {v:.0f}" for k, v in facts.items()))
    if args.png:
        for path in save_overlays(image, args.png):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
