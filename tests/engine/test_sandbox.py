"""The sandbox refuses known escapes and still runs what analysts write in diagrams."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from app.engine.sandbox import (
    RestrictedEnvironment,
    SandboxError,
    check_expression,
    check_script,
)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """Fake helper: plain calendar days are enough for the tests."""
    return start + dt.timedelta(days=days)


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment({"add_working_days": add_working_days})


@pytest.fixture
def data() -> dict[str, Any]:
    return {
        "approved": True,
        "body": "MFA",
        "bodies": ["MFA", "PA", "OMBUDSMAN"],
        "x": {"a": 2},
        "language": "ru",
        "reply_language": "ru",
        "received_on": dt.date(2024, 3, 1),
        "information": "details",
    }


EXPRESSION_ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "[].__class__",
    "add_working_days.__globals__['__builtins__']",
    "'{0.__class__}'.format(1)",
    "'{0.__class__}'.format_map({})",
    "__import__('os')",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('import os')",
    "compile('1', 'f', 'eval')",
    "getattr(x, '__class__')",
    "vars()",
    "globals()",
    "type(1)",
    "lambda: 1",
    "(lambda: 1).__code__",
    "(lambda: 1)()",
    "[f for f in [lambda: 1]]",
    "(i for i in []).gi_frame",
    "(i for i in []).gi_frame.f_globals",
    "[y := 1]",
    "x.pop('a')",
    "bodies[0].__len__()",
    "f'{x.__class__}'",
    "bodies[0](1)",
    "'%s' % body",
    "_private",
]


@pytest.mark.parametrize("expression", EXPRESSION_ESCAPES)
def test_expression_escapes_are_refused(env: RestrictedEnvironment, data: dict[str, Any], expression: str) -> None:
    with pytest.raises(SandboxError):
        env.evaluate(expression, data)
    with pytest.raises(SandboxError):
        check_expression(expression)


def test_refusals_tell_the_analyst_what_to_fix(env: RestrictedEnvironment) -> None:
    with pytest.raises(SandboxError, match="names starting with '_' are private"):
        env.evaluate("().__class__", {})
    with pytest.raises(SandboxError, match="function 'open' is not available.*available: abs.*len"):
        env.evaluate("open('/etc/passwd')", {})
    with pytest.raises(SandboxError, match="add_working_days"):
        env.evaluate("unknown_helper(1)", {})
    with pytest.raises(SandboxError, match="'format' is not available"):
        env.evaluate("'{0.__class__}'.format(1)", {})
    with pytest.raises(SandboxError, match="lambda functions not allowed"):
        env.evaluate("lambda: 1", {})


@pytest.mark.parametrize(
    "expression",
    ["9**9**9", "2 ** 10**9", "'a' * 10**9", "[0] * 10**9", "10**9 * 'a'", "1 << 10**9",
     "list(range(10**9))", "round(10, -10**9)", "f'{1:>1000000000}'", "(10**3000) * (10**3000)"],
)  # fmt: skip
def test_expression_bombs_are_refused_quickly(env: RestrictedEnvironment, expression: str) -> None:
    started = time.monotonic()
    with pytest.raises(SandboxError):
        env.evaluate(expression, {})
    assert time.monotonic() - started < 1


def test_expression_too_long_is_refused(env: RestrictedEnvironment) -> None:
    with pytest.raises(SandboxError, match="longer than"):
        env.evaluate("1 + " * 600 + "1", {})


def test_task_data_cannot_shadow_a_helper(env: RestrictedEnvironment, data: dict[str, Any]) -> None:
    data["add_working_days"] = 5
    assert env.evaluate("add_working_days(received_on, 5)", data) == dt.date(2024, 3, 6)
    assert data["add_working_days"] == 5


def test_data_cannot_smuggle_callables_or_builtins(env: RestrictedEnvironment) -> None:
    with pytest.raises(NameError):
        env.evaluate("f", {"f": print})
    assert env.evaluate("len(x)", {"__builtins__": {"len": print}, "x": [1]}) == 1


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("approved == True", True),
        ("body", "MFA"),
        ("\n  approved\n", True),
        ("len(bodies) > 0", True),
        ("x.get('a', 1)", 2),
        ("x.get('b', 1)", 1),
        ("[b for b in bodies if b != 'MFA']", ["PA", "OMBUDSMAN"]),
        ("any(b == 'PA' for b in bodies)", True),
        ("reply_language == language", True),
        ("add_working_days(received_on, 5)", dt.date(2024, 3, 6)),
        ("received_on.year", 2024),
        ("f'{received_on:%d.%m.%Y}'", "01.03.2024"),
        ("f'{body.lower()}-{len(bodies)}'", "mfa-3"),
        ("sorted(bodies, key=len)", ["PA", "MFA", "OMBUDSMAN"]),
        ("'P5D' if approved else 'P10D'", "P5D"),
        ("2 ** 10 + round(2.567, 2)", 1026.57),
        ("'-' * 3", "---"),
        ("isinstance(body, str) and body in bodies", True),
        ("{k: v for k, v in x.items()}", {"a": 2}),
    ],
)
def test_normal_expressions_work(
    env: RestrictedEnvironment, data: dict[str, Any], expression: str, expected: Any
) -> None:
    assert env.evaluate(expression, data) == expected


def test_deploy_time_check_accepts_unknown_helpers_and_known_ones() -> None:
    check_expression("add_working_days(received_on, 5) > deadline")
    check_expression("add_working_days(received_on, 5)", helper_names={"add_working_days"})
    with pytest.raises(SandboxError):
        check_expression("other_helper(1)", helper_names={"add_working_days"})
    with pytest.raises(SandboxError, match="syntax"):
        check_expression("approved ==")
    env = RestrictedEnvironment({"add_working_days": add_working_days})
    env.check_expression("add_working_days(received_on, 5)")
    with pytest.raises(SandboxError, match="available: .*add_working_days"):
        env.check_expression("other_helper(1)")


SCRIPT_ESCAPES = [
    "import os",
    "from os import path",
    "x = __import__('os')",
    "f = open('/etc/passwd')",
    "x = eval('1')",
    "exec('x = 1')",
    "x = getattr(1, '__class__')",
    "x = type(1)",
    "x = body._private",
    "x = ().__class__",
    "x = ().__class__.__base__.__subclasses__()",
    "__builtins__ = {}",
    "__builtins__['open'] = None",
    "x = add_working_days.__globals__",
    "g = (i for i in [1])\nf = g.gi_frame",
    "f = (lambda: 1).__code__",
    "class A: pass",
    "print(body)",
    "x = pow(9, 10**9)",
]


@pytest.mark.parametrize("script", SCRIPT_ESCAPES)
def test_script_escapes_are_refused(env: RestrictedEnvironment, data: dict[str, Any], script: str) -> None:
    with pytest.raises(SandboxError):
        check_script(script)
    with pytest.raises(SandboxError):
        env.execute(script, data)


@pytest.mark.parametrize(
    "script",
    [
        "x = '{0.__class__}'.format(1)",
        "x = add_working_days.func_closure",  # attributes of helpers could leak what they close over
        "x = 9**9**9",
        "x = 2\nx **= 10**9",
        "x = 'a' * 10**9",
        "x = list(range(10**9))",
        "x = {1, 2}",  # not task data
        "x = [[]]\nx[0].append(x)",
    ],
)
def test_script_runtime_refusals(env: RestrictedEnvironment, data: dict[str, Any], script: str) -> None:
    check_script(script)
    before = dict(data)
    with pytest.raises(SandboxError):
        env.execute(script, data)
    assert data == before


def test_script_sets_variables_and_leaves_only_data(env: RestrictedEnvironment, data: dict[str, Any]) -> None:
    data["add_working_days"] = 5
    script = (
        'body_submission = {"body": body, "information": information}\n'
        "deadline = add_working_days(received_on, 10)\n"
        "count = 1\ncount += 2\n"
        "def helper_of_mine():\n    return 1\n"
        "via_function = helper_of_mine()\n"
        "del x\n"
    )
    assert env.execute(script, data) is True
    assert data["body_submission"] == {"body": "MFA", "information": "details"}
    assert data["deadline"] == dt.date(2024, 3, 11)
    assert data["count"] == 3
    assert data["via_function"] == 1
    assert data["add_working_days"] == 5  # the data value, not the helper
    assert "x" not in data
    assert "helper_of_mine" not in data
    assert not [k for k in data if k.startswith("_")]
    assert not [k for k, v in data.items() if callable(v)]


def test_script_attribute_typo_raises(env: RestrictedEnvironment, data: dict[str, Any]) -> None:
    with pytest.raises(AttributeError):
        env.execute("x = body.lowr()", data)


def test_service_tasks_are_refused(env: RestrictedEnvironment) -> None:
    with pytest.raises(SandboxError, match="service tasks are not supported"):
        env.call_service({}, operation_name="anything")


def test_through_the_spiffworkflow_engine(data: dict[str, Any]) -> None:
    engine = PythonScriptEngine(environment=RestrictedEnvironment({"add_working_days": add_working_days}))
    assert engine.environment.evaluate("add_working_days(received_on, 1)", data) == dt.date(2024, 3, 2)
    assert engine.environment.evaluate("body", data) == "MFA"
    with pytest.raises(SandboxError):
        engine.environment.evaluate("().__class__.__base__.__subclasses__()", data)


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="script" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="no">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>yes</bpmn:outgoing><bpmn:outgoing>no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_yes"><bpmn:incoming>yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="gw"/>
    <bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="end_yes">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="end_no"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _run(script: str, condition: str) -> BpmnWorkflow:
    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.format(script=script, condition=condition).encode())
    engine = PythonScriptEngine(environment=RestrictedEnvironment({"add_working_days": add_working_days}))
    workflow = BpmnWorkflow(parser.get_spec("proc"), script_engine=engine)
    workflow.do_engine_steps()
    return workflow


def test_whole_workflow_runs_scripts_and_gateways() -> None:
    workflow = _run(
        "bodies = ['MFA', 'PA']\nbody_submission = {'body': bodies[0], 'count': len(bodies)}",
        "len(bodies) &gt; 1 and body_submission.get('body') == 'MFA'",
    )
    assert workflow.is_completed()
    completed = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "end_yes" in completed
    assert "end_no" not in completed
    assert workflow.data["body_submission"] == {"body": "MFA", "count": 2}
    assert not [k for k, v in workflow.data.items() if callable(v) or k.startswith("_")]


def test_whole_workflow_refuses_an_escaping_condition() -> None:
    with pytest.raises(WorkflowTaskException) as raised:
        _run("x = 1", "().__class__.__base__.__subclasses__()")
    assert raised.value.error_type == "SandboxError"
    assert "names starting with '_' are private" in str(raised.value.__context__)
