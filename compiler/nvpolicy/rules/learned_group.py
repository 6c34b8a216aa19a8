"""learned-group: a learned group ``nv.<svc>.<ns>`` carries exactly ``service=<svc>.<ns>`` and ``domain=<ns>``.

The controller checks both criteria against the name (validateLearnGroupConfig), op ``=`` only.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target:
        selector:
          name: nv.orders.shop
          criteria: [{key: service, op: "=", value: orders.shop}, {key: domain, op: "=", value: shop}]

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target:
        selector:
          name: nv.orders.shop
          criteria: [{key: service, op: "=", value: orders.dev}, {key: domain, op: "=", value: shop}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import LEARNED_PREFIX, SERVICE_IP_PREFIX, selectors

ID = "learned-group"
LEVEL = "error"
DESCRIPTION = "A learned group nv.<svc>.<ns> has exactly the criteria service=<svc>.<ns> and domain=<ns> (op =)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        name = selector.name
        lowered = name.lower()
        if not lowered.startswith(LEARNED_PREFIX) or lowered.startswith(SERVICE_IP_PREFIX) or selector.referral:
            continue
        found = problem(name, selector.criteria_set())
        if found is not None:
            yield Hit(selector.obj, (*selector.path, "criteria"), found,
                      "use {{ service('<name>', '<namespace>') }}, or a custom group name for other criteria")


@lru_cache(maxsize=4096)  # a service's group recurs, with the same criteria, in every rule that names it
def problem(name: str, criteria: frozenset[tuple[str, str, str]]) -> str | None:
    """What is wrong with the criteria of the learned group ``name`` (nv.<svc>.<ns>), or None."""
    service = name[len(LEARNED_PREFIX):]
    domains = [value for key, op, value in criteria if key == "domain" and op == "="]
    namespace = domains[0] if len(domains) == 1 else None
    valid = (namespace is not None and service.endswith(f".{namespace}")
             and criteria == {("service", "=", service), ("domain", "=", namespace)})
    if valid:
        return None
    shown = ", ".join(f"{k}{o}{v}" for k, o, v in sorted(criteria)) or "none"
    wanted = f"service={service}, domain={namespace or service.rsplit('.', 1)[-1]}"
    return f"learned group {name!r} must have exactly the criteria {wanted} (has: {shown})"
