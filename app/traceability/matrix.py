"""The traceability matrix: norm part -> diagram elements -> rules -> tests.

An auditor starts from a sentence of chapter 2-1 and must find what implements it (the flow nodes
whose documentation starts with `norm: ...`), what enforces it (`rule:<field>` properties and
head-only steps) and what proves it (tests marked `@pytest.mark.norm(...)`). Everything is read
statically: diagrams with lxml (no DTD, no entity expansion, no network), tests with `ast` (no
import, no pytest run), so the matrix is cheap, safe on any checkout, and the same for the CLI,
the API and docs/traceability.md.

SpiffWorkflow is not imported here (only app/engine may); the `norm:` line is read by
app/norm_refs.py `cited_norms`, which the engine's deploy checks use too.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from app.config import PROJECT_ROOT
from app.traceability.norms import CATALOGUE_PATH, Catalogue, Norm, cited_norms, load_catalogue

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
# Flow nodes: what a token passes through. Sequence flows, lanes, data objects and the process
# itself carry no behaviour of their own, so they need no norm.
FLOW_NODE_TAGS = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "scriptTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "callActivity",
    }
)
SIGNATURE_RULE = "signature by first head or acting head (delegation)"
TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")


@dataclass(frozen=True)
class Element:
    """A flow node of a diagram and the norms its documentation cites."""

    file: str
    element_id: str
    element_type: str
    name: str | None
    process_id: str | None
    lane: str | None
    line: int | None
    norms: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "element_type": self.element_type,
            "name": self.name,
            "process_id": self.process_id,
            "lane": self.lane,
            "line": self.line,
            "norms": list(self.norms),
        }


@dataclass(frozen=True)
class Rule:
    """A check the engine makes on an element: a `rule:<field>` expression or a head-only step."""

    kind: str  # "rule" (a rule:<field> property) or "signature" (candidate_role = head)
    file: str
    element_id: str
    field: str | None
    expression: str
    message: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "element_id": self.element_id,
            "field": self.field,
            "expression": self.expression,
            "message": self.message,
        }


@dataclass(frozen=True)
class TestRef:
    """A test function found statically, with the norms its markers name (its own, class and module)."""

    __test__ = False  # not a pytest test class, despite the name

    id: str
    file: str
    line: int
    norms: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "file": self.file, "line": self.line}


@dataclass(frozen=True)
class Problem:
    """A gap in the chain law -> diagram -> test; `kind` is stable for scripts, `message` for people."""

    kind: str
    message: str
    norm: str | None = None
    file: str | None = None
    element_id: str | None = None
    test: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "norm": self.norm,
            "file": self.file,
            "element_id": self.element_id,
            "test": self.test,
            "line": self.line,
        }

    @property
    def where(self) -> str:
        """The test, the element (with its line) or the file at fault; empty for a norm-level gap."""
        where = self.test or (f"{self.file}#{self.element_id}" if self.element_id else self.file)
        if where and self.line is not None and not self.test:
            where += f" (line {self.line})"
        return where or ""

    def __str__(self) -> str:
        where = self.where or self.norm
        return f"[{self.kind}] {where + ': ' if where else ''}{self.message}"

    @classmethod
    def at(cls, element: Element, kind: str, message: str, norm: str | None = None) -> Problem:
        """A problem of one diagram element, located by its file, id and line."""
        return cls(kind, message, norm=norm, file=element.file, element_id=element.element_id, line=element.line)


@dataclass(frozen=True)
class NormRow:
    norm: Norm
    elements: tuple[Element, ...]
    rules: tuple[Rule, ...]
    tests: tuple[TestRef, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.norm.id,
            "text_ru": self.norm.text_ru,
            "lead_ru": self.norm.lead_ru,
            "gloss_en": self.norm.gloss_en,
            "elements": [e.as_dict() for e in self.elements],
            "rules": [r.as_dict() for r in self.rules],
            "tests": [t.as_dict() for t in self.tests],
        }


@dataclass(frozen=True)
class Matrix:
    source: str
    norms: tuple[NormRow, ...]
    elements: tuple[Element, ...]  # every flow node of every diagram, cited or not
    problems: tuple[Problem, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "norms": [n.as_dict() for n in self.norms],
            "elements": [e.as_dict() for e in self.elements],
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class _Scan:
    elements: list[Element] = field(default_factory=list)
    rules: dict[str, list[Rule]] = field(default_factory=dict)  # element key -> rules
    tests: list[TestRef] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# --- diagrams -------------------------------------------------------------------------------------


def _parse_bpmn(content: bytes) -> etree._Element:
    """Parse XML without ever expanding an entity or fetching anything; refuse a DOCTYPE outright."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(content, parser)
    if root.getroottree().docinfo.doctype:
        raise ValueError("XML document type declarations are not accepted; remove the <!DOCTYPE> block")
    return root


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def norms_of(node: etree._Element) -> tuple[str, ...]:
    """The norms cited by the first line of the first bpmn:documentation (as app/engine reads it)."""
    doc = node.find("bpmn:documentation", NS)
    return cited_norms(doc.text if doc is not None else None)


