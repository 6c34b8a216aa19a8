"""Placeholder evaluation over parsed data, never over YAML text.

Only string values (and mapping keys) are templates. A value that is exactly one
``{{ expr }}`` yields the expression's native value; any other string renders to a string.
Templates run in Jinja's immutable sandbox with strict undefined names; statements
(``{% … %}``) are refused so every evaluation is a bounded expression.
"""

from __future__ import annotations

import difflib
import operator
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from nvpolicy.environment import Environment, PeerBinding
from nvpolicy.errors import RenderError
from nvpolicy.model import Path as KeyPath
from nvpolicy.model import RenderedObject, SourceDocument
from nvpolicy.nv.groups import learned_name

# A top-level key of a source document that decides, per environment, whether it renders.
WHEN_KEY = "when"
BUILTIN_NAMES = ("env", "namespace", "policy_mode", "peers", "vars", "service", "peer")
MAX_STRING = 64 * 1024
MAX_POWER_EXPONENT = 64

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


class TemplateFault(Exception):
    """Raised inside evaluation; turned into a RenderError with the value's location."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# Jinja names whose result is random (output must be byte-deterministic) or whose size is not
# bounded by their inputs' sizes in any useful way; placeholders compute small values without them.
_REMOVED_GLOBALS = ("lipsum",)
_REMOVED_FILTERS = ("random", "center", "indent", "wordwrap", "format", "xmlattr")
# str methods that pad, expand or format to a size given as an argument or inside the text.
_UNBOUNDED_METHODS = frozenset({"expandtabs", "format", "format_map"})
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_call(obj: Any, args: Iterable[Any]) -> None:
    """Refuse a call before it runs when its result could outgrow the 64 KiB bound on values."""
    values = list(args)
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_STRING:
            raise TemplateFault(f"argument {value} is too large", "placeholders compute small values")
    # The sandbox hands out str.format wrapped; the bound method is then its __wrapped__.
    bound = getattr(obj, "__wrapped__", obj)
    owner = getattr(bound, "__self__", None)
    name = getattr(bound, "__name__", "")
    if isinstance(owner, str):
        if name in _UNBOUNDED_METHODS:
            raise TemplateFault(f"str.{name}() is not available in placeholders",
                                "join text with ~ instead: {{ 'tcp/' ~ port }}")
        if name == "replace":
            _check_replace(owner, values)


def _check_replace(text: str, args: Sequence[Any]) -> None:
    new = args[1] if len(args) > 1 else ""
    if isinstance(new, str) and len(new) * (len(text) + 1) > MAX_STRING and len(text) + len(new) > 0:
        raise TemplateFault("replace() would build a value larger than 64 KiB")


def _check_percent(template: str, right: Any) -> None:
    for match in _PERCENT_SPEC.finditer(template):
        for size in match.groups():
            if size == "*" or (size is not None and int(size) > MAX_STRING):
                raise TemplateFault("a % format width or precision is too large", "placeholders compute small values")


@lru_cache(maxsize=1)
def _jinja() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        # `**`, `*` and `%` can build huge numbers or strings from a tiny expression; bound them.
        intercepted_binops = frozenset({"**", "*", "%"})

        def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
            if op == "**":
                if isinstance(right, (int, float)) and abs(right) > MAX_POWER_EXPONENT:
                    raise TemplateFault(f"exponent {right} is too large", "placeholders compute small values")
                return operator.pow(left, right)
            if op == "%":
                if isinstance(left, str):
                    _check_percent(left, right)
                return operator.mod(left, right)
            if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
                size = max(len(left) if hasattr(left, "__len__") else 0, len(right) if hasattr(right, "__len__") else 0)
                count = right if isinstance(right, int) else left if isinstance(left, int) else 0
                if size * abs(count) > MAX_STRING:
                    raise TemplateFault("repetition would build a value larger than 64 KiB")
            return operator.mul(left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            _check_call(__obj, [*args, *kwargs.values()])
            return super().call(__context, __obj, *args, **kwargs)

    sandbox = Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    for name in _REMOVED_GLOBALS:
        sandbox.globals.pop(name, None)
    for name in _REMOVED_FILTERS:
        sandbox.filters.pop(name, None)
    sandbox.filters = {name: _bounded_filter(name, function) for name, function in sandbox.filters.items()}
    return sandbox


def _bounded_filter(name: str, function: Any) -> Any:
    """Filters are called directly by Jinja's compiled code, not through ``Sandbox.call``; guard them here."""
    import functools

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [arg for arg in args if not _is_jinja_internal(arg)]
        _check_call(function, [*values[1:], *kwargs.values()])
        if name == "replace" and len(values) >= 3 and isinstance(values[0], str):
            _check_replace(values[0], values[1:])
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
        return _expression(expr)
    if "{%" in text or "{#" in text:
        raise TemplateFault(
            "statements and comments ({% … %}, {# … #}) are not supported in values",
            "use an expression: {{ 'a' if env == 'prod' else 'b' }}",
        )
    parts = _SIMPLE_PART.split(text)
    if not any(marker in part for part in parts[::2] for marker in _MARKERS):
        return _concatenation(parts)
    return _string_template(text)


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
    lookups = [_dotted_lookup(name.split("."), name) for name in parts[1::2]]

    def concatenate(context: Mapping[str, Any]) -> str:
        pieces = [literals[0]]
        for lookup, literal in zip(lookups, literals[1:], strict=True):
            value = lookup(context)
            if value is None:
                raise TemplateFault("a placeholder yields nothing (None)")
            if not isinstance(value, (str, int, float)):
                raise TemplateFault(
                    f"a placeholder inside a longer string yields a {_type_name(value)}",
                    "only text and numbers can be part of a string; make the placeholder the whole value",
                )
            pieces.append(str(value))
            pieces.append(literal)
        return "".join(pieces)

    return concatenate


