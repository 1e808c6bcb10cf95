"""The traceability matrix (issue 4): every norm of chapter 2-1 -> diagram elements -> rules -> tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.cli import main
from app.traceability import CATALOGUE_PATH, CatalogueError, build_matrix, load_catalogue, render
from app.traceability.matrix import SIGNATURE_RULE
from app.traceability.norms import NORM_ID, NORM_LINE, cited_norms
from app.traceability.render import REGENERATE

ROOT = Path(__file__).resolve().parents[1]
NORM_IDS = [
    "14-5 ч.1",
    "14-5 ч.2",
    "14-6",
    "14-7 ч.1",
    "14-7 ч.2",
    "14-8 ч.1",
    "14-8 ч.2",
    "14-9 ч.1",
    "14-9 ч.2",
    "14-10 пп.1",
    "14-10 пп.2",
    "14-10 пп.3",
    "14-11",
]

SMALL_CATALOGUE = """schema = 1
source = "test"

[[norm]]
id = "14-5 ч.1"
text_ru = "В течение пяти рабочих дней ..."
gloss_en = "forward within 5 working days"

[[norm]]
id = "14-6"
text_ru = "Подготовку и предоставление ответов ..."
gloss_en = "the MFA replies"

[[norm]]
id = "14-11"
text_ru = "Взаимодействие с договорными органами ..."
gloss_en = "treaty bodies"
"""


def bpmn(*nodes: str, flows: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://example.org">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_mfa" name="MFA"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:dataObject id="data_object"/>
    {"".join(nodes)}
    {flows}
  </bpmn:process>
</bpmn:definitions>
"""


START = (
    '<bpmn:startEvent id="start" name="Received">'
    "<bpmn:documentation>norm: 14-5 ч.1\nfree text</bpmn:documentation></bpmn:startEvent>"
)
REPLY = (
    '<bpmn:userTask id="reply" name="Reply"><bpmn:documentation>norm: 14-6; 14-11</bpmn:documentation>'
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="candidate_role" value="head"/>'
    '<spiffworkflow:property name="rule:language" value="language == reply_language"/>'
    '<spiffworkflow:property name="message:language" value="14-6: the reply is in the language of the communication"/>'
    '<spiffworkflow:property name="rule:sent_on" value="sent_on &gt;= received_on"/>'
    '<spiffworkflow:property name="message:sent_on" value="not before receipt"/>'
    "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
)
END = '<bpmn:endEvent id="end"><bpmn:documentation>norm: 14-5 ч.1</bpmn:documentation></bpmn:endEvent>'
FLOWS = (
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="reply"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="reply" targetRef="end"/>'
)
TESTS = """import pytest
from pytest import mark

pytestmark = [pytest.mark.slow, pytest.mark.norm("14-5 ч.1")]


def test_forwarding():
    pass


@pytest.mark.norm("14-6")
class TestReply:
    pytestmark = pytest.mark.norm("14-11")

    def test_language(self):
        pass

    def helper(self):
        pass


@mark.norm("14-6", "14-11")
async def test_async():
    pass


def helper_not_collected():
    pass
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A complete little project: every norm has an element and a test, every flow node a norm."""
    (tmp_path / "bpmn").mkdir()
    (tmp_path / "bpmn" / "small.bpmn").write_text(bpmn(START, REPLY, END, flows=FLOWS), encoding="utf-8")
    (tmp_path / "tests" / "api").mkdir(parents=True)
    (tmp_path / "tests" / "api" / "test_small.py").write_text(TESTS, encoding="utf-8")
    (tmp_path / "tests" / "api" / "helpers.py").write_text(
        'import pytest\n\n@pytest.mark.norm("14-99")\ndef test_in_a_helper_module(): pass\n', encoding="utf-8"
    )
    (tmp_path / "norms.toml").write_text(SMALL_CATALOGUE, encoding="utf-8")
    return tmp_path


def build(tree: Path):  # type: ignore[no-untyped-def]
    return build_matrix(tree / "bpmn", tree / "tests", tree / "norms.toml", root=tree)


def kinds(matrix) -> list[tuple[str, str | None, str | None]]:  # type: ignore[no-untyped-def]
    return [(p.kind, p.norm, p.element_id or p.test) for p in matrix.problems]


# --- the real repository ------------------------------------------------------------------------


