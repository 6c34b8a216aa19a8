"""name-referral: a selector with ``name_referral: true`` takes its criteria from an NvGroupDefinition (S55).

Checked across all files given to one run. A definition that is not among them must exist in the
cluster (in the controller's namespace) when the rule is parsed, or NeuVector refuses the rule with
"NvGroupDefinition of referred group … is not found": that depends on the cluster, so it is a note.
Reserved names ignore ``name_referral``.

PASS::

    kind: NvGroupDefinition
    metadata: {name: web-tier, namespace: neuvector}
    spec: {selector: {name: web-tier, criteria: [{key: app, op: "=", value: web}]}}
    ---
    kind: NvClusterSecurityRule
    metadata: {name: web-tier}
    spec:
      target: {selector: {name: web-tier, name_referral: true}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web-tier}
    spec:
      target: {selector: {name: web-tier, name_referral: true}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import GroupClass
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import selectors

ID = "name-referral"
LEVEL = "info"
DESCRIPTION = "A selector with name_referral: true refers to an NvGroupDefinition of the same name."
CROSS_OBJECT = True


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    all_selectors = list(selectors(objects, context))
    defined = {s.name for s in all_selectors if s.role == "definition"}
    namespace = context.settings.controller_namespace
    for selector in all_selectors:
        if selector.role == "definition" or not selector.referral or selector.name in defined:
            continue
        if selector.group_class not in (GroupClass.CUSTOM, GroupClass.LEARNED, GroupClass.SERVICE_IP):
            continue
        yield Hit(selector.obj, (*selector.path, "name_referral"),
                  f"group {selector.name!r} is referred to by name and no NvGroupDefinition here defines it: it must "
                  f"exist in namespace {namespace!r} when this rule is applied"
                  + says("S55", f"NvGroupDefinition of referred group {selector.name} is not found"),
                  f"add an NvGroupDefinition (namespace {namespace}) with this name, or give criteria instead")
