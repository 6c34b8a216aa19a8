"""Traffic sets a rule is about — ports, applications, addresses — and how two of them compare.

Each ``covers(a, b)`` answers "is everything b matches also matched by a?"; ``None`` stands for a
value nvpolicy cannot interpret (it is then only ever equal to itself).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PORT = 65535
_PORT_TOKEN = re.compile(r"^(?:(tcp|udp)/)?(any|\d+)(?:-(\d+))?$")


@dataclass(frozen=True)
class PortSet:
    """Parsed ``ports``: ``all_protocols`` for ``any``, else icmp plus tcp/udp intervals."""

    all_protocols: bool = False
    icmp: bool = False
    ranges: frozenset[tuple[str, int, int]] = frozenset()

    def intervals(self, proto: str) -> list[tuple[int, int]]:
        return sorted((lo, hi) for p, lo, hi in self.ranges if p == proto)


def parse_ports(text: Any) -> PortSet | None:
    """NeuVector's ports syntax: empty/``any``, ``icmp``, ``tcp/any``, ``80``, ``tcp/8000-8080``, comma lists."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return PortSet(all_protocols=True)
    if not isinstance(text, (str, int)):
        return None
    ranges: set[tuple[str, int, int]] = set()
    icmp = False
    for token in re.split(r"[,\s]+", str(text).strip().lower()):
        if not token:
            continue
        if token == "any":
            return PortSet(all_protocols=True)
        if token == "icmp":
            icmp = True
            continue
        match = _PORT_TOKEN.match(token)
        if not match:
            return None
        proto = match.group(1) or "tcp"
        if match.group(2) == "any":
            if match.group(3):
                return None
            ranges.add((proto, 0, MAX_PORT))
            continue
        low = int(match.group(2))
        high = int(match.group(3) or low)
        if low > high or high > MAX_PORT:
            return None
        ranges.add((proto, low, high))
    return PortSet(icmp=icmp, ranges=frozenset(ranges))


def _merged(intervals: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def ports_cover(a: PortSet | None, b: PortSet | None) -> bool:
    if a is None or b is None:
        return a == b
    if a.all_protocols:
        return True
    if b.all_protocols or (b.icmp and not a.icmp):
        return False
    return all(any(lo <= low and high <= hi for lo, hi in _merged(a.intervals(proto)))
               for proto, low, high in b.ranges)


def ports_overlap(a: PortSet | None, b: PortSet | None) -> bool:
    if a is None or b is None:
        return True  # unknown: assume the worst for ordering questions
    if a.all_protocols or b.all_protocols or (a.icmp and b.icmp):
        return True
    return any(pa == pb and la <= hb and lb <= ha for pa, la, ha in a.ranges for pb, lb, hb in b.ranges)


# Applications: an empty list or ``any`` means every application (None here).
AppSet = frozenset[str] | None


def parse_apps(value: Any) -> AppSet:
    if not value:
        return None
    names = frozenset(str(v) for v in value) if isinstance(value, list) else frozenset({str(value)})
    return None if any(n.lower() == "any" for n in names) else names


def apps_cover(a: AppSet, b: AppSet) -> bool:
    if a is None:
        return True
    return b is not None and b <= a


def apps_overlap(a: AppSet, b: AppSet) -> bool:
    return a is None or b is None or bool(a & b)


# Addresses: IP, CIDR, a-b range, hostname, *.domain, vh:name.
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = tuple[str, Any]


def parse_address(text: str) -> Address:
    value = text.strip().lower()
    if "-" in value and not value.startswith(("*", "vh:")):
        low, _, high = value.partition("-")
        try:
            first, last = ipaddress.ip_address(low), ipaddress.ip_address(high)
            if first.version == last.version:
                return ("range", (first, last))
        except ValueError:
            pass
    try:
        net = ipaddress.ip_network(value, strict=False)
        return ("range", (net[0], net[-1]))
    except ValueError:
        pass
    if value.startswith("*."):
        return ("wildcard", value[2:].rstrip("."))
    return ("name", value.rstrip("."))


def address_covers(a: Address, b: Address) -> bool:
    kind_a, va = a
    kind_b, vb = b
    if kind_a == "range" and kind_b == "range":
        return bool(va[0].version == vb[0].version and va[0] <= vb[0] and vb[1] <= va[1])
    if kind_a == "wildcard" and kind_b in ("name", "wildcard"):
        return bool(vb == va and kind_b == "wildcard") or str(vb).endswith("." + str(va))
    return a == b


def addresses_cover(a: Iterable[Address], b: Iterable[Address]) -> bool:
    a_list = list(a)
    return all(any(address_covers(x, y) for x in a_list) for y in b)


def addresses_overlap(a: Iterable[Address], b: Iterable[Address]) -> bool:
    b_list = list(b)
    return any(address_covers(x, y) or address_covers(y, x) for x in a for y in b_list)
