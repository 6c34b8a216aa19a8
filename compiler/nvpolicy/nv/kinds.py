"""NeuVector's nine custom-resource kinds: their scope (as the published CRDs define it) and how the REST
API imports them (``POST /v1/file/<endpoint>/config``). Adding a kind is one entry here and one schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

API_VERSION = "neuvector.com/v1"


class KindSet(frozenset[str]):
    """A set of kind names that answers "no" for a kind that is not even a string.

    ``kind: [x]`` or ``kind: {a: b}`` is a list or mapping, unhashable: a plain ``in`` on a frozenset
    raises TypeError. Every stage looks kinds up in these sets, so each would need its own guard;
    here the answer is simply "not one of these kinds", and validation reports the bad kind.
    """

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and frozenset.__contains__(self, item)

    def __or__(self, other: Set[str]) -> KindSet:  # type: ignore[override]
        return KindSet(frozenset(self) | frozenset(other))

    def __sub__(self, other: Set[str]) -> KindSet:  # type: ignore[override]
        return KindSet(frozenset(self) - frozenset(other))


@dataclass(frozen=True)
class Kind:
    name: str
    namespaced: bool
    list_file: str  # the `render --format list` file, named after the REST import endpoint it is posted to

    @property
    def schema_file(self) -> str:
        return f"{self.name.lower()}.schema.json"


REGISTRY: Mapping[str, Kind] = {kind.name: kind for kind in (
    Kind("NvSecurityRule", True, "group-policy.yaml"),
    Kind("NvClusterSecurityRule", False, "group-policy.yaml"),
    Kind("NvGroupDefinition", True, "group-policy.yaml"),
    Kind("NvAdmissionControlSecurityRule", False, "admission.yaml"),
    Kind("NvDlpSecurityRule", False, "dlp.yaml"),
    Kind("NvWafSecurityRule", False, "waf.yaml"),
    Kind("NvComplianceProfile", False, "compliance-profile.yaml"),
    Kind("NvVulnerabilityProfile", False, "vulnerability-profile.yaml"),
    Kind("NvResponseRuleSecurityRule", False, "response-rule.yaml"),
)}
KINDS = KindSet(REGISTRY)
NAMESPACED_KINDS = KindSet(name for name, kind in REGISTRY.items() if kind.namespaced)
CLUSTER_KINDS = KINDS - NAMESPACED_KINDS
# The kinds with network/process/file rules for a target group (one parser: parseCurCrdGfwContent).
RULE_KINDS = KindSet({"NvSecurityRule", "NvClusterSecurityRule"})
GROUP_DEFINITION = "NvGroupDefinition"
