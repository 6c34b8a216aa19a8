"""policy-mode: a target's policymode as the controller checks it (S24, S25).

Targets that have a mode (``nodes``, learned ``nv.*`` except ``nv.ip.*``) take ``Discover``,
``Monitor`` or ``Protect``, or no key (New Services Mode): ``N/A`` and ``""`` are refused (S24).
Every other target takes no key, ``""`` or ``N/A`` (S25).

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: world}
    spec:
      target:
        policymode: N/A
        selector: {name: world, criteria: [{key: address, op: "=", value: 0.0.0.0/16}]}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: nodes}
    spec:
      target:
        policymode: N/A
        selector: {name: nodes}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import has_policy_mode
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import spec, targets

ID = "policy-mode"
LEVEL = "error"
DESCRIPTION = ("nodes and learned nv.* targets (not nv.ip.*) take Discover, Monitor or Protect, or no policymode "
               "(S24); other targets take none, '' or N/A (S25).")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        obj = selector.obj
        target = spec(obj).get("target")
        if not isinstance(target, dict) or "policymode" not in target:
            continue
        mode = target["policymode"]
        name = selector.name
        if has_policy_mode(name):
            if mode in ("", "N/A"):  # other values are outside the CRD's enum: the schema reports them
                yield Hit(obj, ("spec", "target", "policymode"),
                          f"group {name!r} has a policy mode, so policymode {mode!r} is refused"
                          + says("S24", f"Target group {name} invalide policy mode {mode}"),
                          "set Discover, Monitor or Protect, or leave policymode out for the New Services Mode")
        elif mode not in ("", "N/A"):
            yield Hit(obj, ("spec", "target", "policymode"),
                      f"group {name!r} has no policy mode, so policymode {mode!r} is refused"
                      + says("S25", f"Target group {name} does not support policy mode"),
                      "set policymode: N/A (or leave it out) for custom, address and reserved groups")
