"""Fail the book build when a notebook ran as long as one cell may (a stalled cell).

A stalled cell (the executor missed a reply the kernel had sent) ends only when the cell
timeout expires, with no error: the notebook still "succeeds", 100 s late. This extension
reads each notebook's run time, which myst-nb records while executing, and warns when it
reaches the cell timeout (``execute.timeout`` in ``_config.yml``). ``make book`` turns
warnings into errors (``-W``), so such a build fails and names the notebook.
"""

from __future__ import annotations

from typing import Any

from sphinx.util import logging

log = logging.getLogger(__name__)


def check_runtimes(app: Any, env: Any) -> None:
    """Warn for every notebook whose run time reached the cell timeout."""
    limit = app.config.nb_execution_timeout
    if not limit or limit < 0:
        return
    for docname, metadata in sorted(getattr(env, "nb_metadata", {}).items()):
        runtime = (metadata.get("exec_data") or {}).get("runtime")
        if runtime is not None and runtime >= limit:
            log.warning(
                f"{docname} ran {runtime:.0f} s, as long as one cell may ({limit} s): a cell "
                "probably stalled (see CONTRIBUTING.md, 'Running the checks').",
                location=docname,
            )


def setup(app: Any) -> dict[str, Any]:
    """Register the check after every document was read (and every notebook executed)."""
    app.connect("env-updated", check_runtimes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
