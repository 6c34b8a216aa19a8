"""criteria-op: custom-group criteria as validateGroupConfigCriteria checks them (S10-S14).

Ops: ``=``, ``!=``, ``contains``, ``prefix``, ``regex``, ``!regex``; a value may be empty only with
``=``/``!=``; ``regex``/``!regex`` values compile with Go's regexp, which is RE2 (no lookaround or
backreferences; ``\\p{L}`` works). Keys match ``^[/a-zA-Z0-9]+[/.:a-zA-Z0-9_-]*$``
(``app.kubernetes.io/name`` is fine). Learned and reserved groups have checks of their own.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector:
          name: web
          criteria: [{key: image, op: regex, value: "^registry/\\\\p{L}+:.*$"},
                     {key: app.kubernetes.io/name, op: "=", value: web}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: image, op: regex, value: "web(?=:v1)"}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.criteria import EXACT_OPS, KEY_PATTERN, OPS, REGEX_OPS, kov, regex_problem
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import selectors

ID = "criteria-op"
LEVEL = "error"
DESCRIPTION = ("Custom-group criteria: keys of letters, digits and / . : _ - (S11); ops =, !=, contains, prefix, "
               "regex, !regex (S12); empty values only with = and != (S13); regexes compile as Go RE2 (S14).")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        if not selector.custom:
            continue
        for index, key, op, value in selector.fields():
            path = selector.criterion_path(index)
            if not isinstance(key, str) or not key:
                yield Hit(selector.obj, (*path, "key"), "criterion key is empty"
                          + says("S10", "Criteria key cannot be empty"))
            elif not isinstance(value, str):
                continue  # the schema says what is wrong with it
            elif op not in EXACT_OPS and value == "":
                yield Hit(selector.obj, (*path, "value"), f"criterion op {op!r} needs a non-empty value" + says(
                    "S13", f"Empty criteria value is only allowed for exact match (key: {key})"))
            elif not KEY_PATTERN.match(key):
                yield Hit(selector.obj, (*path, "key"), f"criterion key {key!r} has characters NeuVector refuses"
                          + says("S11", f"Invalid characters in criteria key {key}"),
                          "keys are letters, digits and / . : _ - (starting with a letter, digit or /)")
            elif op not in OPS:
                yield Hit(selector.obj, (*path, "op"), f"criterion op {op!r} is not one of: {', '.join(OPS)}"
                          + says("S12", f"Invalid operation in criteria (key: {key}, op: {op})"),
                          "quote the op in hand-written YAML: op: \"=\"")
            elif op in REGEX_OPS and (found := regex_problem(value)) is not None:
                yield Hit(selector.obj, (*path, "value"), f"criterion regex {value!r} does not compile in Go "
                          f"(RE2): {found}" + says("S14", f"Invalid regex value in criteria {kov(key, op, value)}"),
                          "Go regexps have no lookahead, lookbehind or backreferences")
