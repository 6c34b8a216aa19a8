"""Stable, meaningful rule names in place of NeuVector's positional ones.

An export names rules ``<peer group>-ingress-<n>`` / ``-egress-<n>`` with ``n`` counting across
the whole export, so the same rule gets another name in the next export. The source uses
``<target>-to-<peer>`` (egress) and ``<peer>-to-<target>`` (ingress), unique within the object.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_POSITIONAL = re.compile(r"-(?:ingress|egress)-\d+$")
_LEARNED = re.compile(r"^nv\.(?:ip\.)?(?P<service>.+)\.(?P<namespace>[a-z0-9]([-a-z0-9]*[a-z0-9])?)$")
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def is_positional(name: str) -> bool:
    """True for a name NeuVector made up from the rule's position in the export."""
    return bool(_POSITIONAL.search(name))


def short_name(group: str) -> str:
    """What people call a group: the service of a learned group, the group name otherwise."""
    match = _LEARNED.match(group)
    base = match.group("service") if match else group
    return _UNSAFE.sub("-", base.lower()).strip("-") or "group"


def rule_name(direction: str, target: str, peer: str, taken: Collection[str]) -> str:
    """``<target>-to-<peer>`` for egress, ``<peer>-to-<target>`` for ingress; ``-2``, ``-3``… if taken."""
    base = f"{target}-to-{peer}" if direction == "egress" else f"{peer}-to-{target}"
    return unique_name(base, taken)


def unique_name(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free."""
    name, counter = base, 2
    while name in taken:
        name = f"{base}-{counter}"
        counter += 1
    return name
