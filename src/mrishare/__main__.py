"""``python -m mrishare``: the same as the ``mrishare`` command."""

from mrishare.cli import main

main()
