"""Load and check `norms.toml`, the catalogue of the norm parts of chapter 2-1.

The catalogue is the fixed list every diagram `norm:` line and every `@pytest.mark.norm(...)` is
checked against, so a typo anywhere shows as "not in the catalogue" instead of silently creating a
new norm. A broken catalogue would make every check meaningless, so loading refuses it with a
message that names the file, the line and the entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The citation syntax is defined once, in app/norm_refs.py (the engine uses it too); re-exported here.
from app.norm_refs import NORM_ID, NORM_LINE, cited_norms  # noqa: F401

CATALOGUE_PATH = Path(__file__).with_name("norms.toml")
SCHEMA = 1
_REQUIRED = {"id", "text_ru", "gloss_en"}
_OPTIONAL = {"lead_ru"}
_HEADER = re.compile(r"^\s*\[\[\s*norm\s*\]\]")


class CatalogueError(ValueError):
    """The catalogue cannot be used; the message starts with `file:line:` where the line is known."""

    def __init__(self, message: str, *, path: Path, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


@dataclass(frozen=True)
class Norm:
    """One norm part: the unit a diagram element, a rule and a test point at."""

    id: str
    text_ru: str
    gloss_en: str
    lead_ru: str | None = None
    line: int | None = None

    @property
    def paragraph(self) -> str:
        """`14-10 пп.1` -> `14-10`: what a paragraph-level citation would name."""
        return self.id.split(" ", 1)[0]


@dataclass(frozen=True)
class Catalogue:
    path: Path
    source: str
    norms: tuple[Norm, ...]

    def ids(self) -> list[str]:
        return [n.id for n in self.norms]

    def get(self, norm_id: str) -> Norm | None:
        return next((n for n in self.norms if n.id == norm_id), None)

    def parts_of(self, paragraph: str) -> list[str]:
        """The catalogue's parts of a paragraph, used to suggest a precise citation."""
        return [n.id for n in self.norms if n.paragraph == paragraph and n.id != paragraph]


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check the catalogue (default: the one beside this module)."""
    path = path or CATALOGUE_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"cannot read the norm catalogue: {exc.strerror or exc}", path=path) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"not valid TOML: {exc}", path=path) from exc
    headers = [n for n, raw in enumerate(text.splitlines(), start=1) if _HEADER.match(raw)]

    unknown = sorted(set(data) - {"schema", "source", "norm"})
    if unknown:
        raise CatalogueError(
            f"unknown top-level keys {unknown}; expected schema, source and [[norm]] entries", path=path
        )
    if data.get("schema") != SCHEMA:
        raise CatalogueError(f"schema must be {SCHEMA}, not {data.get('schema')!r}", path=path)
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise CatalogueError("source must name the act the norms come from", path=path)
    entries = data.get("norm")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError("the catalogue has no [[norm]] entries", path=path)

    norms: list[Norm] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        line = headers[index] if index < len(headers) else None
        norms.append(_norm(entry, index, line, path))
        norm = norms[-1]
        if norm.id in seen:
            raise CatalogueError(
                f"[[norm]] #{index + 1} (id {norm.id!r}): duplicate id, first defined as entry #{seen[norm.id] + 1}",
                path=path,
                line=line,
            )
        seen[norm.id] = index
    return Catalogue(path, source.strip(), tuple(norms))


def _norm(entry: Any, index: int, line: int | None, path: Path) -> Norm:
    label = f"[[norm]] #{index + 1}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{label}: must be a table", path=path, line=line)
    if isinstance(entry.get("id"), str):
        label += f" (id {entry['id']!r})"
    missing = sorted(_REQUIRED - set(entry))
    if missing:
        raise CatalogueError(f"{label}: missing key(s) {missing}", path=path, line=line)
    extra = sorted(set(entry) - _REQUIRED - _OPTIONAL)
    if extra:
        raise CatalogueError(
            f"{label}: unknown key(s) {extra}; allowed: {sorted(_REQUIRED | _OPTIONAL)}", path=path, line=line
        )
    for key in sorted(set(entry)):
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{label}: {key} must be a non-empty string", path=path, line=line)
    if not NORM_ID.match(entry["id"]):
        raise CatalogueError(
            f"{label}: id must be of the form '14-6', '14-5 ч.1' or '14-10 пп.1'", path=path, line=line
        )
    return Norm(
        id=entry["id"],
        text_ru=" ".join(entry["text_ru"].split()),
        gloss_en=" ".join(entry["gloss_en"].split()),
        lead_ru=" ".join(entry["lead_ru"].split()) if "lead_ru" in entry else None,
        line=line,
    )
