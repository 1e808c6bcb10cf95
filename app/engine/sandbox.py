"""Restricted environment for the Python that process analysts write in BPMN diagrams.

Why: SpiffWorkflow's default ``TaskDataEnvironment`` runs ``eval``/``exec`` with full builtins,
so a gateway condition could read files or reach ``object.__subclasses__()``. Here expressions
(gateway conditions, timers, task properties) are checked against an AST whitelist before ``eval``;
script tasks are compiled with RestrictedPython. Both refuse private (``_``) names, and the obvious
one-operator bombs (``**``, ``<<``, ``*`` on sequences, ``%`` formatting, ``range``) are capped.

NOT covered: CPU time and memory limits. Compositions such as nested comprehensions, ``while``
loops in scripts, ``", ".join`` of huge lists or recursion can still burn CPU or memory; run the
engine with a time/memory limit if diagrams are not trusted.
"""

from __future__ import annotations

import ast
import builtins
import datetime as dt
import operator
import re
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from types import CodeType, FrameType, ModuleType
from typing import Any

from RestrictedPython import compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

MAX_EXPRESSION_LENGTH = 2000
MAX_SCRIPT_LENGTH = 20_000
MAX_RANGE = 1000  # items a range() may have
MAX_SEQUENCE = 10_000  # items/characters a `*` may produce
MAX_INT_BITS = 10_000  # about 3000 decimal digits
MAX_DATA_DEPTH = 32

# Injected (never by analysts: their "_" names are refused) to route risky operators through checks.
_BINOP = "_sandbox_binop_"


class SandboxError(ValueError):
    """An expression or script that the sandbox refuses (message says what to fix)."""


def _limited_range(*args: int) -> range:
    """``range`` that refuses to be iterated into a memory or CPU bomb."""
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SandboxError(f"range() may have at most {MAX_RANGE} items, this one has {len(result)}")
    return result


def _limited_round(number: Any, ndigits: int | None = None) -> Any:
    """``round`` without the ``round(10, -10**9)`` bomb (it computes ``10**(10**9)``)."""
    if ndigits is not None and abs(ndigits) > 100:
        raise SandboxError("round() accepts at most 100 digits")
    return round(number, ndigits)


def _import_time_only(name: str, *args: Any, **kwargs: Any) -> ModuleType:
    """datetime's strftime (behind f"{d:%d.%m.%Y}") imports ``time`` through ``__builtins__``."""
    if name != "time":
        raise SandboxError("imports are not available in diagram expressions and scripts")
    return builtins.__import__(name, *args, **kwargs)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(builtins, name)
    for name in [
        "abs", "all", "any", "bool", "dict", "enumerate", "float", "int", "isinstance", "len", "list",
        "max", "min", "reversed", "set", "sorted", "str", "sum", "tuple", "zip",
    ]
} | {"range": _limited_range, "round": _limited_round}  # fmt: skip

ATTRIBUTES: frozenset[str] = frozenset(
    [
        "get", "keys", "values", "items",  # dict
        "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "join",
        "title", "capitalize", "casefold", "isdigit", "isalpha", "isalnum", "isspace", "find",
        "count", "index",  # str / list
        "year", "month", "day", "hour", "minute", "second", "weekday", "isoweekday", "isoformat",
        "date",  # date / datetime
        "days", "seconds", "total_seconds",  # timedelta
    ]
)  # fmt: skip

# Analysts cannot name "__import__" (a "_" name); it is there for datetime only.
_EXPRESSION_BUILTINS: dict[str, Any] = FUNCTIONS | {"__import__": _import_time_only}

_ALLOWED_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store, ast.Attribute, ast.Subscript,
    ast.Slice, ast.Starred, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.BoolOp, ast.BinOp, ast.UnaryOp,
    ast.Compare, ast.IfExp, ast.Call, ast.keyword, ast.JoinedStr, ast.FormattedValue,
    ast.boolop, ast.unaryop, ast.cmpop, ast.operator,
)  # fmt: skip
_NODE_NAMES = {ast.Lambda: "lambda functions", ast.NamedExpr: "the ':=' operator", ast.MatMult: "'@'"}
_PYTHON_BUILTINS = frozenset(dir(builtins))
_BIG_NUMBER = re.compile(r"\d{4,}")

