"""response-webhook: the webhooks a response rule names must exist in the cluster's settings.

With action ``webhook`` and a ``webhooks`` list, NeuVector looks each name up in the system
configuration (the federal one for federal rules) and deletes the CR when one is missing
("Webhook <name> is not defined"). That is cluster state, so this is a note per name.

PASS::

    kind: NvResponseRuleSecurityRule
    metadata: {name: log-critical}
    spec: {rule: {policy_name: default, event: event, conditions: [{type: level, value: critical}],
                  actions: [suppress-log]}}

FAIL::

    kind: NvResponseRuleSecurityRule
    metadata: {name: page-critical}
    spec: {rule: {policy_name: default, event: event, conditions: [{type: level, value: critical}],
                  actions: [webhook], webhooks: [pagerduty]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.response import webhooks
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._responses import response_rules

ID = "response-webhook"
LEVEL = "info"
DESCRIPTION = "Webhooks named by response rules must be defined in the cluster's settings."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, path, rule, _ in response_rules(objects, context):
        for index, hook in webhooks(rule):
            yield Hit(obj, (*path, "webhooks", index),
                      f"response rule sends to webhook {hook!r}: it must be defined in NeuVector's settings "
                      f"(Settings > Configuration > Webhooks), else NeuVector deletes the CR "
                      f"(\"Webhook {hook} is not defined\")", "check the webhook's name on the target cluster")
