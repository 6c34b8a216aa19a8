"""target-namespace: every namespaced rule, and every namespaced target, lives in the environment's namespace.

An NvSecurityRule must be in the environment's namespace (the import check ``target-domain``
then ties its target to it). An NvClusterSecurityRule whose target is a namespaced group
(a ``domain``/``namespace`` criterion with ``=``) must name the environment's namespace too.
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

from nvpolicy.model import NAMESPACED_KINDS, RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import target

_NAMESPACE_KEYS = frozenset({"domain", "namespace"})

ID = "target-namespace"
LEVEL = "error"
DESCRIPTION = "Namespaced rules and the namespaced targets of cluster rules are in the environment's namespace."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    namespace = getattr(context.environment, "namespace", None)
    if not namespace:
        return
    for obj in objects:
        if obj.id.kind in NAMESPACED_KINDS - {"NvGroupDefinition"} and obj.id.namespace != namespace:
            yield Hit(obj, ("metadata", "namespace"),
                      f"{obj.id} is in namespace {obj.id.namespace!r}, not the environment's {namespace!r}",
                      "use {{ namespace }}, or render it with the environment that owns that namespace")
        selector = target(obj) if obj.id.kind == "NvClusterSecurityRule" else None
        if selector is None:
            continue
        for path, criterion in selector.criteria():
            value = criterion.get("value")
            if criterion.get("key") in _NAMESPACE_KEYS and criterion.get("op") == "=" and value != namespace:
                yield Hit(obj, (*path, "value"),
                          f"the target group {selector.name!r} is in namespace {value!r}, "
                          f"not the environment's {namespace!r}",
                          "target a group of this namespace, or render the rule with the environment that owns it")
