"""duplicate-object: two objects with the same kind, namespace and name.

Kubernetes keeps one of them; which one depends on apply order.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    ---
    kind: NvSecurityRule
    metadata: {name: nv.payments.shop, namespace: shop}

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    ---
    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import ObjectId, RenderedObject
from nvpolicy.rules import Hit, RuleContext

ID = "duplicate-object"
LEVEL = "error"
DESCRIPTION = "Each kind/namespace/name may appear once; Kubernetes would keep only one of them."
CROSS_OBJECT = True


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    first: dict[ObjectId, RenderedObject] = {}
    for obj in objects:
        earlier = first.setdefault(obj.id, obj)
        if earlier is not obj:
            yield Hit(obj, ("metadata", "name"), f"{obj.id} is defined twice (first at {earlier.locate()})",
                      "rename one of them or merge their rules")
