"""custom-criteria: a custom group has criteria (S9, G4) and none of them twice (S19, G11).

On the CRD path a ``name_referral: true`` selector is exempt from S9: its criteria come from the
NvGroupDefinition (S55). On REST import (``--for rest``) the referral is resolved first, so an
NvGroupDefinition in the files without criteria makes the referral fail too. The same key, op and
value may not appear twice in one group ("duplicate/conflict criteria").

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      ingress: [{name: r1, action: allow, selector: {name: lb, name_referral: true}}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      ingress: [{name: r1, action: allow, selector: {name: lb}}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import group_label, selectors

ID = "custom-criteria"
LEVEL = "error"
DESCRIPTION = ("A custom group has criteria, unless it is a name_referral on the CRD path (S9, G4), and no "
               "criterion twice (S19, G11).")
CROSS_OBJECT = True  # on REST import a referral is resolved through the NvGroupDefinitions of the run


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    every = selectors(objects, context)
    rest = context.settings.apply_path == "rest"
    definitions = {s.name: s for s in every if s.role == "definition"}
    for selector in every:
        if not selector.custom:
            continue
        fields = selector.fields()
        if selector.referral and selector.role != "definition":
            resolved = definitions.get(selector.name)
            if rest and resolved is not None and not resolved.fields():
                yield Hit(selector.obj, (*selector.path, "name_referral"),
                          f"group {selector.name!r} refers to an NvGroupDefinition without criteria"
                          + says("S9", f"Group {group_label(selector)} must have criteria"))
            continue
        if not fields:
            check_id = "G4" if selector.role == "definition" else "S9"
            yield Hit(selector.obj, (*selector.path, "criteria") if "criteria" in selector.data else selector.path,
                      f"custom group {selector.name!r} has no criteria"
                      + says(check_id, f"Group {group_label(selector)} must have criteria"),
                      "give the group criteria, or refer to an NvGroupDefinition with name_referral: true")
            continue
        seen: set[tuple[object, object, object]] = set()
        for index, key, op, value in fields:
            triple = (key, op, value)
            if triple in seen:
                yield Hit(selector.obj, selector.criterion_path(index),
                          f"criterion {key}{op}{value} appears twice in group {selector.name!r}"
                          + says("G11" if selector.role == "definition" else "S19",
                                 f"Group {group_label(selector)} has duplicate/conflict criteria"),
                          "remove the repeated criterion")
                break
            seen.add(triple)
