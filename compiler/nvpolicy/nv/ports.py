"""Ports strings as the controller reads them (``normalizePorts``, rest/policy.go:176-300; S36).

One parser for validation (rules), comparison (diff, the shadowed-rule guardrail) and learning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ANY = "any"
TCP, UDP, ICMP = 6, 17, 1
MAX_PORT = 65535
_ATOI = re.compile(r"[+-]?[0-9]+\Z")  # Go strconv.Atoi: an optional sign, decimal digits


class PortsError(ValueError):
    """A ports string NeuVector refuses ("Invalid ports format for rule …")."""


@dataclass(frozen=True, order=True)
class PortRange:
    """One protocol's ports from low to high; ICMP has no ports (0-0)."""

    proto: int
    low: int
    high: int

    def covers(self, other: PortRange) -> bool:
        return self.proto == other.proto and self.low <= other.low and other.high <= self.high

    def overlaps(self, other: PortRange) -> bool:
        return self.proto == other.proto and self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        if self.proto == ICMP:
            return "icmp"
        proto = "tcp" if self.proto == TCP else "udp"
        if (self.low, self.high) == (0, MAX_PORT):
            return f"{proto}/{ANY}"
        return f"{proto}/{self.low}" if self.low == self.high else f"{proto}/{self.low}-{self.high}"


@dataclass(frozen=True)
class Ports:
    """What a ports string allows: a set of ranges per protocol (``any`` is TCP and UDP 0-65535 plus ICMP)."""

    ranges: tuple[PortRange, ...]

    @property
    def is_any(self) -> bool:
        return self.covers(EVERYTHING)

    @property
    def icmp(self) -> bool:
        return any(r.proto == ICMP for r in self.ranges)

    def intervals(self, protocol: str) -> list[tuple[int, int]]:
        """The (low, high) port ranges of ``tcp`` or ``udp``, sorted."""
        proto = {"tcp": TCP, "udp": UDP}.get(protocol.lower())
        return sorted((r.low, r.high) for r in self.ranges if r.proto == proto)

    def covers(self, other: Ports) -> bool:
        """Every port of ``other`` is a port of these (``tcp/1-1000`` covers ``tcp/80``)."""
        return all(_covered(wanted, self.ranges) for wanted in other.ranges)

    def overlaps(self, other: Ports) -> bool:
        return any(mine.overlaps(theirs) for mine in self.ranges for theirs in other.ranges)

    def __str__(self) -> str:
        if self.is_any:
            return ANY
        return ",".join(str(r) for r in sorted(self.ranges))


def _covered(wanted: PortRange, ranges: tuple[PortRange, ...]) -> bool:
    """Whether the union of ``ranges`` contains ``wanted`` (adjacent ranges join)."""
    next_port = wanted.low
    for have in sorted(r for r in ranges if r.proto == wanted.proto):
        if have.low > next_port:
            break
        next_port = max(next_port, have.high + 1)
        if next_port > wanted.high:
            return True
    return next_port > wanted.high


_ALL_TCP = PortRange(TCP, 0, MAX_PORT)
_ALL_UDP = PortRange(UDP, 0, MAX_PORT)
_ICMP = PortRange(ICMP, 0, 0)
EVERYTHING = Ports((_ALL_TCP, _ALL_UDP, _ICMP))


def _atoi(text: str) -> int:
    if not _ATOI.match(text):
        raise PortsError(f"{text!r} is not a number")
    return int(text)


def _range(text: str) -> tuple[int, int]:
    """parseRange: ``N`` or ``N-M`` split at the first ``-``, each side Go Atoi."""
    if "-" in text:
        low_text, high_text = text.split("-", 1)
        return _atoi(low_text), _atoi(high_text)
    value = _atoi(text)
    return value, value


@lru_cache(maxsize=4096)  # a repo repeats a few ports values thousands of times
def parse(text: str) -> Ports:
    """The ports a rule's ``ports`` string allows, exactly as normalizePorts reads it; raises PortsError."""
    text = text.strip(" ")
    if not text or text.lower() == ANY:
        return EVERYTHING
    ranges: list[PortRange] = []
    for field in (f for f in re.split(r"[, ]", text) if f):
        proto = TCP
        if field.startswith(("tcp/", "TCP/", "udp/", "UDP/")):
            proto = TCP if field[0] in "tT" else UDP
            rest = field[4:]
            if rest.lower() == ANY:
                ranges.append(PortRange(proto, 0, MAX_PORT))
                continue
        elif field == "icmp":
            ranges.append(_ICMP)
            continue
        elif field.lower() == ANY:
            ranges += [_ALL_TCP, _ALL_UDP, _ICMP]
            continue
        else:
            rest = field
        low, high = _range(rest)
        if not (0 <= low <= MAX_PORT and 0 <= high <= MAX_PORT):
            raise PortsError(f"{field!r}: ports run from 0 to {MAX_PORT}")
        if low > high:
            raise PortsError(f"{field!r}: a range runs from the lower to the higher port")
        ranges.append(PortRange(proto, low, high))
    return Ports(tuple(sorted(set(ranges))))  # one form per meaning: `80,443` equals `443, tcp/80`


def problem(text: str) -> str | None:
    """Why NeuVector refuses ``text`` as a ports value, or None."""
    try:
        parse(text)
    except PortsError as error:
        return str(error)
    return None


def parse_or_any(value: object) -> Ports:
    """For comparisons of already-checked rules: an absent or unreadable value means any port."""
    if not isinstance(value, str):
        return EVERYTHING
    try:
        return parse(value)
    except PortsError:
        return EVERYTHING
