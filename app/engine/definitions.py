"""Reading a BPMN file into a deployable definition, or a list of problems an analyst can fix.

Every problem names the element id and the line in the file. Checks run in order of cost:
well-formedness without DTDs (no entity expansion, ever), the BPMN XSD, our conventions
(docs/bpmn-conventions.md), the expressions through the sandbox, then SpiffWorkflow's own parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from app.engine.sandbox import SandboxError, check_expression, check_script
from app.norm_refs import NORM_ID, NORM_LINE, cited_norms  # noqa: F401  (NORM_LINE: the engine's name for it)

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
HUMAN_TASK_TAGS = ("userTask", "manualTask", "task")
CANDIDATE_ROLES = ("officer", "head")
ORG_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
NORM_PART = NORM_ID  # kept under the engine's name (app/norm_refs.py defines the syntax once)
FORM_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.json$")
RESERVED_FIELD = re.compile(r"^(typename|_.*)$")
# Column sizes of human_task and process_definition: refuse at deploy what the database cannot hold.
MAX_NAME, MAX_NORMS, MAX_FORM_NAME, MAX_ID = 255, 128, 128, 128


@dataclass(frozen=True)
class Problem:
    message: str
    element_id: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "element_id": self.element_id, "line": self.line}


class DefinitionError(Exception):
    """The file cannot be deployed; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """A condition of the law the engine checks before it accepts a completion or a message:
    `rule:<field>` (an expression that must be true) with `message:<field>` (what to tell the user)
    in the element's properties. The field is where the error is shown."""

    field: str
    expression: str
    message: str


@dataclass(frozen=True)
class HumanTaskSpec:
    """What the service needs to know about a user task, read once at deploy."""

    bpmn_id: str
    name: str
    lane: str | None
    organisation_expr: str | None
    candidate_role: str
    form_key: str | None
    norms: tuple[str, ...]
    line: int | None = None
    rules: tuple[Rule, ...] = ()
    signature: str | None = None  # the variable a signature step records its signer in


@dataclass(frozen=True)
class TimerEventSpec:
    """What a timer event's documentation says, read once at deploy: which deadline it is
    (`deadline: D1`, none for a reminder) and the norms it enforces."""

    deadline: str | None
    norms: tuple[str, ...]


@dataclass
class ParsedDefinition:
    key: str
    name: str
    process_ids: list[str]
    human_tasks: dict[str, HumanTaskSpec]
    form_keys: set[str]
    messages: set[str]
    start_lanes: set[str] = field(default_factory=set)
    message_rules: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    timer_events: dict[str, TimerEventSpec] = field(default_factory=dict)
    # What SpiffWorkflow's parser built while validating: kept, so a loaded definition is parsed once.
    spec: Any = field(default=None, repr=False)
    subprocess_specs: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class BpmnFile:
    """An uploaded file read once: its tree, its key (if it has a single main process) and its forms."""

    root: etree._Element
    key: str | None
    form_names: frozenset[str]


def read_bpmn(content: bytes) -> BpmnFile:
    """Parse untrusted BPMN bytes (raises DefinitionError when not even well-formed XML)."""
    root = parse_xml(content)
    main = _main_process(root)
    names = frozenset(
        prop.get("value", "")
        for prop in root.xpath("//spiffworkflow:property[@name='formJsonSchemaFilename']", namespaces=NS)
    )
    return BpmnFile(root, main.get("id") if main is not None else None, names)


@lru_cache(maxsize=1)
def _xsd() -> etree.XMLSchema:
    with open(XSD_PATH, "rb") as f:
        return etree.XMLSchema(etree.parse(f))