def _properties(node: etree._Element) -> list[tuple[str, str]]:
    path = "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
    return [(p.get("name", ""), p.get("value", "")) for p in node.xpath(path, namespaces=NS)]


def _rules(element: Element, props: list[tuple[str, str]], scan: _Scan) -> list[Rule]:
    values = dict(props)
    rules: list[Rule] = []
    for name, value in props:
        if name.startswith("rule:"):
            name_field = name.removeprefix("rule:")
            message = values.get(f"message:{name_field}")
            rules.append(Rule("rule", element.file, element.element_id, name_field, value, message))
            if not message:
                scan.problems.append(
                    Problem.at(
                        element,
                        "rule_without_message",
                        f"property {name!r} has no 'message:{name_field}' to show when it fails",
                    )
                )
        elif name.startswith("message:") and f"rule:{name.removeprefix('message:')}" not in values:
            scan.problems.append(
                Problem.at(
                    element,
                    "message_without_rule",
                    f"property {name!r} has no 'rule:{name.removeprefix('message:')}' (a misspelt field?)",
                )
            )
    if values.get("candidate_role") == "head":
        rules.append(Rule("signature", element.file, element.element_id, None, "candidate_role = head", SIGNATURE_RULE))
    return rules


def _scan_bpmn_file(path: Path, root: Path, scan: _Scan) -> None:
    shown = _display(path, root)
    try:
        tree = _parse_bpmn(path.read_bytes())
    except (OSError, ValueError, etree.XMLSyntaxError) as exc:
        scan.problems.append(Problem("bpmn_unreadable", f"cannot read the diagram: {exc}", file=shown))
        return
    lane_of: dict[str, str] = {}
    for ref in tree.iter(f"{{{BPMN}}}flowNodeRef"):
        lane = ref.getparent()
        lane_of[(ref.text or "").strip()] = (lane.get("name") or lane.get("id") or "") if lane is not None else ""
    for node in tree.iter(f"{{{BPMN}}}*"):
        if _local(node) not in FLOW_NODE_TAGS:
            continue
        process = next((a for a in node.iterancestors(f"{{{BPMN}}}process")), None)
        element = Element(
            file=shown,
            element_id=node.get("id") or "",
            element_type=_local(node),
            name=node.get("name"),
            process_id=process.get("id") if process is not None else None,
            lane=lane_of.get(node.get("id") or ""),
            line=node.sourceline,
            norms=norms_of(node),
        )
        scan.elements.append(element)
        scan.rules[f"{element.file}#{element.element_id}"] = _rules(element, _properties(node), scan)


# --- tests ----------------------------------------------------------------------------------------


def _norm_marks(expr: ast.expr | None) -> Iterator[ast.Call]:
    """`pytest.mark.norm(...)` / `mark.norm(...)` calls in a decorator or a `pytestmark` value."""
    if isinstance(expr, ast.List | ast.Tuple):
        for item in expr.elts:
            yield from _norm_marks(item)
        return
    if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Attribute) or expr.func.attr != "norm":
        return
    owner = expr.func.value
    if (
        isinstance(owner, ast.Attribute)
        and owner.attr == "mark"
        and isinstance(owner.value, ast.Name)
        and owner.value.id == "pytest"
    ) or (isinstance(owner, ast.Name) and owner.id == "mark"):
        yield expr


