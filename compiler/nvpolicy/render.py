"""Placeholder evaluation over parsed data, never over YAML text.

Only string values (and mapping keys) are templates. A value that is exactly one
``{{ expr }}`` yields the expression's native value; any other string renders to a string.
Templates run in Jinja's immutable sandbox with strict undefined names; statements
(``{% … %}``) are refused so every evaluation is a bounded expression.
"""

from __future__ import annotations

import contextvars
import difflib
import operator
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from nvpolicy.budget import Budget, BudgetExhausted, Meter, TemplateFault, weight
from nvpolicy.environment import Environment, PeerBinding
from nvpolicy.errors import RenderBudgetError, RenderError
from nvpolicy.model import Path as KeyPath
from nvpolicy.model import RenderedObject, SourceDocument
from nvpolicy.nv.groups import learned_name

# A top-level key of a source document that decides, per environment, whether it renders.
WHEN_KEY = "when"
BUILTIN_NAMES = ("env", "namespace", "policy_mode", "peers", "vars", "service", "peer")
MAX_STRING = Budget().value_size
MAX_POWER_EXPONENT = 64
# The largest integer arithmetic may build: 1,024 bits (309 digits). Ports, counts and addresses
# need far less; a bound far below Python's 4,300-digit text limit keeps every number printable.
MAX_INT_BITS = 1024
# Tokens in one value with placeholders: compiling 2,000 takes a few tens of milliseconds; 30,000 take seconds.
MAX_TEMPLATE_TOKENS = 2000
# tojson's indent: each nesting level repeats it, so a big one multiplies the output.
MAX_JSON_INDENT = 16

