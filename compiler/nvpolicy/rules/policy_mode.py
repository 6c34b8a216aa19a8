"""policy-mode: only groups that have a policy mode (``nodes``, learned ``nv.*`` except ``nv.ip.*``) take one.

Any other target with a policymode other than ``N/A`` is rejected ("does not support policy mode").

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: world}
    spec:
      target:
        policymode: N/A
        selector: {name: world, criteria: [{key: address, op: "=", value: 0.0.0.0/16}]}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: world}
    spec:
      target:
        policymode: Monitor
        selector: {name: world, criteria: [{key: address, op: "=", value: 0.0.0.0/16}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import has_policy_mode, spec, targets

ID = "policy-mode"
LEVEL = "error"
DESCRIPTION = "A policymode other than N/A is only allowed on nodes and learned nv.* groups (not nv.ip.*)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        obj = selector.obj
        mode = (spec(obj).get("target") or {}).get("policymode")
        if mode in (None, "", "N/A") or has_policy_mode(selector.name):
            continue
        yield Hit(obj, ("spec", "target", "policymode"),
                  f"group {selector.name!r} has no policy mode, so policymode {mode!r} is refused",
                  "set policymode: N/A (or leave it out) for custom, address and reserved groups")
