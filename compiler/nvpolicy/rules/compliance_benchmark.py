"""compliance-benchmark: a compliance test number that only some clusters' CIS benchmark knows.

NeuVector loads the Kubernetes CIS benchmark that fits the cluster (platform and version); the
ids that benchmark adds exist only there. On another cluster the profile is not applied and the
error is only logged ("Unknonwn compliance ID").

PASS::

    kind: NvComplianceProfile
    metadata: {name: default}
    spec: {templates: {entries: [{test_number: D.1.1.1, tags: [PCI]}]}}

FAIL::

    kind: NvComplianceProfile
    metadata: {name: default}
    spec: {templates: {entries: [{test_number: K.5.1.1, tags: [PCI]}]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.compliance import BUILTIN_TESTS, benchmarks_knowing
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import entries
from nvpolicy.rules._walk import of_kind, spec

ID = "compliance-benchmark"
LEVEL = "info"
DESCRIPTION = "A compliance test number known only to the clusters of some CIS benchmarks."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in of_kind(objects, context, "NvComplianceProfile"):
        templates = spec(obj).get("templates")
        found = templates.get("entries") if isinstance(templates, dict) else None
        for index, entry in entries(found):
            number = entry.get("test_number")
            if not isinstance(number, str) or number in BUILTIN_TESTS:
                continue
            benchmarks = benchmarks_knowing(number)
            if benchmarks:
                yield Hit(obj, ("spec", "templates", "entries", index, "test_number"),
                          f"compliance test {number!r} exists only on clusters running the CIS benchmark "
                          f"{', '.join(benchmarks)}; elsewhere NeuVector logs \"Unknonwn compliance ID\" and leaves "
                          "the profile unchanged", "check which benchmark the target cluster runs")
