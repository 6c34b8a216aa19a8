"""ports: a rule's ports follow NeuVector's grammar, with ports 0-65535 and ranges low-high.

Entries, separated by commas and/or spaces: ``any``, ``icmp``, ``tcp/any``, ``udp/any``,
``N``, ``N-M``, ``tcp/N``, ``udp/N-M`` (also ``TCP/``, ``UDP/``); a bare number is TCP.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      ingress:
        - {name: r1, action: allow, ports: "80, tcp/8000-8080 udp/53", selector: {name: lb}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      ingress:
        - {name: r1, action: allow, ports: tcp/8080-8000, selector: {name: lb}}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import network_rules_by_object

ID = "ports"
LEVEL = "error"
DESCRIPTION = "Ports are any, icmp, tcp/any, udp/any, N, N-M, tcp/N[-M] or udp/N[-M], with 0 <= low <= high <= 65535."
HINT = "ports are like 'any', 'tcp/5432', 'udp/53', '8000-8080' or 'tcp/80, tcp/443'"

_ENTRY = re.compile(r"^(?:(?P<proto>tcp|udp|TCP|UDP)/)?(?P<low>[0-9]+)(?:-(?P<high>[0-9]+))?$")
_SEPARATORS = re.compile(r"[,\s]+")
_WORDS = frozenset({"any", "icmp", "tcp/any", "udp/any", "TCP/any", "UDP/any"})
MAX_PORT = 65535


@lru_cache(maxsize=4096)  # a repo repeats a few ports values thousands of times
def problem(ports: str) -> str | None:
    """Why ``ports`` is not a NeuVector ports value, or None."""
    entries = [entry for entry in _SEPARATORS.split(ports.strip()) if entry]
    for entry in entries:
        if entry in _WORDS:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            return f"{entry!r} is not a port entry"
        low = int(match["low"])
        high = int(match["high"]) if match["high"] is not None else low
        if high > MAX_PORT or low > MAX_PORT:
            return f"{entry!r}: ports run from 0 to {MAX_PORT}"
        if low > high:
            return f"{entry!r}: a range runs from the lower to the higher port"
    return None


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in network_rules_by_object(objects, context):
        for path, rule in rules:
            ports = rule.get("ports")
            if ports is None:
                continue
            found = problem(ports) if isinstance(ports, str) else "ports is a string"
            if found:
                yield Hit(obj, (*path, "ports"), f"ports {ports!r} are invalid: {found}", HINT)
