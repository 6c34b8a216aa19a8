"""federation: federal rules (``fed.*`` target, or ``external`` with ``metadata.name: fed.external``) (S4, S5).

A federal rule is accepted only on the federation primary (set ``--federation-primary`` or the
environment's ``neuvector.federation_primary``); there its metadata.name equals the target name
(``external`` excepted), every peer is ``fed.*`` (or ``external``) and none is learned. A local
rule has no ``fed.*`` peer. S5's ``scope`` checks are not run because they cannot fire: at NeuVector
1b8b707 every caller (the CRD webhook, the parser, the REST import) passes an empty scope
(rest/crdsecurityrule.go:3953).

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      egress: [{name: r1, action: allow, selector: {name: external}}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: fed.web}
    spec:
      target: {selector: {name: fed.web, criteria: [{key: app, op: "=", value: web}]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import EXTERNAL, FED_EXTERNAL, LEARNED_PREFIX, is_federal
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import network_rules_by_object, targets

ID = "federation"
LEVEL = "error"
DESCRIPTION = ("fed.* rules are accepted only on a federation primary, named after their target, with fed.* peers "
               "only and no learned ones; local rules have no fed.* peers (S4, S5).")
PRIMARY_HINT = "apply federal rules on the federation primary (--federation-primary), or use a local group name"


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    primary = context.settings.federation_primary
    peers = {id(obj): rules for obj, rules in network_rules_by_object(objects, context)}
    for selector in targets(objects, context):
        obj = selector.obj
        name, target = obj.id.name, selector.name
        federal = is_federal(target) or (target == EXTERNAL and name == FED_EXTERNAL)
        if federal and not primary:
            yield Hit(obj, (*selector.path, "name"), f"{obj.id} is a federal rule: NeuVector accepts it only on the "
                      "federation primary" + says("S5" if target == EXTERNAL else "S4",
                                                   f"security rule {name} can only be imported on primary cluster"),
                      PRIMARY_HINT)
            continue
        if federal and name != target and target != EXTERNAL:
            yield Hit(obj, ("metadata", "name"), f"a federal rule is named after its target {target!r}" + says(
                "S4", f"security rule {name} name is different from target group name {target}"))
            continue
        for path, rule in peers.get(id(obj), ()):
            peer = rule.get("selector")
            group = peer.get("name") if isinstance(peer, dict) else None
            if not isinstance(group, str) or group == EXTERNAL:
                continue
            if federal and group.startswith(LEARNED_PREFIX):
                text = f"Group {group} validate error. Details: learned groups are not supported for federal policy"
            elif federal != is_federal(group):
                text = f"Group {group} validate error. Details: incompatible with target group {target} for a " \
                       "security rule"
            else:
                continue
            yield Hit(obj, (*path, "selector", "name"), f"peer {group!r} does not fit the "
                      f"{'federal' if federal else 'local'} rule of {target!r}" + says("S4", text),
                      "federal rules use fed.* groups only; local rules use no fed.* group")
            break  # a group error stops the controller's parse
