"""process-deny-all: a deny rule for every process (name ``*``, path ``*`` or ``/*``) is refused (S43).

Values are trimmed first (S44). ``{name: "*", path: "*", action: allow}`` is accepted: NeuVector's
own converter writes it before narrower deny rules.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      process:
        - {name: "*", action: allow, path: "*"}
        - {name: bash, action: deny, path: /usr/bin/bash}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      process: [{name: "*", action: deny, path: " /*"}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.processes import is_deny_all
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import process_rules_by_object, text

ID = "process-deny-all"
LEVEL = "error"
DESCRIPTION = "A process deny rule may not name every process (name * with path * or /*) (S43)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in process_rules_by_object(objects, context):
        for path, rule in rules:
            name, where, action = text(rule, "name"), text(rule, "path"), text(rule, "action")
            if is_deny_all(name, where, action):
                yield Hit(obj, path, "a process deny rule for every process is refused by NeuVector" + says(
                    "S43", f"invalid process entry: deny all: Name:{name.strip()}, Path:{where.strip()}, "
                           f"Action:{action.strip()}"),
                    "Protect mode already blocks every process that is not allowed")
