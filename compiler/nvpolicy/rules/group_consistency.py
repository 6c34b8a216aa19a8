"""group-consistency: one group name, one set of criteria (S20 within a CR, S21 across CRs).

Within one CR (target and peers) a name used again must have the same criteria, in any order:
the controller refuses it ("added with different criteria", S20). Across CRs NeuVector does not
refuse: the CR applied later gets a copy named ``<name>-<murmur3 hash of its criteria>``, and its
rules apply to that copy (S21): a warning names the copy and what it matches. ``nv.ip.*`` groups
are never compared; selectors without criteria (references) and referrals are not either.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: a}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      egress: [{name: r1, action: allow, selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: a}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      egress: [{name: r1, action: allow, selector: {name: web, criteria: [{key: app, op: "=", value: api}]}}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import GroupClass, hashed_name
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import Selector, group_label, selectors

ID = "group-consistency"
LEVEL = "error"
DESCRIPTION = ("A group name has the same criteria everywhere in one CR (S20); in another CR other criteria make "
               "NeuVector create a hashed copy (S21, warning).")
CROSS_OBJECT = True
_COMPARED = frozenset({GroupClass.CUSTOM, GroupClass.LEARNED})


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    first: dict[str, Selector] = {}
    in_object: dict[tuple[int, str], Selector] = {}
    rest = context.settings.apply_path == "rest"
    for selector in selectors(objects, context):
        if selector.referral or not selector.name or selector.group_class not in _COMPARED:
            continue
        criteria = selector.criteria_set()
        if not criteria:
            continue
        same_cr = in_object.setdefault((id(selector.obj), selector.name), selector)
        if same_cr is not selector:
            if same_cr.criteria_set() != criteria:
                yield Hit(selector.obj, (*selector.path, "criteria"),
                          f"group {selector.name!r} has other criteria than at {same_cr.obj.locate(same_cr.path)} "
                          "in this CR" + says("S20", f"Group {group_label(selector)} added with different criteria"),
                          "give the groups distinct names, or the same criteria")
            continue
        earlier = first.setdefault(selector.name, selector)
        if earlier is selector or earlier.criteria_set() == criteria:
            continue
        where = earlier.obj.locate(earlier.path)
        fields = [(str(k), str(o), str(v)) for _, k, o, v in selector.fields()]
        copy = hashed_name(selector.name, fields, rest)
        shown = ", ".join(f"{k}{o}{v}" for k, o, v in sorted(criteria))
        if selector.role == "definition" or earlier.role == "definition":
            yield Hit(selector.obj, (*selector.path, "criteria"),
                      f"group {selector.name!r} has other criteria than at {where}; an NvGroupDefinition cannot be "
                      "renamed, so whichever is applied second is refused or renamed" + says("S21"),
                      "give the groups distinct names, or the same criteria", level="warning")
            continue
        yield Hit(selector.obj, (*selector.path, "criteria"),
                  f"group {selector.name!r} has other criteria than at {where}: if that CR is applied first, "
                  f"NeuVector creates the group {copy!r} matching {shown} and this CR's rules apply to it"
                  + says("S21"), "give the groups distinct names, or the same criteria", level="warning")
