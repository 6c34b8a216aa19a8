"""``address`` criterion values as the controller accepts them (S18; rest/group.go:291-313, 566-573).

An IP, CIDR or ``ip-ip`` range (``ParseIPRange``, share/utils/utils.go:662-689, IPv6 included, low <= high
compared byte-wise as Go does), else a DNS name (``regDomain``), ``*.`` with at least two labels
(``regSubDomain``), or either after ``vh:``.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

VH_PREFIX = "vh:"
DOMAIN_MAX = 256  # api.PolicyDomainNameMaxLen: names must be shorter
_LABEL_TAIL = r"[0-9a-zA-Z_-]*"
_DOMAIN = re.compile(rf"[0-9a-zA-Z]+{_LABEL_TAIL}(?:\.[0-9a-zA-Z]+{_LABEL_TAIL})*\Z")
_SUBDOMAIN = re.compile(rf"\*(?:\.[0-9a-zA-Z]+{_LABEL_TAIL}){{2,}}\Z")
_IP_RANGE_LOOSE = re.compile(r"[0-9./-]+\Z")  # regIPRangeLoose: such a value is an address or nothing


def _go_ip(text: str) -> bytes | None:
    """net.ParseIP as 16 bytes (IPv4 mapped), or None; Go takes no zone and no leading zeros."""
    if "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed).packed
    return address.packed


def _is_range(value: str) -> bool:
    parts = value.split("-")
    if len(parts) == 1:
        if "/" in value:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                return False
            return "%" not in value
        return _go_ip(value) is not None
    if len(parts) == 2:
        low, high = _go_ip(parts[0]), _go_ip(parts[1])
        return low is not None and high is not None and low <= high
    return False


def _is_domain(value: str) -> bool:
    """validateDomainName."""
    if _IP_RANGE_LOOSE.match(value):
        return False
    if len(value) < DOMAIN_MAX and (_DOMAIN.match(value) or _SUBDOMAIN.match(value)):
        return True
    rest = value[len(VH_PREFIX):]
    return (value.startswith(VH_PREFIX) and len(value) < DOMAIN_MAX + len(VH_PREFIX)
            and bool(_DOMAIN.match(rest) or _SUBDOMAIN.match(rest)))


@lru_cache(maxsize=4096)  # external peers recur in every rule that talks to them
def is_valid(value: str) -> bool:
    return _is_range(value) or _is_domain(value)


def problem(value: str) -> str | None:
    """Why NeuVector refuses ``value`` as an address criterion, or None."""
    if is_valid(value):
        return None
    if _IP_RANGE_LOOSE.match(value):
        if value.replace(".", "").isdigit():
            return "looks like an IP address but is not one"
        return "not an IP, CIDR or low-high IP range"
    if value.startswith("*.") and value.count(".") < 2:
        return "'*.' needs at least two labels after it ('*.example.com')"
    if value.endswith("."):
        return "a trailing dot is not accepted"
    return "not an IP, CIDR, IP range, DNS name, *.domain or vh:<name>"
