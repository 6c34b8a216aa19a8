"""group-definition: an NvGroupDefinition lives in namespace ``neuvector`` and is named like its selector.

The controller refuses "mismatched name in selector and metadata".

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
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import spec

ID = "group-definition"
LEVEL = "error"
DESCRIPTION = "An NvGroupDefinition is in namespace neuvector and metadata.name equals spec.selector.name."
NAMESPACE = "neuvector"


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in objects:
        if obj.data.get("kind") != "NvGroupDefinition":
            continue
        if obj.id.namespace != NAMESPACE:
            yield Hit(obj, ("metadata", "namespace"),
                      f"NvGroupDefinition must be in namespace {NAMESPACE!r}, not {obj.id.namespace!r}")
        selector = spec(obj).get("selector")
        name = selector.get("name") if isinstance(selector, dict) else None
        if name != obj.id.name:
            yield Hit(obj, ("spec", "selector", "name"),
                      f"selector name {name!r} differs from metadata.name {obj.id.name!r}; NeuVector refuses it",
                      "use the group name as metadata.name (group names that are not DNS-1123 cannot be defined)")
