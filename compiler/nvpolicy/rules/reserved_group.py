"""reserved-group: the reserved groups' criteria as the controller treats them (S6, S7).

``nodes``, ``external`` and ``fed.nodes`` take no criteria (S6). ``containers`` has its criteria
replaced by ``container = *`` before any check, so any criteria are accepted and ignored (a
warning says so); ``fed.containers`` is not rewritten and needs exactly ``container = *`` (S7).

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: containers}
    spec:
      target:
        selector: {name: containers, criteria: [{key: container, op: "=", value: "*"}]}
      ingress:
        - {name: r1, action: deny, selector: {name: external}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: nodes}
    spec:
      target:
        selector: {name: nodes, criteria: [{key: app, op: "=", value: web}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import CONTAINER_CRITERION, GroupClass
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import group_label, selectors

ID = "reserved-group"
LEVEL = "error"
DESCRIPTION = ("nodes, external and fed.nodes have no criteria (S6); fed.containers is exactly container=*; "
               "criteria on containers are ignored (S7).")

CONTAINERS = frozenset({CONTAINER_CRITERION})


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        group_class = selector.group_class
        if group_class not in (GroupClass.NO_CRITERIA, GroupClass.CONTAINERS, GroupClass.FED_CONTAINERS):
            continue
        if selector.role == "definition":
            continue  # G2: a reserved name cannot be defined; the group-definition rule says so
        criteria = selector.criteria_set()
        path = (*selector.path, "criteria")
        if group_class is GroupClass.NO_CRITERIA and criteria:
            yield Hit(selector.obj, path, f"the reserved group {selector.name!r} takes no criteria"
                      + says("S6", f"Group {group_label(selector)} validate error"),
                      "use a custom group name for a group of your own")
        elif group_class is GroupClass.FED_CONTAINERS and criteria != CONTAINERS:
            yield Hit(selector.obj, path, f"the reserved group {selector.name!r} must have exactly container=*"
                      + says("S7", f"Group {group_label(selector)} validate error"),
                      "write criteria: [{key: container, op: '=', value: '*'}]")
        elif group_class is GroupClass.CONTAINERS and criteria and criteria != CONTAINERS:
            yield Hit(selector.obj, path, "NeuVector replaces the criteria of 'containers' with container=*: "
                      "these are ignored and the group still means every container" + says("S7"),
                      "use a custom group name to select some containers", level="warning")

