"""target-domain: an NvSecurityRule's target must carry ``domain = <metadata.namespace>``.

The controller rejects it otherwise ("SecurityRule in nameSpace … need target group … belong to it").

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
        selector:
          name: nv.orders.dev
          criteria: [{key: service, op: "=", value: orders.dev}, {key: domain, op: "=", value: dev}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext

ID = "target-domain"
LEVEL = "error"
DESCRIPTION = "An NvSecurityRule's target group must have the criterion domain=<metadata.namespace>."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in objects:
        if obj.data.get("kind") != "NvSecurityRule":
            continue
        namespace = obj.id.namespace
        selector = ((obj.data.get("spec") or {}).get("target") or {}).get("selector") or {}
        if selector.get("name_referral"):
            continue  # criteria come from the NvGroupDefinition; checked there
        criteria = selector.get("criteria") or []
        domains = [c.get("value") for c in criteria if isinstance(c, dict) and c.get("key") == "domain"
                   and c.get("op") == "="]
        if namespace not in domains:
            yield Hit(obj, ("spec", "target", "selector", "criteria"),
                      f"the target group {selector.get('name')!r} has no criterion domain={namespace}, "
                      f"so NeuVector rejects this rule for namespace {namespace!r}",
                      "target a group of this namespace, e.g. {{ service('<name>') }}")
