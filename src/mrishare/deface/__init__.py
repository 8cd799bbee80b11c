"""Remove the face from a head scan, and never the brain.

Two methods, both pip-only:

``"template"`` (the default)
    pydeface's method without FSL: the shipped template head is registered to the scan
    (rigid, then affine; Mattes mutual information; 8 and 4 mm levels), the template's face
    mask is carried into the scan's grid by that transform, and the voxels under it are
    set to zero.
``"quickshear"``
    Quickshear's method: a plane under the brain, tangent to the brain's convex hull seen
    from the side, and everything in front of and below it removed (see
    :mod:`mrishare.deface.quickshear`).

Either way the result keeps the input's grid, affine, data type and scaling; voxels
outside the removed region keep their stored values bit for bit. The header's free-text
fields are cleared and extensions dropped.

Every result carries the template's brain mask and face region in the scan's grid, so
:mod:`mrishare.qc` can tell how much brain was removed and how much of the face region, against
the targets in ``rules/deface_qc.yaml`` (:mod:`mrishare.deface.targets`); and, so that the
check does not grade itself, the face region placed by an independent registration and a
face detector on renders before and after (:mod:`mrishare.deface.detect`).

The modules, one job each:

=============================  ==========================================================
:mod:`~.images`                load and check a head image; stored values; head signal
:mod:`~.registration`          SimpleITK registration between RAS grids
:mod:`~.template`              the template head and masks, placed on a scan and carried
:mod:`~.quickshear`            quickshear's plane
:mod:`~.apply`                 zero the removed voxels, keep the rest bit for bit
:mod:`~.scan`                  deface one scan, or another scan through it
:mod:`~.session`               deface a session and check each image
:mod:`~.presence`              is a face still there?
:mod:`~.detect`                a face detector on renders of the head
:mod:`~.targets`               the targets, read from ``rules/deface_qc.yaml``
=============================  ==========================================================

Examples
--------
>>> from mrishare import deface
>>> from mrishare.lessons import simulate
>>> scan = simulate.simulate_scan(seed=1, zooms=(3.0, 3.0, 3.0), truth=False)
>>> result = deface.deface(scan.image)
>>> result.image.shape == scan.image.shape
True
>>> int(result.removed.sum()) > 0
True
"""

from __future__ import annotations

from mrishare.deface.apply import apply_mask
from mrishare.deface.detect import DetectorCheck, FaceDetection, detect_faces
from mrishare.deface.images import (
    WHOLE_HEAD_MM,
    head_mask,
    load_image,
    narrowest_extent_mm,
    scaling,
    stored_values,
    voxel_ml,
)
from mrishare.deface.presence import FACE_PRESENT_SHARE, FaceCheck, face_present
from mrishare.deface.quickshear import QUICKSHEAR_BUFFER_MM, quickshear_mask
from mrishare.deface.registration import LEVELS_MM, Registration, downsample, register
from mrishare.deface.scan import METHODS, DefaceResult, deface, deface_other
from mrishare.deface.session import DefacedImage, deface_images
from mrishare.deface.targets import QCTargets, Target, load_targets
from mrishare.deface.template import (
    MIN_FIT,
    MIN_HEAD_SHARE,
    MIN_MATCH,
    carry,
    register_template,
    template_regions,
)
from mrishare.errors import DefaceError

__all__ = [
    "WHOLE_HEAD_MM",
    "FACE_PRESENT_SHARE",
    "LEVELS_MM",
    "METHODS",
    "MIN_FIT",
    "MIN_HEAD_SHARE",
    "MIN_MATCH",
    "QUICKSHEAR_BUFFER_MM",
    "DefaceError",
    "DefaceResult",
    "DefacedImage",
    "DetectorCheck",
    "FaceDetection",
    "FaceCheck",
    "QCTargets",
    "Registration",
    "Target",
    "apply_mask",
    "carry",
    "deface",
    "deface_images",
    "deface_other",
    "detect_faces",
    "downsample",
    "face_present",
    "head_mask",
    "load_image",
    "narrowest_extent_mm",
    "load_targets",
    "quickshear_mask",
    "register",
    "register_template",
    "scaling",
    "stored_values",
    "template_regions",
    "voxel_ml",
]
