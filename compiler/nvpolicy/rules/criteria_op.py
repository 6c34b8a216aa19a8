"""criteria-op: group criteria use the ops the controller accepts, with usable values.

Ops: ``=``, ``!=``, ``contains``, ``prefix``, ``regex``, ``!regex`` (validateGroupConfigCriteria).
A value may be empty only with ``=``/``!=``; a regex value must compile.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: image, op: regex, value: "^registry/web:.*$"}]}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: image, op: regex, value: "web(["}]}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import selectors

ID = "criteria-op"
LEVEL = "error"
DESCRIPTION = "Criteria ops are =, !=, contains, prefix, regex or !regex; values are non-empty and regexes compile."

OPS = ("=", "!=", "contains", "prefix", "regex", "!regex")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        for index, _, op, value in selector.fields():
            if op not in OPS:
                yield Hit(selector.obj, (*selector.criterion_path(index), "op"),
                          f"criterion op {op!r} is not one of: {', '.join(OPS)}",
                          "quote the op in hand-written YAML: op: \"=\"")
            elif not isinstance(value, str) or (not value and op not in ("=", "!=")):
                yield Hit(selector.obj, (*selector.criterion_path(index), "value"),
                          f"criterion op {op!r} needs a non-empty string value")
            elif op in ("regex", "!regex"):
                try:
                    re.compile(value)
                except re.error as exc:
                    yield Hit(selector.obj, (*selector.criterion_path(index), "value"),
                              f"criterion regex {value!r} does not compile: {exc}")
