"""Group names as the controller classifies them (``parseCrdGroup``, rest/crdsecurityrule.go:2225-2492).

Prefixes are case-sensitive: ``host:db`` and ``NV.IP.x`` are ordinary custom names (S2, S3).
"""

from __future__ import annotations

import enum
import re

LEARNED_PREFIX = "nv."
SERVICE_IP_PREFIX = "nv.ip."
FED_PREFIX = "fed."
INGRESS_PEER = "Workload:ingress"
HOST_PREFIX = "Host:"
WORKLOAD_PREFIX = "Workload:"
EXTERNAL = "external"
NODES = "nodes"
CONTAINERS = "containers"
FED_NODES = "fed.nodes"
FED_CONTAINERS = "fed.containers"
FED_EXTERNAL = "fed.external"  # S5: the metadata.name that makes a rule for external federal

# isObjectNameValid (rest/rest.go:1084-1091), S1/G13.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*\Z")
# The reserved groups NeuVector creates itself; they take no criteria of their own.
RESERVED_GROUPS = frozenset({EXTERNAL, NODES, CONTAINERS})
NO_CRITERIA_GROUPS = frozenset({NODES, EXTERNAL, FED_NODES})  # S6
CONTAINER_CRITERION = ("container", "=", "*")  # S7: what `containers` is rewritten to


class GroupClass(enum.Enum):
    """Which branch of parseCrdGroup a selector name takes."""

    SERVICE_IP = "learned service-IP group (nv.ip.*)"  # S3
    LEARNED = "learned group (nv.*)"  # S8
    INGRESS = "ingress peer (Workload:ingress)"  # S2: skipped as a group
    NO_CRITERIA = "reserved group without criteria"  # S6: nodes, external, fed.nodes
    CONTAINERS = "reserved group containers"  # S7: criteria overwritten
    FED_CONTAINERS = "reserved group fed.containers"  # S7: exactly container=*
    CUSTOM = "custom group"  # S1, S2, S9-S21


def classify(name: str) -> GroupClass:
    if name.startswith(SERVICE_IP_PREFIX):
        return GroupClass.SERVICE_IP
    if name.startswith(LEARNED_PREFIX):
        return GroupClass.LEARNED
    if name == INGRESS_PEER:
        return GroupClass.INGRESS
    if name in NO_CRITERIA_GROUPS:
        return GroupClass.NO_CRITERIA
    if name == CONTAINERS:
        return GroupClass.CONTAINERS
    if name == FED_CONTAINERS:
        return GroupClass.FED_CONTAINERS
    return GroupClass.CUSTOM


def is_reserved_prefix(name: str) -> bool:
    """isReservedGroupName (rest/group.go:315-320): Host:* and Workload:*, case-sensitive (S2)."""
    return name.startswith((HOST_PREFIX, WORKLOAD_PREFIX))


def is_federal(name: str) -> bool:
    return name.startswith(FED_PREFIX)


def has_policy_mode(name: str) -> bool:
    """DoesGroupHavePolicyMode (share/utils/utils.go:1226-1229): nodes and nv.* except nv.ip.* (S24)."""
    return name == NODES or (name.startswith(LEARNED_PREFIX) and not name.startswith(SERVICE_IP_PREFIX))


def has_profiles(name: str) -> bool:
    """Whether process/file rules are read for a target (utils.go:1235-1245): not external, not nv.ip.*."""
    return name != EXTERNAL and not name.startswith(SERVICE_IP_PREFIX)


def is_reserved_definition(name: str) -> bool:
    """isReservedNvGroupDefName plus the fed. prefix (rest/group.go:326-338; webhook 615-618): G2."""
    return (name in {EXTERNAL, NODES, CONTAINERS, FED_NODES, FED_CONTAINERS, INGRESS_PEER}
            or is_reserved_prefix(name) or is_federal(name))


def learned_name(service: str, namespace: str) -> str:
    """The group NeuVector learns for a Kubernetes service: ``nv.<service>.<namespace>``."""
    return f"{LEARNED_PREFIX}{service}.{namespace}"


def learned_parts(name: str) -> tuple[str, str | None]:
    """The service a learned group name encodes (after ``nv.``) and its domain (last ``.`` token, if 3+ tokens)."""
    tokens = name.split(".")
    return name[len(LEARNED_PREFIX):], tokens[-1] if len(tokens) >= 3 else None


def normalize_for_url(value: str) -> str:
    """NormalizeForURL: ``[/?%& ]`` become ``:``, non-printable characters are dropped (S8)."""
    return "".join(":" if ch in "/?%& " else ch for ch in value if ch.isprintable())


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit, as github.com/spaolacci/murmur3 New32 computes it."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed
    length = len(data)
    full = length - length % 4
    for i in range(0, full, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    k = 0
    tail = data[full:]
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if tail:
        k ^= tail[0]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def hashed_name(name: str, criteria: list[tuple[str, str, str]], rest_import: bool = False) -> str:
    """The copy NeuVector creates for a group name taken with other criteria (S21, groupNameHashFromCriteria).

    Criteria are sorted by key then value and joined as key+value+op; REST import
    appends the review type (2) to each criterion and to the name.
    """
    review = 2  # share.ReviewTypeImportGroup (ReviewTypeCRD is 1)
    ordered = sorted(criteria, key=lambda c: (c[0], c[2]))  # (key, op, value) by key, then value
    text = "".join(f"{k}{v}{o}{review}" if rest_import else f"{k}{v}{o}" for k, o, v in ordered)
    digest = murmur3_32(text.encode("utf-8"))
    return f"{name}-{digest}-{review}" if rest_import else f"{name}-{digest}"
