"""nodes-baseline: the ``nodes`` group accepts only the process profile baseline ``basic``.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: nodes}
    spec:
      target: {selector: {name: nodes}}
      process_profile: {baseline: basic}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: nodes}
    spec:
      target: {selector: {name: nodes}}
      process_profile: {baseline: zero-drift}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import spec, targets

ID = "nodes-baseline"
LEVEL = "error"
DESCRIPTION = "The nodes group's process profile baseline is basic (S27)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        obj = selector.obj
        profile = spec(obj).get("process_profile")
        if selector.name != "nodes" or not isinstance(profile, dict):
            continue
        baseline = profile.get("baseline")
        if baseline is not None and baseline != "basic":
            yield Hit(obj, ("spec", "process_profile", "baseline"),
                      f"the nodes group only takes baseline 'basic', not {baseline!r}"
                      + says("S27", f"invalid baseline {baseline} for group nodes"))
