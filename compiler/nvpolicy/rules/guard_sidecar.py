"""sidecar-process: service-mesh and infrastructure binaries allowed inside an application group.

A group learned with a sidecar injected allows envoy/pilot-agent/linkerd2-proxy as if they
were the application; the allowance belongs to the mesh's own policy. ``options: {binaries: [..]}``
adds names. The sidecar's own group (``sidecar.<container>.<svc>.<ns>`` selecting one container, as
``nvpolicy import --split-sidecars`` writes it) is where they belong, so it passes.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      process: [{name: java, action: allow, path: /usr/bin/java}]

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}
    spec:
      target: {selector: {name: nv.orders.shop}}
      process: [{name: envoy, action: allow, path: /usr/local/bin/envoy}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.learn.sidecars import is_sidecar_group
from nvpolicy.model import RenderedObject
from nvpolicy.nv.tools import SIDECARS
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import RESERVED_GROUPS, allowed_binary, items, target

ID = "sidecar-process"
LEVEL = "warning"
DESCRIPTION = ("Sidecar/infrastructure binaries (envoy, pilot-agent, istio-proxy, linkerd2-proxy, …) allowed in an "
               "application group.")
BINARIES = frozenset(SIDECARS)  # one list with import's sidecar split: nvpolicy.nv.tools


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    binaries = BINARIES | {str(b) for b in context.options.get("binaries") or []}
    for obj in objects:
        selector = target(obj)
        if selector is None or selector.name in RESERVED_GROUPS \
                or is_sidecar_group(selector.name, selector.data.get("criteria")):
            continue
        for path, rule in items(obj, "process"):
            binary = allowed_binary(rule, binaries)
            if binary is not None:
                yield Hit(obj, path, f"sidecar/infrastructure process {binary!r} is allowed in application group "
                          f"{selector.name!r}", "allow mesh processes in the mesh's own policy, not the application's")