def test_repository_matrix_has_no_problems() -> None:
    """Every norm has a diagram element and a test; every flow node cites a catalogued norm."""
    problems = build_matrix().problems
    if problems:
        pytest.fail(f"{len(problems)} traceability problem(s):\n" + "\n".join(str(p) for p in problems), pytrace=False)


def test_catalogue_lists_the_13_norm_parts_of_chapter_2_1() -> None:
    catalogue = load_catalogue()
    assert catalogue.ids() == NORM_IDS
    for norm in catalogue.norms:
        assert norm.text_ru and norm.gloss_en and norm.line
        assert (norm.lead_ru is not None) == norm.id.startswith("14-10 ")
    assert catalogue.get("14-7 ч.1").text_ru.endswith("либо лиц, исполняющих их обязанности.")  # type: ignore[union-attr]
    assert catalogue.get("14-10 пп.3").text_ru.startswith("3) предложения Уполномоченного")  # type: ignore[union-attr]


def test_norm_syntax_is_the_engines() -> None:
    """The matrix reads `norm:` lines without SpiffWorkflow; this keeps it reading them as deploy does."""
    from app.engine import definitions

    assert NORM_LINE.pattern == definitions.NORM_LINE.pattern
    assert NORM_ID.pattern == definitions.NORM_PART.pattern
    from lxml import etree

    for text in ("norm: 14-5 ч.1; 14-6", " norm:14-9 ;\nsecond line", "norm 14-6", "", "  "):
        doc = f"<bpmn:documentation>{text}</bpmn:documentation>"
        node = etree.fromstring(f'<t xmlns:bpmn="{definitions.NS["bpmn"]}">{doc}</t>')
        assert cited_norms(text) == definitions._norms(node, [])


def test_real_matrix_shape() -> None:
    matrix = build_matrix()
    rows = {row.norm.id: row for row in matrix.norms}
    assert list(rows) == NORM_IDS
    forward = [e for e in rows["14-5 ч.1"].elements if e.element_id == "forward_communication"]
    assert forward and forward[0].file == "bpmn/communication.bpmn"
    assert forward[0].element_type == "userTask" and forward[0].process_id == "communication"
    assert forward[0].lane == "MFA"
    signatures = {r.element_id for r in rows["14-7 ч.1"].rules if r.kind == "signature"}
    assert "sign_information" in signatures
    assert {e.element_type for e in matrix.elements}.isdisjoint({"sequenceFlow", "lane", "process", "dataObject"})


# --- each kind of problem, on a temporary project ---------------------------------------------------


def test_a_complete_project_has_no_problems(tree: Path) -> None:
    matrix = build(tree)
    assert kinds(matrix) == []
    rows = {row.norm.id: row for row in matrix.norms}
    assert [e.element_id for e in rows["14-5 ч.1"].elements] == ["start", "end"]
    start = rows["14-5 ч.1"].elements[0]
    assert (start.file, start.element_type, start.name, start.process_id, start.lane) == (
        "bpmn/small.bpmn",
        "startEvent",
        "Received",
        "proc",
        "MFA",
    )
    assert [e.element_id for e in matrix.elements] == ["start", "reply", "end"]  # no flows, lanes, data objects
    assert [t.id for t in rows["14-5 ч.1"].tests] == [
        "tests/api/test_small.py::TestReply::test_language",
        "tests/api/test_small.py::test_async",
        "tests/api/test_small.py::test_forwarding",
    ]
    assert [t.id for t in rows["14-6"].tests] == [
        "tests/api/test_small.py::TestReply::test_language",
        "tests/api/test_small.py::test_async",
    ]
    # A rule whose message names one of the element's norms is listed under that norm only.
    assert [(r.kind, r.field) for r in rows["14-6"].rules] == [
        ("rule", "language"),
        ("rule", "sent_on"),
        ("signature", None),
    ]
    assert [(r.kind, r.field) for r in rows["14-11"].rules] == [("rule", "sent_on"), ("signature", None)]
    sent_on = rows["14-6"].rules[1]
    assert (sent_on.expression, sent_on.message) == ("sent_on >= received_on", "not before receipt")
    assert rows["14-6"].rules[2].message == SIGNATURE_RULE


def test_norm_without_element(tree: Path) -> None:
    reply = REPLY.replace("norm: 14-6; 14-11", "norm: 14-6")
    (tree / "bpmn" / "small.bpmn").write_text(bpmn(START, reply, END, flows=FLOWS), encoding="utf-8")
    assert kinds(build(tree)) == [("norm_without_element", "14-11", None)]


