"""shadowed-rule: an allow rule behind an earlier deny for the same peer and ports, or a duplicate rule.

Rules of one direction (ingress or egress) of one CR are compared in order. The earlier deny
covers the allow when it names the same peer group, its ports include the allow's (``any``,
``tcp/any`` for TCP ports; a bare ``80`` is ``tcp/80``) and its applications are the same or any.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      egress:
        - {name: deny-ssh, action: deny, ports: tcp/22, selector: {name: nv.db.shop}}
        - {name: allow-db, action: allow, ports: tcp/5432, selector: {name: nv.db.shop}}

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      egress:
        - {name: deny-db, action: deny, ports: any, selector: {name: nv.db.shop}}
        - {name: allow-db, action: allow, ports: tcp/5432, selector: {name: nv.db.shop}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from nvpolicy.model import RenderedObject
from nvpolicy.nv.ports import Ports, parse_or_any
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import items

ID = "shadowed-rule"
LEVEL = "warning"
DESCRIPTION = "An allow rule shadowed by an earlier deny for the same peer and ports, or a duplicate rule."


def _ports(rule: dict[str, Any]) -> Ports:
    """The ports a rule covers, as NeuVector reads them (nvpolicy.nv.ports, as diff and propose read them)."""
    return parse_or_any(rule.get("ports"))


def _apps(rule: dict[str, Any]) -> frozenset[str]:
    apps = rule.get("applications")
    names = frozenset(str(a).upper() for a in apps) if isinstance(apps, list) else frozenset()
    return names if names and "ANY" not in names else frozenset({"ANY"})


def _peer(rule: dict[str, Any]) -> str:
    selector = rule.get("selector")
    return str(selector.get("name")) if isinstance(selector, dict) else ""


def _covers(earlier: frozenset[str], later: frozenset[str], everything: str) -> bool:
    return earlier == {everything} or earlier == later


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in objects:
        for section in ("ingress", "egress"):
            seen: list[dict[str, Any]] = []
            for path, rule in items(obj, section):
                for earlier in seen:
                    if _peer(earlier) != _peer(rule):
                        continue
                    same = (_ports(earlier) == _ports(rule) and _apps(earlier) == _apps(rule)
                            and earlier.get("action") == rule.get("action"))
                    if same:
                        yield Hit(obj, path, f"rule {rule.get('name')!r} duplicates rule {earlier.get('name')!r}")
                        break
                    if (earlier.get("action") == "deny" and rule.get("action") == "allow"
                            and _ports(earlier).covers(_ports(rule))
                            and _covers(_apps(earlier), _apps(rule), "ANY")):
                        yield Hit(obj, path, f"allow rule {rule.get('name')!r} is shadowed by the earlier deny "
                                  f"{earlier.get('name')!r} for the same peer and ports",
                                  "move the allow before the deny, or narrow the deny")
                        break
                seen.append(rule)
