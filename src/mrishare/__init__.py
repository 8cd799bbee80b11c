"""mrishare: share brain MRI safely.

One module (or package) per concern:

``data``         the sample files shipped with mrishare (path, load, checksum)
``keys``         one secret key gives stable pseudonyms, UIDs and date shifts
``readers``      the one way every command reads DICOM and loads or saves NIfTI
``identifiers``  what identifies a person: the table of identifying attributes
``dicom``        de-identify DICOM files by the standard's profile
``nifti``        NIfTI files without identifying text
``bids``         DICOM series to a BIDS dataset
``deface``       remove the face, keep the brain; ``qc`` checks that it did
``render``       pictures of heads: face renders, slices, the QC picture
``tabular``      participant tables: age bands, k-anonymity
``audit``        find identifiers left anywhere in a dataset
``pipeline``     ``prepare``: a DICOM study to a shareable, audited BIDS dataset
``cli``          the ``mrishare`` command
``rules``        policy as data: every table and threshold the modules apply
``lessons``      what only the book needs (never imported by the tool)
"""

__version__ = "0.1.0"
"""The package's version: the one place it is written (the build reads it from here)."""

HOME = "https://github.com/mrishare/mrishare"
"""The project's home, as in ``_config.yml`` (``make home`` keeps the two equal)."""

__all__ = ["HOME", "__version__"]
