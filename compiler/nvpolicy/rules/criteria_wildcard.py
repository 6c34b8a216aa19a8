"""criteria-wildcard: a ``=``/``!=`` value with ``*`` or ``?`` may not contain ``^`` or ``$`` (S15).

NeuVector turns ``*``/``?`` into a simple regex; anchors then make no sense and are refused.
Everything else (``+``, ``|``, ``(``) is a literal character, as in the image tag ``1.0+build.5``.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: image, op: "=", value: "registry/web:1.0+build*"}]}

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
from nvpolicy.nv.criteria import kov, wildcard_problem
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import selectors

ID = "criteria-wildcard"
LEVEL = "error"
DESCRIPTION = "A value of an = or != criterion that has * or ? has no ^ or $ (S15)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        if not selector.custom:
            continue
        for index, key, op, value in selector.fields():
            if isinstance(op, str) and isinstance(value, str) and wildcard_problem(op, value):
                yield Hit(selector.obj, (*selector.criterion_path(index), "value"),
                          f"value {value!r} of a '{op}' criterion mixes the wildcards * ? with the anchors ^ $"
                          + says("S15", f"Invalid simple regex value in criteria {kov(key, op, value)}"),
                          "= and != match the whole value already; use op: regex for a regular expression")
