"""The one way outside data (events, exports, controller answers, file names) enters written source.

``render`` treats a string (value or mapping key) as a template when it holds ``{{``, ``{%`` or ``{#``;
any other string renders to itself. ``literal`` turns text that holds a marker into a single
``{{ '…' }}`` expression whose Jinja string literal spells every ``{``, ``}``, quote, backslash and
control character as an escape, so the written form holds no marker inside it: it takes the renderer's
single-expression path and yields exactly the original text in every environment.

Names that go *inside* template code (``service('…')``) are never escaped, only accepted when they are
names NeuVector gives services and namespaces (``service_problem``/``namespace_problem``, then
``service_call``); anything else is refused with a reason the caller reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nvpolicy.errors import SourceError
from nvpolicy.render import TEMPLATE_MARKERS, WHEN_KEY

# Characters spelled as escapes inside the Jinja literal: the marker halves, the literal's own
# quote and escape character, and everything Jinja's lexer would alter (it turns \r\n and \r into
# \n) or that is invisible in review.
_ESCAPED = {"{": "\\x7b", "}": "\\x7d", "'": "\\'", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

# A Kubernetes namespace is a DNS-1123 label; NeuVector's learned service name is the workload's
# owner name (a DNS-1123 subdomain, so dots are allowed) -- ``nv.<service>.<namespace>``.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def is_template(text: str) -> bool:
    """Whether the renderer would evaluate ``text`` rather than copy it."""
    return any(marker in text for marker in TEMPLATE_MARKERS)


def literal(text: str) -> str:
    """Source text that renders to exactly ``text``: ``text`` itself when it holds no marker."""
    if not is_template(text):
        return text
    return "{{ '" + "".join(_escape_char(char) for char in text) + "' }}"


def _escape_char(char: str) -> str:
    escaped = _ESCAPED.get(char)
    if escaped is not None:
        return escaped
    if not char.isprintable():
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return char


def literal_tree(value: Any) -> Any:
    """``literal`` applied to every string of plain data: mapping keys and values, list items."""
    if isinstance(value, Mapping):
        return {literal(key) if isinstance(key, str) else key: literal_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [literal_tree(item) for item in value]
    if isinstance(value, str):
        return literal(value)
    return value


def literal_document(obj: Mapping[str, Any]) -> dict[str, Any]:
    """One imported object as source: ``literal_tree``, after refusing a top-level ``when:`` -- in source
    that key is nvpolicy's own per-environment condition, so data there would decide what renders."""
    if WHEN_KEY in obj:
        name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), Mapping) else None
        raise SourceError(f"{obj.get('kind')} {printable(str(name))}: a top-level {WHEN_KEY!r} key is not part of a "
                          f"NeuVector resource, and in nvpolicy source it decides where the object renders",
                          hint=f"remove {WHEN_KEY!r} from the export")
    tree: dict[str, Any] = literal_tree(obj)
    return tree


def service_problem(name: str) -> str | None:
    """Why ``name`` is not a service name to put in ``service('…')``, or None when it is one."""
    if _DNS_SUBDOMAIN.match(name):
        return None
    return f"service name {printable(name)!r} is not a DNS-1123 name (lower-case letters, digits, '-', '.')"


def namespace_problem(name: str) -> str | None:
    """Why ``name`` is not a namespace to put in ``service('…', '…')``, or None when it is one."""
    return label_problem(name, "namespace")


def label_problem(name: str, what: str) -> str | None:
    """Why ``name`` (a namespace, a container) is not a DNS-1123 label, or None when it is one."""
    if _DNS_LABEL.match(name):
        return None
    return f"{what} {printable(name)!r} is not a DNS-1123 label (lower-case letters, digits, '-')"


def service_call(service: str, namespace: str | None = None) -> str:
    """``{{ service('<service>') }}`` or ``{{ service('<service>', '<namespace>') }}`` for checked names.

    Callers check the names first and report a refusal; reaching here with another name is a bug,
    so it is raised, never written."""
    problem = service_problem(service) or (namespace_problem(namespace) if namespace is not None else None)
    if problem:
        raise ValueError(problem)
    if namespace is None:
        return f"{{{{ service('{service}') }}}}"
    return f"{{{{ service('{service}', '{namespace}') }}}}"


def printable(text: str) -> str:
    """``text`` with every character that is not printable (control characters, line and paragraph
    separators, NEL, bidi controls) spelled as a ``\\x``/``\\u`` escape: one visible line, safe in a
    comment, a log line or a terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape_char(char) for char in text)
