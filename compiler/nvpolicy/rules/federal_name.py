"""federal-name: federal sensors, response rules and admission rules are accepted only on a federation primary.

A DLP/WAF sensor or response rule named ``fed.*``, and the admission rules named ``fed``, are
federal: every cluster but the federation primary deletes them ("security rule <name> can only be
imported on primary cluster"). ``--federation-primary`` (or ``neuvector: {federation_primary: true}``
in the environment file) allows them.

PASS::

    kind: NvDlpSecurityRule
    metadata: {name: sensor.secrets}
    spec: {sensor: {name: sensor.secrets}}

FAIL::

    kind: NvResponseRuleSecurityRule
    metadata: {name: fed.quarantine-crit}
    spec: {rule: {policy_name: default, event: security-event, conditions: [{type: level, value: critical}],
                  actions: [quarantine]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.admission import FED_NAME
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import FED_PREFIX, name, neuvector_says, on_federation_primary
from nvpolicy.rules._walk import of_kind

ID = "federal-name"
LEVEL = "error"
DESCRIPTION = "fed.* sensors and response rules, and admission rules named 'fed', need a federation primary."

_PREFIXED = ("NvDlpSecurityRule", "NvWafSecurityRule", "NvResponseRuleSecurityRule")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    if on_federation_primary(context):
        return
    for obj in of_kind(objects, context, *_PREFIXED, "NvAdmissionControlSecurityRule"):
        found = name(obj)
        federal = found == FED_NAME if obj.data.get("kind") == "NvAdmissionControlSecurityRule" \
            else found.startswith(FED_PREFIX)
        if federal:
            yield Hit(obj, ("metadata", "name"),
                      f"{found!r} is federal: only a federation primary accepts it, every other cluster deletes it "
                      f"({neuvector_says(f'security rule {found} can only be imported on primary cluster')})",
                      "apply it on the federation primary (--federation-primary, or neuvector: "
                      "{federation_primary: true} in its environment file), or drop the 'fed' name")
