"""The matrix as text (terminal), JSON (scripts, the API's shape) and Markdown (docs/traceability.md).

Every renderer is deterministic (no dates, no absolute paths) so the committed Markdown can be
compared byte for byte with a fresh rendering and can never silently go stale.
"""

from __future__ import annotations

import json

from app.traceability.matrix import Element, Matrix, Rule

FORMATS = ("text", "json", "markdown")
REGENERATE = "python -m app traceability --format markdown > docs/traceability.md"


def render(matrix: Matrix, fmt: str) -> str:
    if fmt == "json":
        return render_json(matrix)
    if fmt == "markdown":
        return render_markdown(matrix)
    if fmt == "text":
        return render_text(matrix)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def render_json(matrix: Matrix) -> str:
    return json.dumps(matrix.as_dict(), ensure_ascii=False, indent=2) + "\n"


def _element_text(e: Element) -> str:
    name = f' "{e.name}"' if e.name else ""
    lane = f", lane {e.lane}" if e.lane else ""
    return f"{e.file}#{e.element_id} ({e.element_type}{name}, process {e.process_id}{lane})"


def _rule_text(r: Rule) -> str:
    if r.kind == "signature":
        return f"{r.element_id}: {r.message} [{r.expression}]"
    return f"{r.element_id}: rule:{r.field} = {r.expression} -> {r.message or '(no message)'}"


def render_text(matrix: Matrix) -> str:
    out: list[str] = []
    for row in matrix.norms:
        out.append(f"{row.norm.id} - {row.norm.gloss_en}")
        out.extend(f"  element  {_element_text(e)}" for e in row.elements)
        out.extend(f"  rule     {_rule_text(r)}" for r in row.rules)
        out.extend(f"  test     {t.id}" for t in row.tests)
        if not (row.elements or row.rules or row.tests):
            out.append("  (nothing)")
    out.append("")
    out.append(f"problems: {len(matrix.problems)}")
    out.extend(f"  {p}" for p in matrix.problems)
    return "\n".join(out) + "\n"


def _cell(value: object) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(value if value is not None else "").split()).replace("|", "\\|")


def _code(value: str) -> str:
    value = " ".join(value.split())
    fence = "``" if "`" in value else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{value}{pad}{fence}".replace("|", "\\|")


def render_markdown(matrix: Matrix) -> str:
    out: list[str] = [
        "# Traceability: chapter 2-1 → diagram elements → rules → tests",
        "",
        f"Generated; do not edit by hand. Regenerate with `{REGENERATE}`",
        "(`tests/test_traceability.py` fails when this file is out of date).",
        "",
        f"Source of the norms: {matrix.source}. Catalogue: `app/traceability/norms.toml`.",
        "Elements are the flow nodes of `bpmn/*.bpmn` whose documentation starts with `norm: ...`;",
        "rules are their `rule:<field>` properties and head-only steps (`candidate_role` = `head`), listed under",
        "every norm the element cites, or only under the norm a rule's message starts with (`14-8 ч.1: ...`);",
        "tests are the test functions marked `@pytest.mark.norm(...)`.",
        "",
        "## Summary",
        "",
        "| norm | gloss | elements | rules | tests |",
        "|---|---|---:|---:|---:|",
    ]
    for row in matrix.norms:
        out.append(
            f"| {_cell(row.norm.id)} | {_cell(row.norm.gloss_en)} | {len(row.elements)} | {len(row.rules)} "
            f"| {len(row.tests)} |"
        )
    out += ["", f"## Problems ({len(matrix.problems)})", ""]
    if matrix.problems:
        out.append("| kind | norm | where | message |")
        out.append("|---|---|---|---|")
        for p in matrix.problems:
            out.append(f"| {_cell(p.kind)} | {_cell(p.norm)} | {_cell(p.where)} | {_cell(p.message)} |")
    else:
        out.append("None: every norm has an element and a test, and every flow node cites a catalogued norm.")

    out += ["", "## Norms"]
    for row in matrix.norms:
        norm = row.norm
        out += ["", f"### {norm.id}", ""]
        if norm.lead_ru:
            out += [f"> {norm.lead_ru}", ">"]
        out += [f"> {norm.text_ru}", "", f"*{norm.gloss_en}*", "", "**Diagram elements**", ""]
        if row.elements:
            out += ["| file | element | type | name | process | lane |", "|---|---|---|---|---|---|"]
            out += [
                f"| {_cell(e.file)} | {_code(e.element_id)} | {_cell(e.element_type)} | {_cell(e.name)} "
                f"| {_cell(e.process_id)} | {_cell(e.lane)} |"
                for e in row.elements
            ]
        else:
            out.append("None.")
        out += ["", "**Rules**", ""]
        if row.rules:
            for r in row.rules:
                if r.kind == "signature":
                    out.append(f"- {_code(r.element_id)}: {r.message} ({_code(r.expression)})")
                else:
                    message = r.message or "(no message)"
                    out.append(f"- {_code(r.element_id)}: `rule:{r.field}` {_code(r.expression)}: {message}")
        else:
            out.append("None.")
        out += ["", "**Tests**", ""]
        out += [f"- {_code(t.id)}" for t in row.tests] or ["None."]

    out += [
        "",
        "## Diagram elements → norms",
        "",
        "| file | element | type | name | norms |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {_cell(e.file)} | {_code(e.element_id)} | {_cell(e.element_type)} | {_cell(e.name)} "
        f"| {_cell('; '.join(e.norms)) or '**none**'} |"
        for e in matrix.elements
    ]
    return "\n".join(out) + "\n"