def test_element_citing_an_unknown_norm(tree: Path) -> None:
    end = END.replace("norm: 14-5 ч.1", "norm: 14-5 ч.1; 14-9 ч.1; 14-5")
    (tree / "bpmn" / "small.bpmn").write_text(bpmn(START, REPLY, end, flows=FLOWS), encoding="utf-8")
    matrix = build(tree)
    assert kinds(matrix) == [("unknown_norm", "14-9 ч.1", "end"), ("unknown_norm", "14-5", "end")]
    assert "cite one or more of 14-5 ч.1" in matrix.problems[1].message
    assert matrix.problems[0].file == "bpmn/small.bpmn" and matrix.problems[0].line is not None


def test_element_without_norm(tree: Path) -> None:
    gateway = (
        '<bpmn:exclusiveGateway id="gateway"><bpmn:documentation>Approved?</bpmn:documentation></bpmn:exclusiveGateway>'
    )
    task = '<bpmn:scriptTask id="script" name="Tidy up"/>'
    sub = (
        '<bpmn:subProcess id="sub"><bpmn:documentation>norm: 14-6</bpmn:documentation>'
        '<bpmn:startEvent id="sub_start"/></bpmn:subProcess>'
    )
    (tree / "bpmn" / "small.bpmn").write_text(bpmn(START, REPLY, END, gateway, task, sub, flows=FLOWS), "utf-8")
    matrix = build(tree)
    assert kinds(matrix) == [
        ("element_without_norm", None, "gateway"),
        ("element_without_norm", None, "script"),
        ("element_without_norm", None, "sub_start"),
    ]
    assert "scriptTask 'Tidy up'" in matrix.problems[1].message


def test_norm_without_test(tree: Path) -> None:
    tests = TESTS.replace('pytestmark = pytest.mark.norm("14-11")', "pass").replace(
        '@mark.norm("14-6", "14-11")', "@mark.slow"
    )
    (tree / "tests" / "api" / "test_small.py").write_text(tests, encoding="utf-8")
    assert kinds(build(tree)) == [("norm_without_test", "14-11", None)]


def test_marker_problems(tree: Path) -> None:
    (tree / "tests" / "test_bad.py").write_text(
        "import pytest\n\n"
        'NORM = "14-6"\n\n'
        '@pytest.mark.norm("14-6; 14-11")\ndef test_one_string(): pass\n\n'
        "@pytest.mark.norm(NORM)\ndef test_variable(): pass\n",
        encoding="utf-8",
    )
    (tree / "tests" / "test_broken.py").write_text("def test_(:\n", encoding="utf-8")
    assert kinds(build(tree)) == [
        ("test_bad_marker", None, "tests/test_bad.py::test_variable"),
        ("test_unreadable", None, None),
        ("test_unknown_norm", "14-6; 14-11", "tests/test_bad.py::test_one_string"),
    ]


def test_rule_without_message_and_message_without_rule(tree: Path) -> None:
    reply = REPLY.replace('name="message:sent_on"', 'name="message:sent"')
    (tree / "bpmn" / "small.bpmn").write_text(bpmn(START, reply, END, flows=FLOWS), encoding="utf-8")
    assert kinds(build(tree)) == [("rule_without_message", None, "reply"), ("message_without_rule", None, "reply")]


def test_unsafe_or_broken_diagrams_are_problems_not_crashes(tree: Path) -> None:
    (tree / "bpmn" / "entities.bpmn").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        '<bpmn:process id="p"><bpmn:task id="t"><bpmn:documentation>&e;</bpmn:documentation></bpmn:task>'
        "</bpmn:process></bpmn:definitions>",
        encoding="utf-8",
    )
    (tree / "bpmn" / "broken.bpmn").write_text("<bpmn:definitions", encoding="utf-8")
    matrix = build(tree)
    assert [(p.kind, p.file) for p in matrix.problems] == [
        ("bpmn_unreadable", "bpmn/broken.bpmn"),
        ("bpmn_unreadable", "bpmn/entities.bpmn"),
    ]
    assert "DOCTYPE" in matrix.problems[1].message
    assert "root:" not in render(matrix, "json")


