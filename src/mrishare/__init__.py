"""mrishare: share brain MRI safely.

One module per concern:

``data``       the sample files shipped with mrishare (path, load, checksum)
``simulate``   invented participants and DICOM studies made from the template head
``keys``       one secret key gives stable pseudonyms, UIDs and date shifts

and, as they are added, ``dicom``, ``nifti``, ``bids``, ``deface``, ``render``, ``qc``,
``tabular``, ``decision``, ``audit``, ``pipeline`` and the ``mrishare`` command (``cli``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mrishare")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

HOME = "https://github.com/mrishare/mrishare"
"""The project's home, as in ``_config.yml`` (``make home`` keeps the two equal)."""

__all__ = ["HOME", "__version__"]