def _expression(expr: str) -> Callable[[Mapping[str, Any]], Any]:
    compiled = _guard(lambda: _jinja().compile_expression(expr, undefined_to_none=False))

    def evaluate(context: Mapping[str, Any]) -> Any:
        return _guard(lambda: compiled(**context))

    return evaluate


def _string_template(text: str) -> Callable[[Mapping[str, Any]], Any]:
    template = _guard(lambda: _jinja().from_string(text))

    def render(context: Mapping[str, Any]) -> str:
        return str(_guard(lambda: template.render(context)))

    return render


def _guard(action: Callable[[], Any]) -> Any:
    """Turn Jinja's exceptions into TemplateFault, the only error evaluation raises."""
    from jinja2 import TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    try:
        return action()
    except TemplateFault:
        raise
    except TemplateSyntaxError as exc:
        raise TemplateFault(f"placeholder syntax error: {exc.message}") from None
    except UndefinedError as exc:
        raise TemplateFault(_undefined_message(str(exc.message))) from None
    except SecurityError as exc:
        raise TemplateFault(f"not allowed in the sandbox: {exc}",
                            "placeholders may read values and call service()/peer(), nothing else") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError, OverflowError) as exc:
        raise TemplateFault(f"placeholder failed: {exc}") from None
    except RecursionError:
        raise TemplateFault("placeholder nests too deeply") from None
    except MemoryError:
        raise TemplateFault("placeholder needs too much memory") from None


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

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.context = build_context(environment)

    def render(self, document: SourceDocument) -> RenderedObject | None:
        """The rendered object, or None when the document's ``when:`` excludes this environment."""
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
            return _plain(result, single=_is_single(text))
        except TemplateFault as fault:
            hint = fault.hint or self._suggest(fault.message)
            raise RenderError(f"{fault.message} in {text!r}", location=document.locate(path), path=path,
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


@cache
def _is_single(text: str) -> bool:
    return bool(_SINGLE.match(text))


def _is_undefined(value: Any) -> bool:
    # Only Jinja makes Undefined values; when no placeholder needed Jinja, it is not even imported.
    jinja2 = sys.modules.get("jinja2")
    return jinja2 is not None and isinstance(value, jinja2.Undefined)


def _plain(value: Any, single: bool) -> Any:
    """Check and copy a placeholder's result into plain YAML-able data."""
    if _is_undefined(value):
        try:
            str(value)
        except Exception as exc:  # StrictUndefined raises on use, with the reason
            raise TemplateFault(_undefined_message(str(getattr(exc, "message", exc)))) from None
        raise TemplateFault("a placeholder yields nothing")
    if value is None:
        raise TemplateFault("a placeholder yields nothing (None)",
                            "an environment value is missing; set it in the environment file")
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise TemplateFault("a placeholder yields more than 64 KiB of text")
        return value
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(key): _plain(item, single) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(item, single) for item in value]
    if callable(value):
        raise TemplateFault("a placeholder yields a function, not a value", "call it: add ( … )")
    raise TemplateFault(f"a placeholder yields a {_type_name(value)}, not a YAML value")


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
        raise TemplateFault(
            f"peer {self.peer!r} has no {field!r} in environment {self.environment.name!r}",
            f"add {field}: to peers.{self.peer} in environments/{self.environment.name}.yaml",
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
