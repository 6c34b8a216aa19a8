"""ports: a rule's ports as NeuVector's normalizePorts reads them (S36).

Trimmed; empty or ``any`` (any case) is any port. Else fields split on ``,`` and space, empty
fields skipped: ``tcp/``/``TCP/``/``udp/``/``UDP/`` followed by ``any`` (any case), ``N`` or
``N-M``; bare ``icmp``; bare ``any``; bare ``N``/``N-M`` (TCP). Numbers are Go integers (``+80``,
``080`` pass) from 0 to 65535, low <= high.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      ingress:
        - {name: r1, action: allow, ports: "80,,tcp/8000-8080 udp/53, TCP/ANY,", selector: {name: nv.lb.shop}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      ingress:
        - {name: r1, action: allow, ports: tcp/8080-8000, selector: {name: nv.lb.shop}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.ports import problem
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import network_rules_by_object

ID = "ports"
LEVEL = "error"
DESCRIPTION = "Ports are any, icmp, tcp/any, udp/any, N, N-M, tcp/N[-M] or udp/N[-M], with 0 <= low <= high <= 65535."
HINT = "ports are like 'any', 'tcp/5432', 'udp/53', '8000-8080' or 'tcp/80, tcp/443'"

__all__ = ["problem"]


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in network_rules_by_object(objects, context):
        for path, rule in rules:
            ports = rule.get("ports")
            if ports is None:
                continue
            found = problem(ports) if isinstance(ports, str) else "ports must be a string (quote it in YAML)"
            if found:
                where = f"{rule.get('name')}(under {path[1]} section)"
                yield Hit(obj, (*path, "ports"), f"ports {ports!r} are invalid: {found}"
                          + says("S36", f"Invalid ports format for rule {where}"), HINT)
