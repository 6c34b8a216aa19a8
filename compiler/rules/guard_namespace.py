"""target-namespace: every namespaced rule lives in the environment's namespace.

NvGroupDefinition objects live in ``neuvector`` and are not concerned.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.dev, namespace: dev}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from compiler.model import NAMESPACED_KINDS, RenderedObject
from compiler.rules import Hit, RuleContext

ID = "target-namespace"
LEVEL = "error"
DESCRIPTION = "Namespaced rules (NvSecurityRule) are in the environment's namespace."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    namespace = getattr(context.environment, "namespace", None)
    if not namespace:
        return
    for obj in objects:
        if obj.id.kind in NAMESPACED_KINDS - {"NvGroupDefinition"} and obj.id.namespace != namespace:
            yield Hit(obj, ("metadata", "namespace"),
                      f"{obj.id} is in namespace {obj.id.namespace!r}, not the environment's {namespace!r}",
                      "use {{ namespace }}, or render it with the environment that owns that namespace")
