"""process-deny-all: a process rule that denies every process (name ``*``, path ``*``) is refused.

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

from compiler.model import RenderedObject
from compiler.rules import Hit, RuleContext
from compiler.rules._walk import RULE_KINDS, items

ID = "process-deny-all"
LEVEL = "error"
DESCRIPTION = "A process rule may not deny everything (name * with path *); use Protect mode instead."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in objects:
        if obj.data.get("kind") not in RULE_KINDS:
            continue
        for path, rule in items(obj, "process"):
            if rule.get("name") == "*" and rule.get("path") == "*" and rule.get("action") == "deny":
                yield Hit(obj, path, "a deny-all process rule (name '*', path '*') is refused by NeuVector",
                          "Protect mode already blocks every process that is not allowed")