def parse_xml(content: bytes) -> etree._Element:
    """Parse untrusted XML: DTDs (and so entity declarations) are refused outright."""
    try:
        safe_et.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DefinitionError(
            [
                Problem(
                    f"XML document type declarations and entities are not accepted ({exc.__class__.__name__}); "
                    "remove the <!DOCTYPE> block"
                )
            ]
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise DefinitionError([Problem(f"not well-formed XML: {exc}", line=line)]) from exc
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError([Problem(f"not well-formed XML: {exc.msg}", line=exc.lineno)]) from exc


def _line(root: etree._Element, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def _properties(node: etree._Element) -> dict[str, str]:
    props = {}
    for prop in node.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS):
        props[prop.get("name", "")] = prop.get("value", "")
    return props


def _doc_line(node: etree._Element, key: str) -> str | None:
    """The value of a `key: value` line of the element's documentation (e.g. `deadline: D1`)."""
    doc = node.find("bpmn:documentation", NS)
    for line in (doc.text or "").splitlines() if doc is not None else ():
        name, _, value = line.partition(":")
        if name.strip() == key and value.strip():
            return value.strip()
    return None


def _norms(node: etree._Element, problems: list[Problem]) -> tuple[str, ...]:
    doc = node.find("bpmn:documentation", NS)
    parts = cited_norms(doc.text if doc is not None else None)
    for part in parts:
        if not NORM_PART.match(part):
            problems.append(
                Problem(
                    f"norm reference {part!r} is not of the form '14-5', '14-5 ч.1' or '14-10 пп.1'",
                    node.get("id"),
                    node.sourceline,
                )
            )
    return parts


def _remote_refs(value: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("$ref", "$dynamicRef") and isinstance(item, str) and not item.startswith("#"):
                found.append(f"{path}/{key}")
            found.extend(_remote_refs(item, f"{path}/{key}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_remote_refs(item, f"{path}/{i}"))
    return found


def check_form_schema(name: str, schema: Any) -> list[str]:
    """Why a form schema is unusable, or [] when it is fine."""
    if not isinstance(schema, dict):
        return [f"form {name}: must be a JSON object"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"form {name}: not a valid JSON Schema: {exc.message}"]
    except RecursionError:
        return [f"form {name}: nests too deeply"]
    if schema.get("type") != "object":
        return [f'form {name}: the top level must be "type": "object"']
    remote = _remote_refs(schema)
    if remote:
        return [f"form {name}: only local references ('#/...') are allowed; found remote $ref at {remote}"]
    properties = schema.get("properties", {})
    bad = [k for k in properties if RESERVED_FIELD.match(k)]
    if bad:
        return [f"form {name}: field names {bad} are reserved (typename, or starting with '_')"]
    not_objects = [k for k, v in properties.items() if not isinstance(v, dict)]
    if not_objects:
        return [f"form {name}: fields {not_objects} must be described by a JSON object, not true/false"]
    return []


def inspect_bpmn(source: bytes | BpmnFile, file_name: str, forms: Mapping[str, Any]) -> ParsedDefinition:
    """Validate a BPMN file against everything we know; raise DefinitionError listing all problems."""
    root = (source if isinstance(source, BpmnFile) else read_bpmn(source)).root
    problems: list[Problem] = []

    schema = _xsd()
    if not schema.validate(root):
        for err in schema.error_log:  # type: ignore[attr-defined]
            problems.append(Problem(f"BPMN schema: {err.message}", None, err.line))
        raise DefinitionError(problems)

    processes = root.xpath("./bpmn:process", namespaces=NS)
    executable = [p for p in processes if p.get("isExecutable", "false") == "true"]
    called = {c.get("calledElement") for c in root.xpath("//bpmn:callActivity", namespaces=NS)}
    ids = {p.get("id") for p in processes}
    for call in root.xpath("//bpmn:callActivity", namespaces=NS):
        if call.get("calledElement") not in ids:
            problems.append(
                Problem(
                    f"call activity calls {call.get('calledElement')!r}, which is not a process in this file; "
                    "called processes must be in the same file",
                    call.get("id"),
                    call.sourceline,
                )
            )
    mains = [p for p in executable if p.get("id") not in called]
    if len(mains) != 1:
        problems.append(
            Problem(
                f"the file must have exactly one executable process that no call activity calls (found "
                f'{len(mains)}: {[p.get("id") for p in mains]}); set isExecutable="true" on the main process',
                None,
                root.sourceline,
            )
        )
        raise DefinitionError(problems)
    main = mains[0]
    if len(main.get("id")) > MAX_ID or len(main.get("name") or "") > MAX_NAME:
        problems.append(
            Problem(
                f"the process id must be at most {MAX_ID} and its name {MAX_NAME} characters",
                main.get("id")[:MAX_ID],
                main.sourceline,
            )
        )
        raise DefinitionError(problems)

    for process in processes:
        node_ids = {n.get("id") for n in process.iter() if n.get("id")}
        for flow in process.xpath(".//bpmn:sequenceFlow", namespaces=NS):
            for end in ("sourceRef", "targetRef"):
                if flow.get(end) not in node_ids:
                    problems.append(
                        Problem(
                            f"sequence flow's {end} {flow.get(end)!r} is not an element of process "
                            f"{process.get('id')!r}",
                            flow.get("id"),
                            flow.sourceline,
                        )
                    )
    if problems:
        raise DefinitionError(problems)

    lane_of: dict[str, str] = {}
    for ref in root.xpath("//bpmn:lane/bpmn:flowNodeRef", namespaces=NS):
        lane_of[(ref.text or "").strip()] = ref.getparent().get("name") or ""

    human_tasks: dict[str, HumanTaskSpec] = {}
    form_keys: set[str] = set()
    for tag in HUMAN_TASK_TAGS:
        for node in root.xpath(f"//bpmn:{tag}", namespaces=NS):
            human_tasks[node.get("id")] = _human_task(node, lane_of, forms, problems)
            if human_tasks[node.get("id")].form_key:
                form_keys.add(human_tasks[node.get("id")].form_key or "")

    for node in root.xpath("//bpmn:*[bpmn:documentation]", namespaces=NS):
        _norms(node, problems)
    _check_expressions(root, problems)
    timer_events = {
        node.get("id"): TimerEventSpec(_doc_line(node, "deadline"), _norms(node, []))
        for node in root.xpath("//bpmn:*[bpmn:timerEventDefinition]", namespaces=NS)
    }

    start_lanes = {lane_of.get(s.get("id"), "") for s in main.xpath("./bpmn:startEvent", namespaces=NS)}
    message_names = {m.get("id"): m.get("name") or m.get("id") for m in root.xpath("./bpmn:message", namespaces=NS)}
    messages = set(message_names.values())
    message_rules = _message_rules(root, message_names, problems)

    if problems:
        raise DefinitionError(problems)

    spec, subprocess_specs = _spiff_parse(root, file_name, main.get("id"), problems)
    if problems:
        raise DefinitionError(problems)

    return ParsedDefinition(
        key=main.get("id"),
        name=main.get("name") or _participant_name(root, main.get("id")) or main.get("id"),
        process_ids=[p.get("id") for p in processes],
        human_tasks=human_tasks,
        form_keys=form_keys,
        messages={m for m in messages if m},
        start_lanes={lane for lane in start_lanes if lane},
        message_rules=message_rules,
        timer_events=timer_events,
        spec=spec,
        subprocess_specs=subprocess_specs,
    )


def _main_process(root: etree._Element) -> etree._Element | None:
    called = {c.get("calledElement") for c in root.xpath("//bpmn:callActivity", namespaces=NS)}
    mains = [p for p in root.xpath("./bpmn:process[@isExecutable='true']", namespaces=NS) if p.get("id") not in called]
    return mains[0] if len(mains) == 1 else None


def _participant_name(root: etree._Element, process_id: str) -> str | None:
    found = root.xpath("//bpmn:participant[@processRef=$p]", namespaces=NS, p=process_id)
    return found[0].get("name") if found else None


def _human_task(
    node: etree._Element, lane_of: Mapping[str, str], forms: Mapping[str, Any], problems: list[Problem]
) -> HumanTaskSpec:
    element_id, line = node.get("id"), node.sourceline
    props = _properties(node)
    lane = lane_of.get(element_id)
    org_expr = props.get("organisation") or None
    role = props.get("candidate_role", "officer")
    form_key = props.get("formJsonSchemaFilename") or None

    if len(element_id) > MAX_ID:
        problems.append(Problem(f"the task's id is longer than {MAX_ID} characters", element_id[:MAX_ID], line))
    if len(node.get("name") or "") > MAX_NAME:
        problems.append(Problem(f"the task's name is longer than {MAX_NAME} characters", element_id, line))
    if len("; ".join(_norms(node, []))) > MAX_NORMS:
        problems.append(Problem(f"the norm references are longer than {MAX_NORMS} characters", element_id, line))
    if form_key is not None and len(form_key) > MAX_FORM_NAME:
        problems.append(Problem(f"the form file name is longer than {MAX_FORM_NAME} characters", element_id, line))
    if lane is None:
        problems.append(
            Problem("user task is not in a lane; put it in the lane of the organisation that does it", element_id, line)
        )
    elif org_expr is None and not ORG_CODE.match(lane):
        problems.append(
            Problem(
                f"lane {lane!r} is not an organisation code and the task has no 'organisation' property; "
                "name the lane by the organisation code or add the property",
                element_id,
                line,
            )
        )
    if org_expr is not None:
        try:
            check_expression(org_expr)
        except SandboxError as exc:
            problems.append(Problem(f"property 'organisation': {exc}", element_id, line))
    if role not in CANDIDATE_ROLES:
        problems.append(Problem(f"candidate_role {role!r} is not one of {list(CANDIDATE_ROLES)}", element_id, line))
    if form_key is not None:
        if not FORM_NAME.match(form_key):
            problems.append(Problem(f"form file name {form_key!r} must be a plain *.json name", element_id, line))
        elif form_key not in forms:
            problems.append(
                Problem(
                    f"form {form_key!r} is not provided (upload it with the diagram or put it in bpmn/forms/)",
                    element_id,
                    line,
                )
            )
        else:
            problems.extend(Problem(msg, element_id, line) for msg in check_form_schema(form_key, forms[form_key]))
    fields = set((forms.get(form_key) or {}).get("properties", {})) if form_key else set()
    rules = _rules(props, element_id, line, fields if form_key in forms else None, problems)
    signature = props.get("signature") or None
    if signature is not None:
        if not signature.isidentifier() or signature.startswith("_"):
            problems.append(Problem(f"property 'signature' {signature!r} must be a variable name", element_id, line))
        if role != "head":
            problems.append(
                Problem("a signature step (property 'signature') needs candidate_role 'head'", element_id, line)
            )
    return HumanTaskSpec(
        bpmn_id=element_id,
        name=node.get("name") or element_id,
        lane=lane,
        organisation_expr=org_expr,
        candidate_role=role,
        form_key=form_key,
        norms=_norms(node, []),
        line=line,
        rules=rules,
        signature=signature,
    )


def _rules(
    props: Mapping[str, str],
    element_id: str,
    line: int | None,
    fields: set[str] | None,
    problems: list[Problem],
) -> tuple[Rule, ...]:
    """`rule:<field>` / `message:<field>` pairs; `fields` are the form's fields (None: no form to check)."""
    rules = []
    for name, expression in props.items():
        if name.startswith("message:") and f"rule:{name[8:]}" not in props:
            problems.append(Problem(f"property {name!r} has no matching 'rule:{name[8:]}'", element_id, line))
        if not name.startswith("rule:"):
            continue
        field_name = name[5:]
        message = props.get(f"message:{field_name}", "").strip()
        if not message:
            problems.append(
                Problem(f"property {name!r} needs a 'message:{field_name}' to show the user", element_id, line)
            )
        if fields is not None and field_name not in fields:
            problems.append(Problem(f"property {name!r}: the form has no field {field_name!r}", element_id, line))
        try:
            check_expression(expression)
        except SandboxError as exc:
            problems.append(Problem(f"property {name!r}: {exc}", element_id, line))
        rules.append(Rule(field_name, expression, message))
    return tuple(rules)


def _message_rules(
    root: etree._Element, message_names: Mapping[str, str], problems: list[Problem]
) -> dict[str, tuple[Rule, ...]]:
    """Rules on the events that catch a message check its payload (with the case's data as `case`)."""
    found: dict[str, tuple[Rule, ...]] = {}
    for event in root.xpath("//bpmn:*[bpmn:messageEventDefinition]", namespaces=NS):
        definition = event.find("bpmn:messageEventDefinition", NS)
        name = message_names.get(definition.get("messageRef") or "")
        rules = _rules(_properties(event), event.get("id"), event.sourceline, None, problems)
        if name and rules:
            found[name] = found.get(name, ()) + rules
    return found


def _check_expressions(root: etree._Element, problems: list[Problem]) -> None:
    checks = [
        ("//bpmn:sequenceFlow/bpmn:conditionExpression", check_expression, "condition"),
        ("//bpmn:timerEventDefinition/*", check_expression, "timer expression"),
        ("//bpmn:scriptTask/bpmn:script", check_script, "script"),
        ("//spiffworkflow:preScript", check_script, "pre-script"),
        ("//spiffworkflow:postScript", check_script, "post-script"),
    ]
    for xpath, check, what in checks:
        for node in root.xpath(xpath, namespaces=NS):
            owner = node.getparent()
            while owner is not None and not owner.get("id"):
                owner = owner.getparent()
            owner = owner if owner is not None else node
            text = (node.text or "").strip()
            if not text:
                problems.append(Problem(f"empty {what}", owner.get("id"), node.sourceline))
                continue
            try:
                check(text)
            except SandboxError as exc:
                problems.append(Problem(f"{what}: {exc}", owner.get("id"), node.sourceline))


def new_parser() -> SpiffBpmnParser:
    return SpiffBpmnParser()


def _spiff_parse(root: etree._Element, file_name: str, key: str, problems: list[Problem]) -> tuple[Any, dict[str, Any]]:
    parser = new_parser()
    try:
        parser.add_bpmn_xml(root, file_name)
        return parser.get_spec(key), parser.get_subprocess_specs(key)
    except ValidationException as exc:
        line = exc.line_number or _line(root, exc.id)
        problems.append(Problem(str(exc).splitlines()[0], exc.id or None, line or None))
    except Exception as exc:  # the library raises plain errors on some malformed input
        problems.append(Problem(f"the engine could not read the diagram: {exc}"))
    return None, {}
