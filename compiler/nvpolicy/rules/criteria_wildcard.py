"""criteria-wildcard: ``=`` and ``!=`` values are literal text with the wildcards ``*`` and ``?`` only.

NeuVector turns ``*``/``?`` into a regex (EqualMatch); regex syntax such as ``^``, ``$``,
brackets, ``+`` or ``|`` is then matched literally or breaks the pattern. Use op ``regex`` instead.
Address criteria are checked by address-criteria.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: image, op: "=", value: "registry/web*"}]}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: image, op: "=", value: "^registry/web.*$"}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import selectors

ID = "criteria-wildcard"
LEVEL = "error"
DESCRIPTION = "Values of = and != criteria use only the wildcards * and ?, no regex syntax."

REGEX_CHARACTERS = frozenset("^$[](){}+|\\")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        for index, key, op, value in selector.fields():
            if op not in ("=", "!=") or key == "address":
                continue
            if not isinstance(value, str) or REGEX_CHARACTERS.isdisjoint(value):
                continue  # the common case: no set built, nothing sorted
            found = sorted(set(value) & REGEX_CHARACTERS)
            if found:
                yield Hit(selector.obj, (*selector.criterion_path(index), "value"),
                          f"value {value!r} of a '{op}' criterion contains regex syntax "
                          f"({' '.join(found)})",
                          "= and != take the wildcards * and ? only; use op: regex for a regular expression")
