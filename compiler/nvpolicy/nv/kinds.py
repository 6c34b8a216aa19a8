"""NeuVector's nine custom-resource kinds: their scope (as the published CRDs define it) and how the REST
API imports them (``POST /v1/file/<endpoint>/config``). Adding a kind is one entry here and one schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

API_VERSION = "neuvector.com/v1"


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
KINDS = frozenset(REGISTRY)
NAMESPACED_KINDS = frozenset(name for name, kind in REGISTRY.items() if kind.namespaced)
CLUSTER_KINDS = KINDS - NAMESPACED_KINDS
# The kinds with network/process/file rules for a target group (one parser: parseCurCrdGfwContent).
RULE_KINDS = frozenset({"NvSecurityRule", "NvClusterSecurityRule"})
GROUP_DEFINITION = "NvGroupDefinition"
