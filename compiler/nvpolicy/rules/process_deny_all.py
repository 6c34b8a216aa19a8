"""process-deny-all: a process rule for every process (name ``*`` with path ``*``) is refused.

The controller calls it deny-all; it refuses the pair whatever the action.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      process: [{name: ssh, action: deny, path: "*"}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      process: [{name: "*", action: deny, path: "*"}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import process_rules_by_object

ID = "process-deny-all"
LEVEL = "error"
DESCRIPTION = "A process rule may not name every process (name * with path *); use Protect mode instead."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in process_rules_by_object(objects, context):
        for path, rule in rules:
            if rule.get("name") == "*" and rule.get("path") == "*":
                yield Hit(obj, path, "a process rule for every process (name '*', path '*') is refused by NeuVector",
                          "Protect mode already blocks every process that is not allowed")
