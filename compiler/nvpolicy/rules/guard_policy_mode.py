"""allowed-policy-mode: target groups use a policy mode this environment allows.

Default: a ``production: true`` environment allows Protect only; any other environment Monitor
and Protect. Discover (NeuVector learns and allows everything it sees) only where the
environment says so: ``lint: {rules: {allowed-policy-mode: {options: {allowed: [Discover, Monitor, Protect]}}}}``.
``process_profile.mode`` is checked the same way.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {policymode: Protect, selector: {name: nv.orders.shop}}

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {policymode: Discover, selector: {name: nv.orders.shop}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import spec, target_mode

ID = "allowed-policy-mode"
LEVEL = "error"
DESCRIPTION = "Policy modes are those the environment allows (production: Protect; elsewhere Monitor/Protect)."


def allowed_modes(context: RuleContext) -> list[str]:
    configured = context.options.get("allowed")
    if isinstance(configured, list):
        return [str(mode) for mode in configured]
    production = bool(getattr(context.environment, "production", False))
    return ["Protect"] if production else ["Monitor", "Protect"]


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    allowed = allowed_modes(context)
    env = getattr(context.environment, "name", "this environment")
    for obj in objects:
        mode = target_mode(obj)
        if mode is not None and mode not in allowed:
            yield Hit(obj, ("spec", "target", "policymode"),
                      f"policy mode {mode} is not allowed in {env} (allowed: {', '.join(allowed)})",
                      "set policy_mode in the environment file, or lint.rules.allowed-policy-mode.options.allowed")
        profile = spec(obj).get("process_profile")
        profile_mode = profile.get("mode") if isinstance(profile, dict) else None
        if isinstance(profile_mode, str) and profile_mode not in allowed:
            yield Hit(obj, ("spec", "process_profile", "mode"),
                      f"process profile mode {profile_mode} is not allowed in {env} (allowed: {', '.join(allowed)})")
