"""address-dlp-waf: a group with an ``address`` criterion cannot have a DLP or WAF policy.

The controller refuses "Group … with address criterion cannot have WAF policy" (NeuVector
issue #102). An empty, disabled section (``{status: false, settings: []}``) is no policy.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: ext-db}
    spec:
      target: {selector: {name: ext-db, criteria: [{key: address, op: "=", value: db.example.com}]}}
      waf: {status: false, settings: []}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: ext-db}
    spec:
      target: {selector: {name: ext-db, criteria: [{key: address, op: "=", value: db.example.com}]}}
      dlp: {status: true, settings: [{name: sensor.creditcard, action: deny}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import spec, targets

ID = "address-dlp-waf"
LEVEL = "error"
DESCRIPTION = "A target group with an address criterion has no DLP or WAF policy."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        obj = selector.obj
        if not any(key == "address" for _, key, _, _ in selector.fields()):
            continue
        for section in ("dlp", "waf"):
            value = spec(obj).get(section)
            if isinstance(value, dict) and (value.get("status") is True or value.get("settings")):
                yield Hit(obj, ("spec", section),
                          f"address group {selector.name!r} cannot have a {section.upper()} policy",
                          f"remove spec.{section} (or set it to status: false with no settings)")