def test_missing_folders(tree: Path) -> None:
    matrix = build_matrix(tree / "nope", tree / "none", tree / "norms.toml", root=tree)
    assert [(p.kind, p.file) for p in matrix.problems[:2]] == [("input_missing", "nope"), ("input_missing", "none")]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda t: t.replace('gloss_en = "the MFA replies"\n', ""),
            "[[norm]] #2 (id '14-6'): missing key(s) ['gloss_en']",
        ),
        (lambda t: t.replace('id = "14-11"', 'id = "14-6"'), "[[norm]] #3 (id '14-6'): duplicate id"),
        (lambda t: t.replace('id = "14-11"', 'id = "14-11 ч. 1"'), "[[norm]] #3 (id '14-11 ч. 1'): id must be"),
        (lambda t: t.replace('gloss_en = "treaty bodies"', 'gloss_en = "treaty bodies"\nnote = "x"'), "unknown key"),
        (lambda t: t.replace('text_ru = "В течение', 'text_ru = 5\nx = "'), "[[norm]] #1 (id '14-5 ч.1')"),
        (lambda t: t.replace("schema = 1", "schema = 2"), "schema must be 1"),
        (lambda t: t + "[[norm\n", "not valid TOML"),
    ],
)
def test_catalogue_errors_name_the_entry(tree: Path, change, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = tree / "norms.toml"
    path.write_text(change(SMALL_CATALOGUE), encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_the_committed_catalogue_is_valid_toml_with_one_entry_per_norm() -> None:
    data = tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    assert [n["id"] for n in data["norm"]] == NORM_IDS


def test_cached_matrix_follows_file_changes(tree: Path) -> None:
    from app.traceability import cached_matrix

    def cached():  # type: ignore[no-untyped-def]
        return cached_matrix(tree / "bpmn", tree / "tests", tree / "norms.toml", root=tree)

    first = cached()
    assert cached() is first
    path = tree / "bpmn" / "small.bpmn"
    path.write_text(bpmn(START, REPLY, END.replace("norm: 14-5 ч.1", "end"), flows=FLOWS), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert kinds(cached()) == [("element_without_norm", None, "end")]


# --- the command line and the API ---------------------------------------------------------------


def test_cli_check_exit_codes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["traceability", "--bpmn-dir", str(tree / "bpmn"), "--tests-dir", str(tree / "tests")]
    args += ["--norms", str(tree / "norms.toml")]
    assert main([*args, "--check"]) == 0
    assert "no problems" in capsys.readouterr().out

    (tree / "tests" / "api" / "test_small.py").unlink()
    assert main([*args, "--check"]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err and "[norm_without_test] 14-11: no test is marked" in err

    (tree / "norms.toml").write_text('schema = 1\nsource = "x"\n', encoding="utf-8")
    assert main([*args, "--check"]) == 2
    assert "no [[norm]] entries" in capsys.readouterr().err


def test_cli_formats(tree: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    import json

    args = ["traceability", "--bpmn-dir", str(tree / "bpmn"), "--tests-dir", str(tree / "tests")]
    args += ["--norms", str(tree / "norms.toml")]
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsysbinary.readouterr().out.decode("utf-8"))
    assert [n["id"] for n in data["norms"]] == ["14-5 ч.1", "14-6", "14-11"] and data["problems"] == []
    assert main([*args, "--format", "text"]) == 0
    assert "problems: 0" in capsysbinary.readouterr().out.decode("utf-8")
    assert main([*args, "--format", "markdown"]) == 0
    assert "### 14-6" in capsysbinary.readouterr().out.decode("utf-8")


def test_api_traceability(api) -> None:  # type: ignore[no-untyped-def]
    r = api.get("auditor", "/api/traceability")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [n["id"] for n in body["norms"]] == NORM_IDS
    assert body == build_matrix().as_dict()
    row = body["norms"][NORM_IDS.index("14-7 ч.1")]
    assert row["text_ru"].startswith("Государственные органы") and row["gloss_en"]
    assert any(e["element_id"] == "sign_information" for e in row["elements"])
    assert api.get("mvd.officer", "/api/traceability").status_code == 200
    assert api.client.get("/api/traceability").status_code == 401


# --- the generated document ------------------------------------------------------------------------


def test_docs_traceability_md_is_up_to_date() -> None:
    """docs/traceability.md is exactly what the regenerate command prints (run it when this fails)."""
    env = {k: v for k, v in os.environ.items() if k != "BPMN_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "app", "traceability", "--format", "markdown"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    committed = (ROOT / "docs" / "traceability.md").read_bytes()
    assert result.stdout == render(build_matrix(), "markdown").encode("utf-8")
    assert committed == result.stdout, f"docs/traceability.md is stale: run `{REGENERATE}`"
    assert REGENERATE in committed.decode("utf-8").splitlines()[2]
