"""address-dlp-waf: a target with an ``address`` criterion carries no ``dlp`` or ``waf`` key at all (S31).

The controller tests whether the key is present, whatever it holds: even the export stub
``{status: false, settings: []}`` is refused (NeuVector issue #102). Peers are not checked.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: ext-db}
    spec:
      target: {selector: {name: ext-db, criteria: [{key: address, op: "=", value: db.example.com}]}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: ext-db}
    spec:
      target: {selector: {name: ext-db, criteria: [{key: address, op: "=", value: db.example.com}]}}
      waf: {status: false, settings: []}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.criteria import ADDRESS
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import spec, targets

ID = "address-dlp-waf"
LEVEL = "error"
DESCRIPTION = "A target group with an address criterion has no dlp or waf key, even an empty one (S31)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        obj = selector.obj
        if not any(key == ADDRESS for _, key, _, _ in selector.fields()):
            continue
        for section in ("dlp", "waf"):
            if spec(obj).get(section) is not None:
                yield Hit(obj, ("spec", section),
                          f"address group {selector.name!r} cannot have a {section} key, even an empty one"
                          + says("S31", f"Group {selector.name}(under target section) with address criterion "
                                        "cannot have DLP/WAF policy"),
                          f"remove spec.{section}")
