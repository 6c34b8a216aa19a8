"""Traffic sets a rule is about — ports, applications, addresses — and how two of them compare.

Each ``covers(a, b)`` answers "is everything b matches also matched by a?"; ``None`` stands for a
value nvpolicy cannot interpret (it is then only ever equal to itself).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from nvpolicy.nv.ports import EVERYTHING, Ports, PortsError, parse

# Ports are read as NeuVector's normalizePorts reads them: one parser for lint, diff and learn (nvpolicy.nv.ports).
PortSet = Ports


def parse_ports(text: Any) -> PortSet | None:
    """NeuVector's ports syntax (S36), or None for a value NeuVector would refuse."""
    if text is None:
        return EVERYTHING
    if not isinstance(text, (str, int)) or isinstance(text, bool):
        return None
    try:
        return parse(str(text))
    except PortsError:
        return None


def ports_cover(a: PortSet | None, b: PortSet | None) -> bool:
    if a is None or b is None:
        return a == b
    return a.covers(b)


def ports_overlap(a: PortSet | None, b: PortSet | None) -> bool:
    if a is None or b is None:
        return True  # unknown: assume the worst for ordering questions
    return a.overlaps(b)


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
