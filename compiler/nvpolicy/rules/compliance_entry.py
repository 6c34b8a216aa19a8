"""compliance-entry: compliance profile entries name known test numbers and tags.

NeuVector checks them only when it applies the profile and then just logs the error
("Unknonwn compliance ID" / "Invalid compliance profile template values"): the CR stays in
Kubernetes and looks applied, but the profile is not changed. Tags are ``PCI``, ``GDPR``,
``HIPAA``, ``NIST``, ``PCIv4``, ``DISA`` (case-sensitive); test numbers come from the
controller's catalogue. Ids that only some clusters' CIS benchmarks know are
``compliance-benchmark`` notes.

PASS::

    kind: NvComplianceProfile
    metadata: {name: default}
    spec: {templates: {entries: [{test_number: D.1.1.1, tags: [PCI, GDPR]}, {test_number: K.4.2.1, tags: []}]}}

FAIL::

    kind: NvComplianceProfile
    metadata: {name: default}
    spec: {templates: {entries: [{test_number: D.9.9.9, tags: [PCI]}, {test_number: D.1.1.1, tags: [pci]}]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.compliance import BUILTIN_TESTS, TAGS, benchmarks_knowing
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import entries
from nvpolicy.rules._walk import of_kind, spec

ID = "compliance-entry"
LEVEL = "error"
DESCRIPTION = "Compliance profile entries use known test numbers and tags (else NeuVector only logs and ignores)."

_UNSEEN = "NeuVector only logs this and leaves the profile unchanged; nothing in Kubernetes shows the failure"


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in of_kind(objects, context, "NvComplianceProfile"):
        templates = spec(obj).get("templates")
        found = templates.get("entries") if isinstance(templates, dict) else None
        for index, entry in entries(found):
            path = ("spec", "templates", "entries", index)
            number = entry.get("test_number")
            if isinstance(number, str) and number not in BUILTIN_TESTS and not benchmarks_knowing(number):
                yield Hit(obj, (*path, "test_number"),
                          f"compliance test {number!r} is not in NeuVector's catalogue (\"Unknonwn compliance ID\"): "
                          f"{_UNSEEN}", "test numbers look like D.1.1.1, I.4.1 or K.1.1.1 (see Assets > Compliance)")
            tags = entry.get("tags")
            for tag_index, tag in enumerate(tags if isinstance(tags, list) else []):
                if tag not in TAGS:
                    yield Hit(obj, (*path, "tags", tag_index),
                              f"compliance tag {tag!r} is unknown (\"Invalid compliance profile template values\"): "
                              f"{_UNSEEN}", f"tags are {', '.join(sorted(TAGS))} (case-sensitive)")