def _mark_norms(exprs: Iterable[ast.expr | None], where: str, scan: _Scan) -> list[str]:
    found: list[str] = []
    for expr in exprs:
        for call in _norm_marks(expr):
            for arg in call.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append(arg.value.strip())
                else:
                    scan.problems.append(
                        Problem(
                            "test_bad_marker",
                            "pytest.mark.norm(...) takes norm ids as string literals, e.g. '14-7 ч.1'",
                            test=where,
                            line=call.lineno,
                        )
                    )
    return found


def _pytestmark(body: list[ast.stmt]) -> list[ast.expr | None]:
    values: list[ast.expr | None] = []
    for stmt in body:
        value: ast.expr | None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            targets, value = [stmt.target], stmt.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets):
            values.append(value)
    return values


def _collect_tests(body: list[ast.stmt], prefix: str, inherited: list[str], scan: _Scan) -> None:
    """Walk a module or class body the way pytest collects: `test*` functions, `Test*` classes."""
    marks = inherited + _mark_norms(_pytestmark(body), prefix, scan)
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name.startswith("test"):
            test_id = f"{prefix}::{stmt.name}"
            norms = marks + _mark_norms(stmt.decorator_list, test_id, scan)
            if norms:
                scan.tests.append(TestRef(test_id, prefix.split("::", 1)[0], stmt.lineno, tuple(dict.fromkeys(norms))))
        elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
            class_id = f"{prefix}::{stmt.name}"
            _collect_tests(stmt.body, class_id, marks + _mark_norms(stmt.decorator_list, class_id, scan), scan)


def _scan_test_file(path: Path, root: Path, scan: _Scan) -> None:
    shown = _display(path, root)
    try:
        module = ast.parse(path.read_bytes(), filename=shown)
    except (OSError, SyntaxError, ValueError) as exc:
        scan.problems.append(Problem("test_unreadable", f"cannot parse the test file: {exc}", file=shown))
        return
    _collect_tests(module.body, shown, [], scan)


# --- the matrix -----------------------------------------------------------------------------------


def _bpmn_files(bpmn_dir: Path) -> list[Path]:
    return sorted(bpmn_dir.glob("*.bpmn"))


def _test_files(tests_dir: Path) -> list[Path]:
    return sorted(p for p in tests_dir.rglob("*.py") if TEST_FILE.match(p.name) and "__pycache__" not in p.parts)


def _rule_concerns(rule: Rule, element: Element, norm: Norm) -> bool:
    """A rule belongs to every norm its element cites, unless its message starts with one of them
    (`14-8 ч.1: the reply must be ...`): then only to that one, so a multi-norm element's rule is
    not shown as enforcing a norm it does not."""
    named = next((n for n in element.norms if (rule.message or "").startswith(f"{n}:")), None)
    return named is None or named == norm.id


def _label(element: Element) -> str:
    return f"{element.element_type} {element.name!r}" if element.name else element.element_type


def _unknown(cited: str, catalogue: Catalogue) -> str:
    parts = catalogue.parts_of(cited)
    if parts:
        return f"cites {cited!r}, a paragraph the catalogue splits into parts: cite one or more of {', '.join(parts)}"
    return f"cites {cited!r}, which is not in the norm catalogue ({', '.join(catalogue.ids())})"


