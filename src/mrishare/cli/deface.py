"""Remove the face from a head scan (and from other scans of the same session).

The shipped template head is registered to IN (rigid, then affine; no FSL needed), its
face region is carried into IN's grid and zeroed (--method template, pydeface's method),
or everything in front of and below a plane under the brain is (--method quickshear).
Other contrasts given with --apply-to are registered to IN and lose the same region.

Every result is checked: no brain removed, at least 95% of the face region removed, a good
fit of the template, the same face share in a region placed by an independent registration,
and a face detector on renders before and after (a face found after fails; no face found
before means the check could not run). A result that misses a target is reported as FAILED (exit 1);
the files are still written so you can look at them, and --qc-png draws the evidence.
Bad input (not a 3D image, no head, registration failing) writes nothing (exit 3).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mrishare.cli import EXIT_FAILED_INPUTS, EXIT_FOUND, EXIT_OK, UsageError
from mrishare.cli._common import preload

HELP = "remove the face from a head scan, with QC (template or quickshear)"

log = logging.getLogger("mrishare")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this command's arguments."""
    parser.add_argument("input", metavar="IN", help="head scan to deface (.nii or .nii.gz)")
    parser.add_argument("output", metavar="OUT", help="where to write the defaced scan")
    parser.add_argument("--method", choices=["template", "quickshear"], default="template",
                        help="how to find the face")
    parser.add_argument("--mask-out", metavar="F",
                        help="also write the removed voxels as a mask (BIDS *_defacemask)")
    parser.add_argument("--qc-png", metavar="F",
                        help="save before/after renders and QC numbers as a PNG")
    parser.add_argument("--no-face-detector", action="store_true",
                        help="skip the face detector on renders (faster; QC then rests on "
                        "the registrations only)")
    parser.add_argument("--apply-to", nargs=2, action="append", metavar=("IMG", "OUT"),
                        default=[], help="deface another scan of the session the same way "
                        "(repeatable)")


def main(args: argparse.Namespace) -> int:
    """Run ``mrishare deface``."""
    from mrishare import deface, qc, readers
    from mrishare.errors import MrishareError

    sources = [Path(args.input), *[Path(a) for a, _ in args.apply_to]]
    targets = [Path(args.output), *[Path(b) for _, b in args.apply_to]]
    extra = [Path(p) for p in (args.mask_out, args.qc_png) if p]
    resolved = [p.resolve() for p in targets + extra]
    if len(set(resolved)) != len(resolved):
        raise UsageError("two outputs have the same path; give each output its own name")
    if set(resolved) & {p.resolve() for p in sources}:
        raise UsageError("an output is also an input; originals are never overwritten")
    for source in sources:
        if not source.is_file():
            print(f"mrishare deface: {source}: no such file; nothing written.", file=sys.stderr)
            return EXIT_FAILED_INPUTS
    if args.qc_png or not args.no_face_detector:
        preload("cv2")
    try:
        done = deface.deface_images(args.input, [other for other, _ in args.apply_to],
                                    args.method, detector=not args.no_face_detector)
    except MrishareError as error:  # DefaceError, or an input that cannot be read
        print(f"mrishare deface: {error} Nothing was written.", file=sys.stderr)
        return EXIT_FAILED_INPUTS
    results, reports = [d.result for d in done], [d.qc for d in done]
    for result, target in zip(results, targets, strict=True):
        readers.save_nifti(result.image, target)
    if args.mask_out:
        readers.save_nifti(results[0].mask_image(), args.mask_out)
    if args.qc_png:
        from mrishare._paths import atomic_write
        from mrishare.render import sheet

        picture = qc.picture(results[0], reports[0])  # runs the detector when it was skipped
        with atomic_write(args.qc_png) as f:
            f.write(sheet.png(picture))
    failed = False
    for number, (report, target) in enumerate(zip(reports, targets, strict=True)):
        label = "image" if number == 0 else f"--apply-to image {number}"
        text = qc.summary(report)
        if report.passed:
            log.info("%s: %s", label, text)
        else:
            failed = True
            print(f"mrishare deface: {label} ({target.name}): {text}", file=sys.stderr)
    return EXIT_FOUND if failed else EXIT_OK
