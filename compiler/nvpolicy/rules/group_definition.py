"""group-definition: an NvGroupDefinition lives in the controller's namespace, defines no reserved group,
and is named like its selector (G1, G2, G3).

The controller's namespace is where its pod runs: ``neuvector`` by default, ``cattle-neuvector-system``
on Rancher (``--controller-namespace``, or the environment's ``neuvector.controller_namespace``).
Reserved names (``external``, ``nodes``, ``containers``, ``fed.*``, ``Host:*``, ``Workload:*``) are
refused by the webhook; REST import parses and then skips them (a warning). A group of that name that
already exists in the cluster with other criteria refuses the definition (G12): within the files,
group-consistency reports it; the cluster's groups are not known offline. The learned and custom
checks of the selector are the other rules' (G4-G13).

PASS::

    kind: NvGroupDefinition
    metadata: {name: web-tier, namespace: neuvector}
    spec:
      selector: {name: web-tier, criteria: [{key: app, op: "=", value: web}]}

FAIL::

    kind: NvGroupDefinition
    metadata: {name: web-tier, namespace: shop}
    spec:
      selector: {name: web, criteria: [{key: app, op: "=", value: web}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import is_reserved_definition
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import spec

ID = "group-definition"
LEVEL = "error"
DESCRIPTION = ("An NvGroupDefinition is in the controller's namespace (G1), defines no reserved group (G2), and "
               "metadata.name equals spec.selector.name (G3).")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    namespace = context.settings.controller_namespace
    rest = context.settings.apply_path == "rest"
    for obj in objects:
        if obj.data.get("kind") != "NvGroupDefinition":
            continue
        if obj.id.namespace != namespace and not rest:
            yield Hit(obj, ("metadata", "namespace"),
                      f"NvGroupDefinition must be in the controller's namespace {namespace!r}, not "
                      f"{obj.id.namespace!r}" + says(
                          "G1", f"nvgroupdefinitions custom resource is only supported in {namespace} namespace"),
                      "set --controller-namespace (or neuvector.controller_namespace) if the controller runs "
                      "elsewhere, e.g. cattle-neuvector-system on Rancher")
        selector = spec(obj).get("selector")
        name = selector.get("name") if isinstance(selector, dict) else None
        if isinstance(name, str) and is_reserved_definition(name):
            if rest:
                yield Hit(obj, ("spec", "selector", "name"), f"REST import skips the definition of the reserved "
                          f"group {name!r}" + says("G2"), "remove it", level="warning")
            else:
                yield Hit(obj, ("spec", "selector", "name"), f"group {name!r} is reserved and cannot be defined"
                          + says("G2", f"group {name} cannot be defined by cr"), "remove it")
        if name != obj.id.name:
            yield Hit(obj, ("spec", "selector", "name"),
                      f"selector name {name!r} differs from metadata.name {obj.id.name!r}"
                      + says("G3", f"mismatched name in selector and metadata {obj.id.name}"),
                      "use the group name as metadata.name (group names that are not DNS-1123 cannot be defined)")