def build_matrix(
    bpmn_dir: Path | None = None,
    tests_dir: Path | None = None,
    catalogue_path: Path | None = None,
    root: Path | None = None,
) -> Matrix:
    """Build the matrix from the given folders (default: this checkout's bpmn/ and tests/).

    Paths in the result are relative to `root` (default: the project root) so the output is the same
    on every machine. Raises CatalogueError when the catalogue itself is broken; every other gap is
    a Problem in the result.
    """
    root = root or PROJECT_ROOT
    bpmn_dir = bpmn_dir or PROJECT_ROOT / "bpmn"
    tests_dir = tests_dir or PROJECT_ROOT / "tests"
    catalogue = load_catalogue(catalogue_path)
    known = set(catalogue.ids())
    scan = _Scan()

    if not bpmn_dir.is_dir():
        scan.problems.append(Problem("input_missing", "no such folder of diagrams", file=_display(bpmn_dir, root)))
    else:
        for path in _bpmn_files(bpmn_dir):
            _scan_bpmn_file(path, root, scan)
    if tests_dir.is_dir():
        for path in _test_files(tests_dir):
            _scan_test_file(path, root, scan)
    else:
        scan.problems.append(Problem("input_missing", "no such folder of tests", file=_display(tests_dir, root)))

    for element in scan.elements:
        if not element.norms:
            scan.problems.append(
                Problem.at(
                    element,
                    "element_without_norm",
                    f"{_label(element)} has no 'norm: ...' as the first line of its documentation",
                )
            )
        scan.problems += [
            Problem.at(element, "unknown_norm", _unknown(cited, catalogue), norm=cited)
            for cited in element.norms
            if cited not in known
        ]
    for test in scan.tests:
        for cited in test.norms:
            if cited not in known:
                scan.problems.append(
                    Problem("test_unknown_norm", _unknown(cited, catalogue), norm=cited, test=test.id, line=test.line)
                )

    rows: list[NormRow] = []
    for norm in catalogue.norms:
        elements = tuple(e for e in scan.elements if norm.id in e.norms)
        rules = tuple(
            r for e in elements for r in scan.rules.get(f"{e.file}#{e.element_id}", []) if _rule_concerns(r, e, norm)
        )
        tests = tuple(sorted((t for t in scan.tests if norm.id in t.norms), key=lambda t: t.id))
        rows.append(NormRow(norm, elements, rules, tests))
        if not elements:
            scan.problems.append(Problem("norm_without_element", "no diagram element cites this norm", norm=norm.id))
        if not tests:
            scan.problems.append(
                Problem("norm_without_test", "no test is marked @pytest.mark.norm with this norm", norm=norm.id)
            )
    return Matrix(catalogue.source, tuple(rows), tuple(scan.elements), tuple(scan.problems))


# --- a per-process cache for the API --------------------------------------------------------------

_cache: dict[tuple[Path, ...], tuple[tuple[Any, ...], Matrix]] = {}
_cache_lock = threading.Lock()


def _fingerprint(bpmn_dir: Path, tests_dir: Path, catalogue_path: Path) -> tuple[Any, ...]:
    """What the matrix depends on: each input file's path, mtime and size (adding or removing one counts)."""
    files = [catalogue_path]
    files += _bpmn_files(bpmn_dir) if bpmn_dir.is_dir() else []
    files += _test_files(tests_dir) if tests_dir.is_dir() else []
    stamp: list[Any] = [bpmn_dir.is_dir(), tests_dir.is_dir()]
    for path in files:
        try:
            st = path.stat()
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append((str(path), None, None))
    return tuple(stamp)


def cached_matrix(
    bpmn_dir: Path | None = None,
    tests_dir: Path | None = None,
    catalogue_path: Path | None = None,
    root: Path | None = None,
) -> Matrix:
    """`build_matrix`, rebuilt only when an input file changed (a stat per file instead of a parse)."""
    bpmn_dir = bpmn_dir or PROJECT_ROOT / "bpmn"
    tests_dir = tests_dir or PROJECT_ROOT / "tests"
    catalogue_path = catalogue_path or CATALOGUE_PATH
    root = root or PROJECT_ROOT
    key = (bpmn_dir, tests_dir, catalogue_path, root)
    stamp = _fingerprint(bpmn_dir, tests_dir, catalogue_path)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    matrix = build_matrix(bpmn_dir, tests_dir, catalogue_path, root)
    with _cache_lock:
        if len(_cache) > 8:  # a handful of configurations per process at most (tests use temporary folders)
            _cache.clear()
        _cache[key] = (stamp, matrix)
    return matrix
