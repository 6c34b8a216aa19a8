"""production-shell: shells and network tools allowed as processes in a production environment.

Only runs where the environment file says ``production: true``. ``options: {binaries: [..]}``
replaces the list.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      process: [{name: java, action: allow, path: /usr/bin/java}, {name: sh, action: deny, path: /bin/sh}]

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      process: [{name: curl, action: allow, path: /usr/bin/curl}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.kinds import RULE_KINDS
from nvpolicy.nv.tools import NETWORK_TOOLS, PACKAGE_MANAGERS, SHELLS
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import allowed_binary, items

ID = "production-shell"
LEVEL = "warning"
DESCRIPTION = "Shells and network tools (sh, bash, curl, wget, nc, …) are not allowed processes in production."
# Shells, network tools and package managers (nvpolicy.nv.tools, as propose flags them); interpreters
# are left out: python or ruby is the main process of many production applications.
BINARIES = tuple(sorted(SHELLS | NETWORK_TOOLS | PACKAGE_MANAGERS))


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    if not getattr(context.environment, "production", False):
        return
    configured = context.options.get("binaries")
    binaries = {str(b) for b in configured} if isinstance(configured, list) else set(BINARIES)
    for obj in objects:
        if obj.data.get("kind") not in RULE_KINDS:
            continue
        for path, rule in items(obj, "process"):
            binary = allowed_binary(rule, binaries)
            if binary is not None:
                yield Hit(obj, path, f"{binary!r} is an allowed process in production",
                          "remove it, or waive it with a reason in the environment's lint: waivers")
