"""environment-leak: nothing of another environment, and no unresolved placeholder, in this one's output.

Namespaces, peer namespaces, addresses and group names that another ``environments/*.yaml``
sets (and this environment does not), and string vars both set differently, must not appear in
names, criteria or rule names, e.g. a DEV namespace ``feature-6293`` in QA. Any ``{{``/``{%``
left in a string is a leak too.
``lint`` fills the ``foreign`` option (value -> environment) from the other environment files;
``options: {forbidden: [..]}`` adds values of your own.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      egress: [{name: to-db, action: allow, selector: {name: nv.db.shop}}]

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      egress: [{name: to-db, action: allow, selector: {name: nv.db.dev}}]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from nvpolicy.model import Path, RenderedObject
from nvpolicy.rules import Hit, RuleContext

ID = "environment-leak"
LEVEL = "error"
DESCRIPTION = "No namespace, address or group of another environment, and no unresolved {{ placeholder, in the output."

_TOKENS = re.compile(r"[./:=,\s]+")
# Where environment values end up; process paths and file filters are left out (/dev/null is no leak).
_CHECKED_KEYS = frozenset({"name", "namespace", "value"})


def _strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _contains(text: str, value: str) -> bool:
    """``value`` as a whole name inside ``text``: 'db.qa' is in 'nv.db.qa', not in 'nv.mydb.qa' nor 'db.qa-2'."""
    return re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text) is not None


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    foreign: dict[str, str] = {str(k): str(v) for k, v in (context.options.get("foreign") or {}).items()}
    for value in context.options.get("forbidden") or []:
        foreign.setdefault(str(value), "the forbidden list")
    for obj in objects:
        for path, text in _strings(obj.data, ()):
            if "{{" in text or "{%" in text:
                yield Hit(obj, path, f"unresolved placeholder in {text!r}")
                continue
            if not path or path[-1] not in _CHECKED_KEYS:
                continue
            tokens = set(_TOKENS.split(text))
            for value, owner in foreign.items():
                if value in tokens or (("." in value or "/" in value) and _contains(text, value)):
                    yield Hit(obj, path, f"{text!r} contains {value!r}, which belongs to {owner}",
                              "a value of another environment leaked in; use a placeholder bound per environment")
                    break
