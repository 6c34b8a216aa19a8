"""group-name: group names NeuVector accepts (S1) and the reserved prefixes it refuses (S2).

Learned (``nv.*``, also ``nv.ip.*``) and custom names match ``^[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*$``;
custom names may not start with ``Host:`` or ``Workload:`` ("Cannot use reserved name"). The
prefixes are case-sensitive (``host:db`` is an ordinary name) and exactly ``Workload:ingress`` is a
peer NeuVector exports and imports: it is skipped as a group and kept as the rule's peer.
``fed.*`` names are the federation rule's (S4).

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      ingress:
        - {name: r1, action: allow, selector: {name: Workload:ingress}}
        - {name: r2, action: allow, selector: {name: host:db, criteria: [{key: app, op: "=", value: db}]}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      ingress:
        - {name: r1, action: allow, selector: {name: "Host:db", criteria: [{key: app, op: "=", value: db}]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import NAME_PATTERN, GroupClass, classify, is_reserved_prefix
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import selectors

ID = "group-name"
LEVEL = "error"
DESCRIPTION = ("Group names match ^[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*$ (S1); custom names do not start with Host: or "
               "Workload: (S2, case-sensitive; Workload:ingress is a valid peer).")

# Names that parseCrdGroup checks with isObjectNameValid: learned and custom groups.
_NAME_CHECKED = frozenset({GroupClass.SERVICE_IP, GroupClass.LEARNED, GroupClass.CUSTOM})


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        name = selector.data.get("name")
        if selector.role == "definition":  # G13: the pattern; reserved names are G2 (group-definition)
            found = None if isinstance(name, str) and NAME_PATTERN.match(name) else _invalid(name, "G13")
        else:
            found = problem(name) if isinstance(name, str) else _invalid(name)
        if found is not None:
            yield Hit(selector.obj, (*selector.path, "name"), *found)


@lru_cache(maxsize=4096)  # the same group is named by every rule that targets or peers with it
def problem(name: str) -> tuple[str, str] | None:
    """The message and hint for a group name NeuVector refuses, or None."""
    group_class = classify(name)
    if group_class in _NAME_CHECKED and not NAME_PATTERN.match(name):
        return _invalid(name)
    if group_class is GroupClass.CUSTOM and is_reserved_prefix(name):
        return (f"group name {name!r} uses a reserved prefix (Host: or Workload:)"
                + says("S2", "Cannot use reserved name"),
                "Host:* and Workload:* groups belong to the controller (only Workload:ingress may be a peer); "
                "pick another name")
    return None


def _invalid(name: object, check_id: str = "S1") -> tuple[str, str]:
    return (f"group name {name!r} is not a valid NeuVector group name" + says(check_id, "Invalid characters in name"),
            "group names are letters and digits, then letters, digits, '.', ':', '_' or '-'")
