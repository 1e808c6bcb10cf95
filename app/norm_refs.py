"""How a diagram cites the law, defined once for the engine (deploy checks) and the traceability
matrix: the first line of an element's documentation is `norm: <id>; <id>...`, each id of the form
`14-5`, `14-5 ч.1` or `14-10 пп.1`. Free of SpiffWorkflow, so the matrix loads without it."""

from __future__ import annotations

import re

NORM_LINE = re.compile(r"^norm:\s*(?P<norms>.+)$")
NORM_ID = re.compile(r"^14-\d{1,2}(?: ч\.\d| пп\.\d)?$")


def cited_norms(documentation: str | None) -> tuple[str, ...]:
    """The norm ids a `norm: ...` first line of documentation cites, in order; () when there is none."""
    lines = (documentation or "").strip().splitlines()
    match = NORM_LINE.match(lines[0].strip()) if lines else None
    if not match:
        return ()
    return tuple(p.strip() for p in match.group("norms").split(";") if p.strip())
