"""What only the book needs: teaching helpers the tool itself never imports.

The core of mrishare (DICOM, BIDS, defacing, audit, the ``prepare`` pipeline and the
command line) works without this package. The notebooks use it to simulate data, compare
tools, explain what they show and let a reader click through the decision tree.

Examples
--------
>>> import mrishare.lessons
>>> mrishare.lessons.__name__
'mrishare.lessons'
"""