_PERCENT_FORMAT = "'%' text formatting is not available; use an f-string like f\"{x}\""
_OPERATORS: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "+": (operator.add, operator.iadd), "-": (operator.sub, operator.isub),
    "*": (operator.mul, operator.imul), "/": (operator.truediv, operator.itruediv),
    "//": (operator.floordiv, operator.ifloordiv), "%": (operator.mod, operator.imod),
    "**": (operator.pow, operator.ipow), "<<": (operator.lshift, operator.ilshift),
    ">>": (operator.rshift, operator.irshift), "&": (operator.and_, operator.iand),
    "|": (operator.or_, operator.ior), "^": (operator.xor, operator.ixor),
}  # fmt: skip
_GUARDED_OPS: dict[type[ast.operator], str] = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<", ast.Mod: "%"}


def _check_binop(symbol: str, left: Any, right: Any) -> None:
    """Refuse operations whose result would be huge before Python starts computing them."""
    ints = isinstance(left, int) and isinstance(right, int)
    if symbol == "**" and ints and right > 0 and max(left.bit_length(), 1) * right > MAX_INT_BITS:
        raise SandboxError(f"'**' result too large: at most {MAX_INT_BITS} bits are allowed")
    if symbol == "<<" and ints and right > 0 and left.bit_length() + right > MAX_INT_BITS:
        raise SandboxError(f"'<<' result too large: at most {MAX_INT_BITS} bits are allowed")
    if symbol == "*":
        if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SandboxError(f"'*' result too large: at most {MAX_INT_BITS} bits are allowed")
        for seq, times in ((left, right), (right, left)):
            sized = isinstance(seq, str | bytes | list | tuple) and isinstance(times, int)
            if sized and len(seq) * times > MAX_SEQUENCE:
                raise SandboxError(f"'*' would repeat to more than {MAX_SEQUENCE} items")
    if symbol == "%" and isinstance(left, str | bytes):
        raise SandboxError(_PERCENT_FORMAT)


def _safe_binop(symbol: str, left: Any, right: Any) -> Any:
    """Run ``left <symbol> right`` after the size checks (target of rewritten BinOp nodes)."""
    _check_binop(symbol, left, right)
    return _OPERATORS[symbol][0](left, right)


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    """RestrictedPython's hook for ``x += y`` and friends, with the same size checks."""
    symbol = op.removesuffix("=")
    _check_binop(symbol, left, right)
    return _OPERATORS[symbol][1](left, right)


def _guard_binop(node: ast.BinOp) -> ast.expr:
    """Rewrite a risky ``a ** b`` (etc.) into ``_sandbox_binop_('**', a, b)``."""
    symbol = _GUARDED_OPS.get(type(node.op))
    if symbol is None:
        return node
    call = ast.Call(ast.Name(_BINOP, ast.Load()), [ast.Constant(symbol), node.left, node.right], [])
    return ast.fix_missing_locations(ast.copy_location(call, node))