_SINGLE = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|\{#).)*)\}\}$", re.DOTALL)
_DOTTED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$")
_SIMPLE_PART = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_MARKERS = ("{{", "{%", "{#")
# What makes a string a template; learn.literal escapes outside text by exactly these.
TEMPLATE_MARKERS = _MARKERS
# `service('orders')`, `service("db", 'qa-db')`, `peer('db')`: string literals without escapes only.
_LITERAL = r"""(?:'[^'\\\n]*'|"[^"\\\n]*")"""
# `env == 'dev'`, `namespace != "prod"`: the usual `when:` conditions.
_COMPARE = re.compile(rf"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=)\s*({_LITERAL})\s*$")
_CALL = re.compile(rf"^\s*(service|peer)\(\s*({_LITERAL})\s*(?:,\s*({_LITERAL})\s*)?\)\s*$")
_MISSING = object()


# The meter of the render under way; the sandbox's hooks charge every step and value to it.
_METER: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("nvpolicy_meter", default=None)


def _meter() -> Meter:
    meter = _METER.get()
    if meter is None:  # evaluation outside a Renderer (tests): a fresh default budget
        meter = Meter(Budget())
        _METER.set(meter)
    return meter


# Jinja names whose result is random (output must be byte-deterministic) or whose size is not
# bounded by their inputs' sizes in any useful way; placeholders compute small values without them.
# urlize, striptags and pprint are HTML/debug helpers with regular expressions or layouts no policy needs.
_REMOVED_GLOBALS = ("lipsum",)
_REMOVED_FILTERS = ("random", "center", "indent", "wordwrap", "format", "xmlattr", "urlize", "striptags",
                    "pprint")
# str methods that pad, expand or format to a size given as an argument or inside the text,
# or (translate) whose table can map one character to a long text.
_UNBOUNDED_METHODS = frozenset({"expandtabs", "format", "format_map", "translate", "maketrans"})
_TEXT = (str, bytes, bytearray)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PERCENT_SPEC_BYTES = re.compile(rb"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _limit() -> int:
    return _meter().budget.value_size


def _check_call(obj: Any, args: Iterable[Any]) -> None:
    """Refuse a call before it runs when its result could outgrow the bound on values."""
    values = list(args)
    limit = _limit()
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit:
            raise TemplateFault(f"argument {value} is too large", "placeholders compute small values")
    # The sandbox hands out str.format wrapped; the bound method is then its __wrapped__.
    bound = getattr(obj, "__wrapped__", obj)
    owner = getattr(bound, "__self__", None)
    name = getattr(bound, "__name__", "")
    if isinstance(owner, _TEXT):
        if name in _UNBOUNDED_METHODS:
            raise TemplateFault(f"{type(owner).__name__}.{name}() is not available in placeholders",
                                "join text with ~ instead: {{ 'tcp/' ~ port }}")
        if name == "replace":
            _check_replace(owner, values)


def _check_replace(text: Any, args: Sequence[Any]) -> None:
    new = args[1] if len(args) > 1 else ""
    if isinstance(new, _TEXT) and len(new) * (len(text) + 1) > _limit() and len(text) + len(new) > 0:
        raise TemplateFault(f"replace() would build a value larger than {_size_text(_limit())}")


def _check_percent(template: Any, right: Any) -> None:
    limit = _limit()
    specs = 0
    pattern = _PERCENT_SPEC if isinstance(template, str) else _PERCENT_SPEC_BYTES
    for match in pattern.finditer(template):
        specs += 1
        for size in match.groups():
            if size in ("*", b"*") or (size is not None and int(size) > limit):
                raise TemplateFault("a % format width or precision is too large", "placeholders compute small values")
    # `'%(a)s%(a)s…' % {'a': text}` repeats one value once per conversion.
    if len(template) + specs * weight(right, limit) > limit:
        raise TemplateFault(f"% formatting would build a value larger than {_size_text(limit)}")


def _check_repeat(left: Any, right: Any) -> None:
    sequence, count = (left, right) if isinstance(right, int) else (right, left)
    countable = isinstance(count, int) and not isinstance(count, bool) and isinstance(sequence, (*_TEXT, list, tuple))
    if not countable:
        return
    # A text repeats its characters; a list its items (each with what it holds), not its own 1.
    size = len(sequence) if isinstance(sequence, _TEXT) else weight(sequence, _limit()) - 1
    if size * max(count, 0) > _limit():
        raise TemplateFault(f"repetition would build a value larger than {_size_text(_limit())}")


def _check_power(left: Any, right: Any) -> None:
    if isinstance(right, (int, float)) and abs(right) > MAX_POWER_EXPONENT:
        raise TemplateFault(f"exponent {right} is too large", "placeholders compute small values")
    if isinstance(left, int) and isinstance(right, int) and right > 0 and left.bit_length() * right > MAX_INT_BITS:
        raise TemplateFault(f"the power would be larger than {MAX_INT_BITS:,} bits",
                            "placeholders compute small values")


def _checked_number(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateFault(f"a number larger than {MAX_INT_BITS:,} bits", "placeholders compute small values")
    return value


def _size_text(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size:,} characters"


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}


@lru_cache(maxsize=1)
def _jinja() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.nodes import Concat
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generator(CodeGenerator):
        # `a ~ b ~ …` compiles to a plain str.join that no hook sees; route it through the meter.
        def visit_Concat(self, node: Concat, frame: Frame) -> None:
            self.write("environment.bounded_concat((")
            for argument in node.nodes:
                self.visit(argument, frame)
                self.write(", ")
            self.write("))")

    class Sandbox(ImmutableSandboxedEnvironment):
        code_generator_class = Generator
        # Every arithmetic operator is a step, and `**`, `*` and `%` can build huge numbers or
        # strings from a tiny expression: they are checked before they run.
        intercepted_binops = frozenset(_BINOPS)

        def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
            meter = _meter()
            meter.step()
            if op == "**":
                _check_power(left, right)
            elif op == "%" and isinstance(left, _TEXT):
                _check_percent(left, right)
            elif op == "*":
                _check_repeat(left, right)
            return meter.charge(_checked_number(_BINOPS[op](left, right)))

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            meter = _meter()
            meter.step()
            _check_call(__obj, [*args, *kwargs.values()])
            bound = getattr(__obj, "__wrapped__", __obj)
            is_join = getattr(bound, "__name__", "") == "join" and isinstance(getattr(bound, "__self__", None), _TEXT)
            if is_join and len(args) == 1 and not kwargs:  # str.join: measured before it is built
                return meter.charge(_bounded_join(bound.__self__, args[0], meter))
            return _metered(super().call(__context, __obj, *args, **kwargs), meter)

        def getattr(self, obj: Any, attribute: str) -> Any:
            _meter().step()
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            meter = _meter()
            meter.step()
            return _metered(super().getitem(obj, argument), meter)

        def bounded_concat(self, parts: Sequence[Any]) -> str:
            meter = _meter()
            meter.step(len(parts))
            return str(meter.charge(_bounded_join("", parts, meter)))

    sandbox = Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                      finalize=_finalize)
    for name in _REMOVED_GLOBALS:
        sandbox.globals.pop(name, None)
    for name in _REMOVED_FILTERS:
        sandbox.filters.pop(name, None)
    sandbox.filters["join"] = _join_filter()
    sandbox.policies["json.dumps_function"] = _bounded_dumps
    sandbox.filters = {name: _bounded_filter(name, function) for name, function in sandbox.filters.items()}
    sandbox.tests = {name: _bounded_test(function) for name, function in sandbox.tests.items()}
    return sandbox


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` inside a longer string, before Jinja turns it into text."""
    meter = _meter()
    meter.step()
    return meter.charge(value)


def _metered(value: Any, meter: Meter) -> Any:
    """Charge a result; an iterator (map, select, batch) is charged item by item as it is consumed."""
    if isinstance(value, Iterator) and not isinstance(value, (*_TEXT, list, tuple, dict)):
        return _metered_items(value, meter)
    return meter.charge(value)


def _metered_items(items: Iterator[Any], meter: Meter) -> Iterator[Any]:
    for item in items:
        meter.step()
        yield meter.charge(item)


def _bounded_join(separator: Any, items: Iterable[Any], meter: Meter) -> Any:
    """``separator.join(items)`` measured piece by piece, refused before the result is built."""
    limit = meter.budget.value_size
    pieces: list[Any] = []
    total = 0
    binary = isinstance(separator, (bytes, bytearray))
    for index, item in enumerate(items):
        if index:
            total += len(separator)
        if not binary and not isinstance(item, str):
            if weight(item, limit) > limit:  # its text would be larger still: never build it
                raise TemplateFault(f"joining would build a value larger than {_size_text(limit)}")
            item = str(item)
        total += len(item) if isinstance(item, _TEXT) else 0
        if total > limit:
            raise TemplateFault(f"joining would build a value larger than {_size_text(limit)}")
        pieces.append(item)
    return separator.join(pieces)


def _join_filter() -> Callable[..., str]:
    """Jinja's ``join`` (autoescape is off, so the text form), measured before it is built."""
    from jinja2.filters import make_attrgetter
    from jinja2.utils import pass_environment

    @pass_environment
    def join(environment: Any, value: Iterable[Any], d: str = "", attribute: str | int | None = None) -> str:
        if attribute is not None:
            value = map(make_attrgetter(environment, attribute), value)
        return str(_bounded_join(str(d), value, _meter()))

    return join


def _bounded_dumps(value: Any, **options: Any) -> str:
    """``tojson``: streamed, and refused as soon as the text passes the bound on values."""
    import json

    indent = options.get("indent")
    if indent is not None and (not isinstance(indent, int) or not 0 <= indent <= MAX_JSON_INDENT):
        raise TemplateFault(f"tojson's indent must be 0 to {MAX_JSON_INDENT}")
    limit = _limit()
    chunks: list[str] = []
    total = 0
    for chunk in json.JSONEncoder(**options).iterencode(value):
        total += len(chunk)
        if total > limit:
            raise TemplateFault(f"tojson would build a value larger than {_size_text(limit)}")
        chunks.append(chunk)
    return "".join(chunks)


def _bounded_filter(name: str, function: Any) -> Any:
    """Filters are called directly by Jinja's compiled code, not through ``Sandbox.call``; guard them here."""
    import functools

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        meter = _meter()
        meter.step()
        values = [arg for arg in args if not _is_jinja_internal(arg)]
        _check_call(function, [*values[1:], *kwargs.values()])
        if name == "replace" and len(values) >= 3 and isinstance(values[0], _TEXT):
            _check_replace(values[0], values[1:])
        if name == "sum":
            start = kwargs.get("start", values[2] if len(values) > 2 else 0)
            if not isinstance(start, (int, float)):
                raise TemplateFault("sum() adds numbers; its start must be a number",
                                    "to put lists together, use + on two lists")
        return _metered(_checked_number(function(*args, **kwargs)), meter)

    return bounded


def _bounded_test(function: Any) -> Any:
    import functools

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _meter().step()
        return function(*args, **kwargs)

    return bounded


def _is_jinja_internal(value: Any) -> bool:
    from jinja2.nodes import EvalContext
    from jinja2.runtime import Context

    return isinstance(value, (Context, EvalContext)) or hasattr(value, "sandboxed")


@cache
def _compile(text: str) -> Callable[[Mapping[str, Any]], Any]:
    """One evaluator per distinct template string, shared by every environment and object."""
    single = _SINGLE.match(text)
    if single:
        expr = single.group("expr")
        dotted = _DOTTED.match(expr)
        if dotted:
            return _dotted_lookup(dotted.group(1).split("."), expr)
        compare = _COMPARE.match(expr)
        if compare:
            name, op, literal = compare.groups()
            return _literal_compare(name, op == "==", literal[1:-1], expr)
        call = _CALL.match(expr)
        if call:
            return _literal_call(call.group(1), [arg[1:-1] for arg in call.groups()[1:] if arg is not None], expr)
        _check_length(text)
        return _expression(expr)
    if "{%" in text or "{#" in text:
        raise TemplateFault(
            "statements and comments ({% … %}, {# … #}) are not supported in values",
            "use an expression: {{ 'a' if env == 'prod' else 'b' }}",
        )
    parts = _SIMPLE_PART.split(text)
    if not any(marker in part for part in parts[::2] for marker in _MARKERS):
        return _concatenation(parts)
    _check_length(text)
    return _string_template(text)


def _check_length(text: str) -> None:
    """Jinja compiles a template in time and memory that grow with its text (faster than linearly for long
    lists and chains): bound the text, then its tokens, which lexing counts cheaply before any parsing."""
    import itertools

    limit = _limit()
    if len(text) > limit:
        raise TemplateFault(f"a value with placeholders is longer than {_size_text(limit)}",
                            "placeholders compute small values; put long literal text in its own value")
    tokens = _guard(lambda: sum(1 for _ in itertools.islice(_jinja().lex(text), MAX_TEMPLATE_TOKENS + 1)))
    if tokens > MAX_TEMPLATE_TOKENS:
        raise TemplateFault(f"a value with placeholders has more than {MAX_TEMPLATE_TOKENS:,} tokens "
                            "(names, literals, operators)", "placeholders compute small values; split the value")


def _dotted_lookup(names: list[str], expr: str) -> Callable[[Mapping[str, Any]], Any]:
    slow = _lazy_expression(expr)

    def lookup(context: Mapping[str, Any]) -> Any:
        value: Any = context
        for name in names:
            try:
                value = value[name] if isinstance(value, dict) else _MISSING
            except KeyError:
                value = _MISSING
            if value is _MISSING:
                return _defined(slow(context))  # the slow path explains what is missing
        return value

    return lookup


# Evaluators whose results are new plain data (service()/peer() build fresh selectors of strings),
# so the defensive copy in _plain is skipped for them.
_FRESH_PLAIN: set[Callable[[Mapping[str, Any]], Any]] = set()


def _literal_call(function: str, args: list[str], expr: str) -> Callable[[Mapping[str, Any]], Any]:
    """``service('a')`` and friends without Jinja: most placeholders are these, each a distinct string."""
    slow = _lazy_expression(expr)

    def call(context: Mapping[str, Any]) -> Any:
        target = context.get(function)
        if not callable(target):
            return slow(context)
        try:
            return target(*args)
        except TemplateFault:
            raise
        except Exception:
            return slow(context)  # Jinja's path words the failure

    _FRESH_PLAIN.add(call)
    return call


def _literal_compare(name: str, equal: bool, literal: str, expr: str) -> Callable[[Mapping[str, Any]], Any]:
    slow = _lazy_expression(expr)

    def compare(context: Mapping[str, Any]) -> Any:
        value = context.get(name, _MISSING)
        if not isinstance(value, str):
            return slow(context)  # undefined names and other types: Jinja's semantics and wording
        return (value == literal) is equal

    return compare


def _lazy_expression(expr: str) -> Callable[[Mapping[str, Any]], Any]:
    """Compiled with Jinja on first use only: the fast paths rarely need it."""
    compiled: list[Callable[[Mapping[str, Any]], Any]] = []

    def evaluate(context: Mapping[str, Any]) -> Any:
        if not compiled:
            compiled.append(_expression(expr))
        return compiled[0](context)

    return evaluate


def _concatenation(parts: list[str]) -> Callable[[Mapping[str, Any]], Any]:
    literals = parts[::2]
    text = "".join(literals)
    lookups = [_dotted_lookup(name.split("."), name) for name in parts[1::2]]

    def concatenate(context: Mapping[str, Any]) -> str:
        pieces = [literals[0]]
        limit = _meter().budget.value_size
        total = len(text)
        for lookup, literal in zip(lookups, literals[1:], strict=True):
            value = lookup(context)
            if value is None:
                raise TemplateFault("a placeholder yields nothing (None)")
            if not isinstance(value, (str, int, float)):
                raise TemplateFault(
                    f"a placeholder inside a longer string yields a {_type_name(value)}",
                    "only text and numbers can be part of a string; make the placeholder the whole value",
                )
            piece = value if isinstance(value, str) else str(_checked_number(value))
            total += len(piece)
            if total > limit:  # `{{ v }}{{ v }}…` must not build gigabytes before the result is measured
                raise TemplateFault(f"a placeholder yields more than {_size_text(limit)} of text")
            pieces.append(piece)
            pieces.append(literal)
        return "".join(pieces)

    return concatenate


def _expression(expr: str) -> Callable[[Mapping[str, Any]], Any]:
    compiled = _guard(lambda: _jinja().compile_expression(expr, undefined_to_none=False))

    def evaluate(context: Mapping[str, Any]) -> Any:
        return _metered_run(lambda: compiled(**context))

    return evaluate


def _string_template(text: str) -> Callable[[Mapping[str, Any]], Any]:
    template = _guard(lambda: _jinja().from_string(text))

    def render(context: Mapping[str, Any]) -> str:
        def pieces() -> str:
            limit = _limit()
            parts: list[str] = []
            total = 0
            for part in template.generate(context):
                total += len(part)
                if total > limit:
                    raise TemplateFault(f"a placeholder yields more than {_size_text(limit)} of text")
                parts.append(part)
            return "".join(parts)

        return str(_metered_run(pieces))

    return render


def _metered_run(action: Callable[[], Any]) -> Any:
    """Run one placeholder in the sandbox under the current render's budget."""
    meter = _meter()
    meter.begin()
    try:
        return _guard(action)
    finally:
        meter.end()


def _guard(action: Callable[[], Any]) -> Any:
    """Turn Jinja's exceptions into TemplateFault, the only error evaluation raises."""
    from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    try:
        return action()
    except TemplateFault:
        raise
    except TemplateSyntaxError as exc:
        raise _unknown_name(exc.message) or TemplateFault(f"placeholder syntax error: {exc.message}") from None
    except UndefinedError as exc:
        raise TemplateFault(_undefined_message(str(exc.message))) from None
    except SecurityError as exc:
        raise TemplateFault(f"not allowed in the sandbox: {exc}",
                            "placeholders may read values and call service()/peer(), nothing else") from None
    except TemplateError as exc:  # TemplateRuntimeError: `map('lenght')` names a filter only when it runs
        raise _unknown_name(exc.message) or TemplateFault(f"placeholder failed: {exc.message}") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # Python's 4,300-digit limit, in a literal or int()
            raise TemplateFault("a number in the placeholder has more than 4,300 digits",
                                "placeholders compute small values") from None
        raise TemplateFault(f"placeholder failed: {exc}") from None
    except (TypeError, ArithmeticError, LookupError, AttributeError, OverflowError) as exc:
        raise TemplateFault(f"placeholder failed: {exc}") from None
    except (RecursionError, SyntaxError):  # SyntaxError: Python's own nesting limit on the compiled code
        raise TemplateFault("placeholder nests too deeply") from None
    except MemoryError:
        raise TemplateFault("placeholder needs too much memory") from None


_NO_SUCH = re.compile(r"No (filter|test) named '([^']*)'")


def _unknown_name(message: str | None) -> TemplateFault | None:
    """``No filter named 'lenght'`` with a did-you-mean, and why a removed filter is gone."""
    match = _NO_SUCH.search(message or "")
    if not match:
        return None
    what, name = match.groups()
    text = f"No {what} named {name!r}"
    if what == "filter" and name in _REMOVED_FILTERS:
        return TemplateFault(f"{text}: it is not available in placeholders",
                             "its output is random or its size is set by an argument; placeholders compute "
                             "small, deterministic values")
    known = list(_jinja().filters if what == "filter" else _jinja().tests)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"{what}s: {', '.join(sorted(known))}"
    return TemplateFault(text, hint)


def _defined(value: Any) -> Any:
    """Raise the reason a name is undefined; an expression that only names it returns the Undefined."""
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        try:
            str(value)
        except Exception as exc:  # StrictUndefined raises on use, with the reason
            raise TemplateFault(_undefined_message(str(getattr(exc, "message", exc)))) from None
    return value


def _undefined_message(text: str) -> str:
    if text.startswith("'") and text.endswith("' is undefined"):
        return f"unknown placeholder name {text[: -len(' is undefined')]}"
    return text


class Renderer:
    """Renders source documents for one environment; template compilation is shared process-wide."""

    def __init__(self, environment: Environment, budget: Budget | None = None) -> None:
        self.environment = environment
        self.context = build_context(environment)
        # The budgets are settings (NVPOLICY_PLACEHOLDER_SECONDS, …); one meter per environment's render.
        self.meter = Meter(budget if budget is not None else Budget.from_environ(os.environ))

    def render(self, document: SourceDocument) -> RenderedObject | None:
        """The rendered object, or None when the document's ``when:`` excludes this environment."""
        token = _METER.set(self.meter)
        try:
            return self._render(document)
        finally:
            _METER.reset(token)

    def _render(self, document: SourceDocument) -> RenderedObject | None:
        source = document.data
        if not isinstance(source, dict):
            raise RenderError("a policy document must be a mapping (one NeuVector custom resource)",
                              location=document.locate())
        if WHEN_KEY in source:
            if not self._included(document, source[WHEN_KEY]):
                return None
            source = {key: value for key, value in source.items() if key != WHEN_KEY}
        data = self._value(document, source, ())
        return RenderedObject(data, document)

    def includes(self, document: SourceDocument) -> bool:
        """Whether the document's ``when:`` (if any) admits this environment."""
        source = document.data
        return not (isinstance(source, dict) and WHEN_KEY in source) or self._included(document, source[WHEN_KEY])

    def render_all(self, documents: Iterable[SourceDocument]) -> list[RenderedObject]:
        return [obj for obj in map(self.render, documents) if obj is not None]

    def _included(self, document: SourceDocument, condition: Any) -> bool:
        path = (WHEN_KEY,)
        value = self._template(document, condition, path) if isinstance(condition, str) else condition
        if not isinstance(value, bool):
            raise RenderError(f"'when:' must be true or false, got {value!r}", location=document.locate(path),
                              path=path, hint="for example when: \"{{ env in ['dev', 'qa'] }}\"")
        return value

    def _value(self, document: SourceDocument, value: Any, path: KeyPath) -> Any:
        if isinstance(value, str):
            if "{" not in value:
                return value
            return self._template(document, value, path)
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            for key, item in value.items():
                if item is None:
                    continue  # `egress:` / `file: null` mean "none"; output never carries nulls
                rendered_key = self._template(document, key, (*path, key)) if "{" in key else key
                if not isinstance(rendered_key, str):
                    rendered_key = str(rendered_key)
                if rendered_key in result:
                    raise RenderError(f"two keys render to {rendered_key!r}", location=document.locate((*path, key)),
                                      path=(*path, key))
                result[rendered_key] = self._value(document, item, (*path, key))
            return result
        if isinstance(value, list):
            items = []
            for index, item in enumerate(value):
                if item is None:
                    raise RenderError("a list item is empty (null)", location=document.locate((*path, index)),
                                      path=(*path, index), hint="remove the empty '-' entry")
                items.append(self._value(document, item, (*path, index)))
            return items
        return value

    def _template(self, document: SourceDocument, text: str, path: KeyPath) -> Any:
        try:
            evaluate = _compile(text)
            result = evaluate(self.context)
            if evaluate in _FRESH_PLAIN:
                return result
            size = [0]
            plain = _plain(result, self.meter.budget.value_size, size)
            self.meter.charge_result(size[0])
            return plain
        except TemplateFault as fault:
            hint = fault.hint or self._suggest(fault.message)
            error = RenderBudgetError if isinstance(fault, BudgetExhausted) else RenderError
            raise error(f"{fault.message} in {_shown(text)}", location=document.locate(path), path=path,
                        hint=hint) from None

    def _suggest(self, message: str) -> str | None:
        match = re.match(r"unknown placeholder name '([^']+)'", message) or re.search(
            r"has no attribute '([^']+)'", message)
        if not match:
            return None
        name = match.group(1)
        candidates = list(self.context) + list(self.environment.peers) + list(self.environment.vars)
        close = difflib.get_close_matches(name, candidates, n=1)
        known = ", ".join(sorted(self.context))
        if close:
            return f"did you mean {close[0]!r}?"
        if name in self.environment.peers or "peers" in message:
            return None
        return f"names in scope: {known}"


def _shown(text: str) -> str:
    """The value in a message: whole when short, its start and length when long."""
    if len(text) <= 200:
        return repr(text)
    return f"{text[:120]!r}… ({len(text):,} characters)"


def _is_undefined(value: Any) -> bool:
    # Only Jinja makes Undefined values; when no placeholder needed Jinja, it is not even imported.
    jinja2 = sys.modules.get("jinja2")
    return jinja2 is not None and isinstance(value, jinja2.Undefined)


def _plain(value: Any, limit: int, size: list[int]) -> Any:
    """Check and copy a placeholder's result into plain YAML-able data, at most ``limit`` in size."""
    if _is_undefined(value):
        try:
            str(value)
        except Exception as exc:  # StrictUndefined raises on use, with the reason
            raise TemplateFault(_undefined_message(str(getattr(exc, "message", exc)))) from None
        raise TemplateFault("a placeholder yields nothing")
    if value is None:
        raise TemplateFault("a placeholder yields nothing (None)",
                            "an environment value is missing; set it in the environment file")
    size[0] += 1
    if isinstance(value, str):
        size[0] += len(value)
        if len(value) > limit:
            raise TemplateFault(f"a placeholder yields more than {_size_text(limit)} of text")
        if size[0] > limit:
            raise _too_large(limit)
        return value
    if isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return _checked_number(value)
    if isinstance(value, Mapping):
        size[0] += 2 * len(value)
        if size[0] > limit:
            raise _too_large(limit)
        return {str(key): _plain(item, limit, size) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        size[0] += len(value)
        if size[0] > limit:
            raise _too_large(limit)
        return [_plain(item, limit, size) for item in value]
    if callable(value):
        raise TemplateFault("a placeholder yields a function, not a value", "call it: add ( … )")
    raise TemplateFault(f"a placeholder yields a {_type_name(value)}, not a YAML value")


def _too_large(limit: int) -> TemplateFault:
    return TemplateFault(f"a placeholder yields a value larger than {limit:,} (characters + items)",
                         "placeholders compute small values; the limit is NVPOLICY_VALUE_SIZE")


def _type_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------
# The placeholder scope


class _Peers(dict[str, Any]):
    """``peers``: a missing binding is an error that says where to add it, not a bare undefined."""

    environment: Environment

    def __missing__(self, name: str) -> Any:
        raise _unbound(self.environment, name)


class _PeerFields(dict[str, Any]):
    """``peers.<name>``: asking for a field the binding does not set says which binding lacks it."""

    environment: Environment
    peer: str

    def __missing__(self, field: str) -> Any:
        close = difflib.get_close_matches(str(field), [key for key in self if isinstance(key, str)], n=1)
        mean = f"did you mean {close[0]!r}? Or " if close else ""
        raise TemplateFault(
            f"peer {self.peer!r} has no {field!r} in environment {self.environment.name!r}",
            f"{mean}add {field}: to peers.{self.peer} in environments/{self.environment.name}.yaml",
        )


def _unbound(environment: Environment, name: str) -> TemplateFault:
    known = ", ".join(sorted(environment.peers)) or "none"
    close = difflib.get_close_matches(str(name), list(environment.peers), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return TemplateFault(
        f"peer {name!r} is not bound in environment {environment.name!r}",
        f"{hint}add peers.{name} to environments/{environment.name}.yaml (bound peers: {known})",
    )


def build_context(environment: Environment) -> dict[str, Any]:
    peers = _Peers()
    peers.environment = environment
    for name, binding in environment.peers.items():
        fields = _PeerFields(binding.as_context())
        fields.environment, fields.peer = environment, name
        peers[name] = fields

    def service(name: str, namespace: str | None = None) -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise TemplateFault("service() takes a service name", "for example service('orders')")
        return service_selector(name, namespace or environment.namespace)

    def peer(name: str) -> dict[str, Any]:
        binding = environment.peers.get(name)
        if binding is None:
            raise _unbound(environment, name)
        return peer_selector(binding, environment.namespace)

    context: dict[str, Any] = dict(environment.vars)
    context.update(
        env=environment.name,
        namespace=environment.namespace,
        policy_mode=environment.policy_mode,
        peers=peers,
        vars=dict(environment.vars),
        service=service,
        peer=peer,
    )
    return context


def service_selector(service: str, namespace: str) -> dict[str, Any]:
    """The selector of NeuVector's learned group for a Kubernetes service."""
    return {
        "name": learned_name(service, namespace),
        "criteria": [
            {"key": "service", "op": "=", "value": f"{service}.{namespace}"},
            {"key": "domain", "op": "=", "value": namespace},
        ],
    }


def peer_selector(binding: PeerBinding, namespace: str) -> dict[str, Any]:
    if binding.address is not None:
        return {
            "name": binding.group or external_group_name(binding.name, namespace),
            "criteria": [{"key": "address", "op": "=", "value": binding.address}],
        }
    assert binding.service is not None
    return service_selector(binding.service, binding.namespace or namespace)


def external_group_name(peer: str, namespace: str) -> str:
    """``ext.<peer>.<namespace>``: valid whatever the address, no reserved prefix, unique per namespace."""
    return f"ext.{peer}.{namespace}"
