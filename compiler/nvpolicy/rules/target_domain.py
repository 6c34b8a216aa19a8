"""target-domain: an NvSecurityRule's target carries ``domain = <metadata.namespace>`` (S56).

It applies to every target, learned, custom or reserved. For a ``name_referral`` target it runs on
the criteria of the NvGroupDefinition of that name (S55); when no definition is among the files, the
one in the cluster decides, and a note says so.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target:
        selector:
          name: nv.orders.shop
          criteria: [{key: service, op: "=", value: orders.shop}, {key: domain, op: "=", value: shop}]

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target:
        selector: {name: nv.orders.shop, criteria: [{key: service, op: "=", value: orders.shop}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import selectors

ID = "target-domain"
LEVEL = "error"
DESCRIPTION = "An NvSecurityRule's target group has the criterion domain=<metadata.namespace> (S56)."
CROSS_OBJECT = True  # a referral target is resolved through the NvGroupDefinitions of the run


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    every = selectors(objects, context)
    definitions = {s.name: s for s in every if s.role == "definition"}
    for selector in every:
        obj = selector.obj
        if selector.role != "target" or obj.data.get("kind") != "NvSecurityRule":
            continue
        namespace = obj.id.namespace
        source = selector
        if selector.referral:
            found = definitions.get(selector.name)
            if found is None:
                yield Hit(obj, (*selector.path, "name_referral"),
                          f"the target's criteria come from the NvGroupDefinition {selector.name!r} in the cluster: "
                          f"it must include domain={namespace}" + says("S56"), level="info")
                continue
            source = found
        domains = [value for _, key, op, value in source.fields() if key == "domain" and op == "="]
        if namespace not in domains:
            via = f" (from its NvGroupDefinition at {source.obj.locate(source.path)})" if source is not selector else ""
            yield Hit(obj, (*selector.path, "criteria"),
                      f"the target group {selector.name!r}{via} has no criterion domain={namespace}"
                      + says("S56", f"SecurityRule in nameSpace {namespace} need target group {selector.name} "
                                    "belong to it"),
                      "target a group of this namespace, e.g. {{ service('<name>') }}")