class _BinOpGuard(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        return _guard_binop(node)


def _check_node(node: ast.AST, helper_names: frozenset[str] | None) -> None:
    """Refuse one AST node that is not on the expression whitelist."""
    if not isinstance(node, _ALLOWED_NODES) or isinstance(node, ast.MatMult):
        what = _NODE_NAMES.get(type(node), type(node).__name__)
        raise SandboxError(f"{what} not allowed in diagram expressions")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise SandboxError(f"name '{node.id}' is not allowed: names starting with '_' are private")
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise SandboxError(f"attribute '{node.attr}' is not allowed: names starting with '_' are private")
        if node.attr not in ATTRIBUTES:
            raise SandboxError(
                f"attribute or method '{node.attr}' is not available in diagram expressions; "
                f"available: {', '.join(sorted(ATTRIBUTES))}"
            )
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            name = node.func.id
            if helper_names is None:  # deploy time without helpers: refuse only Python's own
                refused = name in _PYTHON_BUILTINS and name not in FUNCTIONS
                available = "the engine's helpers"
            else:
                refused = name not in FUNCTIONS and name not in helper_names
                available = ", ".join(sorted(helper_names))
            if refused:
                raise SandboxError(
                    f"function '{name}' is not available in diagram expressions; "
                    f"available: {', '.join(sorted(FUNCTIONS))}; {available or 'no helpers'}"
                )
        elif not isinstance(node.func, ast.Attribute):
            raise SandboxError("only functions and methods called by name are allowed, e.g. len(x)")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        text = isinstance(node.left, ast.Constant) and isinstance(node.left.value, str | bytes)
        if text or isinstance(node.left, ast.JoinedStr):  # '%' on a variable is checked at run time
            raise SandboxError(_PERCENT_FORMAT)
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        spec = node.format_spec
        if not isinstance(spec, ast.JoinedStr) or not all(
            isinstance(v, ast.Constant) and not _BIG_NUMBER.search(str(v.value)) for v in spec.values
        ):
            raise SandboxError("f-string format specs must be fixed text, numbers below 1000, e.g. {x:.2f}")


@lru_cache(maxsize=1024)
def _compile_expression(expression: str, helper_names: frozenset[str] | None) -> CodeType:
    """Check and compile an expression once; gateway conditions are evaluated over and over."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise SandboxError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters; use a script task")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise SandboxError(f"invalid expression syntax: {err.msg} (column {err.offset})") from None
    for node in ast.walk(tree):
        _check_node(node, helper_names)
    return compile(ast.fix_missing_locations(_BinOpGuard().visit(tree)), "<expression>", "eval")


def check_expression(expression: str, helper_names: Collection[str] | None = None) -> None:
    """Raise SandboxError if the expression is refused (deploy time; ``None`` = helpers unknown)."""
    _compile_expression(expression, None if helper_names is None else frozenset(helper_names))


class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus no imports, no classes and size-checked operators."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        return _guard_binop(self.node_contents_visit(node))

    def visit_Import(self, node: ast.AST) -> ast.AST:
        self.error(node, "imports are not available in script tasks; ask for a helper function instead")
        return node

    visit_ImportFrom = visit_Import

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in _PYTHON_BUILTINS and name not in _SCRIPT_BUILTINS:
            self.error(
                node,
                f"function '{name}' is not available in script tasks; "
                f"available: {', '.join(sorted(FUNCTIONS))} and the engine's helpers",
            )
            return node
        return super().visit_Call(node)

    def visit_ClassDef(self, node: ast.AST) -> ast.AST:
        self.error(node, "class definitions are not available in script tasks")
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        spec = node.format_spec
        if spec is not None and (
            not isinstance(spec, ast.JoinedStr)
            or not all(isinstance(v, ast.Constant) and not _BIG_NUMBER.search(str(v.value)) for v in spec.values)
        ):
            self.error(node, "f-string format specs must be fixed text, numbers below 1000, e.g. {x:.2f}")
            return node
        return self.node_contents_visit(node)


@lru_cache(maxsize=256)
def _compile_script(script: str) -> CodeType:
    """Check and compile a script-task body with RestrictedPython."""
    if len(script) > MAX_SCRIPT_LENGTH:
        raise SandboxError(f"script is longer than {MAX_SCRIPT_LENGTH} characters")
    result = compile_restricted_exec(script, filename="<string>", policy=_ScriptPolicy)
    if result.errors or result.code is None:
        raise SandboxError("script refused: " + "; ".join(result.errors))
    return result.code


def check_script(script: str) -> None:
    """Raise SandboxError if the script-task body is refused (deploy time)."""
    _compile_script(script)


_SCALARS = (str, int, float, bool, type(None), dt.date, dt.time, dt.timedelta)
_DATA_TYPES = (*_SCALARS, dt.datetime, list, tuple, dict, set)


def _script_getattr(obj: Any, name: str) -> Any:
    """Attributes only of plain data (never of helpers, whose closures may hold e.g. a DB session)."""
    builtin_error = isinstance(obj, BaseException) and type(obj).__module__ == "builtins"
    data_type = isinstance(obj, type) and obj in _DATA_TYPES
    if not (type(obj) in _DATA_TYPES or data_type or builtin_error):
        raise SandboxError(f"attribute '{name}' is not available on {type(obj).__name__} objects in scripts")
    if name in ("format", "format_map"):
        raise SandboxError(f"'{name}' is not available in scripts; use an f-string like f\"{{x}}\"")
    return safer_getattr_raise(obj, name)  # a typo raises AttributeError instead of giving None


_UNSAFE_SCRIPT_BUILTINS = {"__build_class__", "setattr", "delattr", "pow", "range"}  # pow: unchecked '**'
_SCRIPT_BUILTINS: dict[str, Any] = {
    k: v for k, v in safe_builtins.items() if k not in _UNSAFE_SCRIPT_BUILTINS
} | _EXPRESSION_BUILTINS
_SCRIPT_GUARDS: dict[str, Any] = {
    "__builtins__": _SCRIPT_BUILTINS,
    "_getattr_": _script_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    _BINOP: _safe_binop,
}


def _check_data(path: str, value: Any, depth: int = 0) -> None:
    """Refuse script results that task data (JSON + dates) cannot hold."""
    if depth > MAX_DATA_DEPTH:
        raise SandboxError(f"variable '{path}' is nested more than {MAX_DATA_DEPTH} levels deep")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_data(f"{path}[{i}]", item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SandboxError(f"variable '{path}' has the non-text key {key!r}; keys must be text")
            if key == "typename":
                raise SandboxError(f"variable '{path}' has the key 'typename', which the engine reserves; rename it")
            _check_data(f"{path}[{key!r}]", item, depth + 1)
    elif not isinstance(value, _SCALARS):
        raise SandboxError(
            f"variable '{path}' holds a {type(value).__name__}; task data may only hold text, numbers, "
            "booleans, None, dates, lists and dicts"
        )


def _visible(data: Mapping[str, Any]) -> dict[str, Any]:
    """Task data an expression or script may see: public, non-callable values."""
    return {k: v for k, v in data.items() if isinstance(k, str) and not k.startswith("_") and not callable(v)}


# Analyst code gets this much CPU time per expression or script; the engine step fails beyond it.
TIME_BUDGET_SECONDS = 2.0


class _OutOfTime(BaseException):
    """A BaseException, so that `except Exception` in a script cannot swallow it."""


@contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Stop sandboxed code that runs too long: a trace function checks the clock on every line
    and call of the traced code only (Python code in C loops is bounded by the size caps)."""
    deadline = time.monotonic() + seconds

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _OutOfTime
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield
    except _OutOfTime:
        raise SandboxError(f"took longer than {seconds:g} s; simplify the expression or script") from None
    finally:
        sys.settrace(previous)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment: whitelisted expressions, RestrictedPython scripts."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None) -> None:
        helpers = dict(helpers or {})
        for name in helpers:
            if not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"helper name {name!r} must be a public identifier")
        super().__init__(helpers)
        self.helpers: dict[str, Callable[..., Any]] = helpers
        self._helper_names = frozenset(helpers)

    def check_expression(self, expression: str) -> None:
        """Deploy-time check that also knows this environment's helpers."""
        _compile_expression(expression, self._helper_names)

    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Evaluate a checked expression; helpers win over task data of the same name."""
        code = _compile_expression(expression, self._helper_names)
        namespace = _visible(external_context or {}) | _visible(context) | self.helpers
        namespace |= {"__builtins__": _EXPRESSION_BUILTINS, _BINOP: _safe_binop}
        with _time_budget(TIME_BUDGET_SECONDS):
            return eval(code, namespace)  # noqa: S307 - checked against the AST whitelist above

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        """Run a script task; only data (no helpers, builtins or functions) goes back into ``context``."""
        code = _compile_script(script)
        own = _visible(context)
        external = dict(external_context or {})
        namespace = own | _visible(external) | self.helpers | _SCRIPT_GUARDS
        with _time_budget(TIME_BUDGET_SECONDS):
            exec(code, namespace)  # noqa: S102 - compiled by RestrictedPython with guards
        updates: dict[str, Any] = {}
        for name, value in namespace.items():
            if name.startswith("_") or name in self.helpers or name in external:
                continue
            if callable(value) or isinstance(value, ModuleType):
                continue
            _check_data(name, value)
            updates[name] = value
        for name in own.keys() - namespace.keys():
            del context[name]  # the script ran `del name`
        context.update(updates)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Service tasks would reach outside the engine; diagrams must use user or script tasks."""
        raise SandboxError("service tasks are not supported")
