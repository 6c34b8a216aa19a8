"""profile-name: NvComplianceProfile and NvVulnerabilityProfile are named ``default``.

NeuVector keeps one profile of each kind: the webhook denies any other name on CREATE
(" CREATE denied: CRD resource metadata name(<name>) is not allowed") and the parser refuses it
("unsupported metadata name <name>").

PASS::

    kind: NvVulnerabilityProfile
    metadata: {name: default}
    spec: {profile: {entries: [{name: CVE-2024-1234}]}}

FAIL::

    kind: NvComplianceProfile
    metadata: {name: prod}
    spec: {templates: {entries: [{test_number: D.1.1.1, tags: [PCI]}]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.compliance import PROFILE_NAME as COMPLIANCE_PROFILE
from nvpolicy.nv.vulnerability import PROFILE_NAME as VULNERABILITY_PROFILE
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import name, neuvector_says
from nvpolicy.rules._walk import of_kind

ID = "profile-name"
LEVEL = "error"
DESCRIPTION = "Compliance and vulnerability profiles are named 'default'."

_NAMES = {"NvComplianceProfile": COMPLIANCE_PROFILE, "NvVulnerabilityProfile": VULNERABILITY_PROFILE}


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in of_kind(objects, context, *_NAMES):
        expected, found = _NAMES[str(obj.data.get("kind"))], name(obj)
        if found != expected:
            yield Hit(obj, ("metadata", "name"),
                      f"{obj.data.get('kind')} must be named {expected!r}, not {found!r} "
                      f"({neuvector_says(f'CREATE denied: CRD resource metadata name({found}) is not allowed')})",
                      f"name it {expected!r}: NeuVector keeps one profile of this kind")
