"""mode-contention: a network rule links groups that run in different policy modes here.

When the two ends of a connection are in different modes, NeuVector's mode-contention
resolution decides whether the connection is enforced, which surprises people. Only groups
whose mode this environment's output sets are compared.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {policymode: Protect, selector: {name: nv.orders.shop}}
      egress: [{name: to-db, action: allow, ports: tcp/5432, selector: {name: nv.db.shop}}]
    ---
    kind: NvSecurityRule
    metadata: {name: nv.db.shop, namespace: shop}
    spec:
      target: {policymode: Protect, selector: {name: nv.db.shop}}

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {policymode: Protect, selector: {name: nv.orders.shop}}
      egress: [{name: to-db, action: allow, ports: tcp/5432, selector: {name: nv.db.shop}}]
    ---
    kind: NvSecurityRule
    metadata: {name: nv.db.shop, namespace: shop}
    spec:
      target: {policymode: Monitor, selector: {name: nv.db.shop}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import network_rules, target, target_mode

ID = "mode-contention"
LEVEL = "warning"
DESCRIPTION = "A network rule links two groups that run in different policy modes in this environment."
CROSS_OBJECT = True


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    modes: dict[str, str] = {}
    for obj in objects:
        selector, mode = target(obj), target_mode(obj)
        if selector is not None and mode is not None:
            modes.setdefault(selector.name, mode)
    for obj in objects:
        selector, mode = target(obj), target_mode(obj)
        if selector is None or mode is None:
            continue
        for path, rule in network_rules(obj):
            peer = rule.get("selector")
            peer_name = peer.get("name") if isinstance(peer, dict) else None
            peer_mode = modes.get(peer_name) if isinstance(peer_name, str) else None
            if peer_mode is not None and peer_mode != mode:
                yield Hit(obj, (*path, "selector", "name"),
                          f"rule {rule.get('name')!r} links {selector.name!r} ({mode}) "
                          f"with {peer_name!r} ({peer_mode})",
                          "run both groups in the same mode, or check NeuVector's mode-contention setting")
