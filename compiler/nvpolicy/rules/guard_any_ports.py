"""any-ports: allow rules name their ports; ``any``, ``tcp/any``, ``udp/any`` (or no ports) only where permitted.

NeuVector's Discover mode learns ``ports: any``; promoted as is, it opens every port. An
environment that accepts it disables the rule: ``lint: {rules: {any-ports: {level: off}}}``.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      egress: [{name: r1, action: allow, ports: tcp/5432, selector: {name: nv.db.shop}}]

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      egress: [{name: r1, action: allow, ports: "tcp/any", selector: {name: nv.db.shop}}]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import network_rules

ID = "any-ports"
LEVEL = "error"
DESCRIPTION = "Allow rules do not use ports any, tcp/any or udp/any unless the environment permits it."
ANY = frozenset({"any", "tcp/any", "udp/any"})


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in objects:
        for path, rule in network_rules(obj):
            if rule.get("action") != "allow":
                continue
            ports = rule.get("ports")
            entries = {e.lower() for e in re.split(r"[,\s]+", ports) if e} if isinstance(ports, str) else set()
            if not entries or entries & ANY:
                shown = ports if entries else "(no ports: any)"
                yield Hit(obj, (*path, "ports") if "ports" in rule else path,
                          f"allow rule {rule.get('name')!r} opens {shown}",
                          "name the ports, e.g. tcp/8080; or disable any-ports in this environment's lint: section")
