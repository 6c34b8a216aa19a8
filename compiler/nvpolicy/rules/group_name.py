"""group-name: group names follow NeuVector's pattern and avoid the reserved prefixes.

User-created names must match ``^[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*$`` and must not start with
``fed.``, ``nv.ip.``, ``host:`` or ``workload:`` (compared case-insensitively): those are
federated groups, learned service-IP groups and special learned endpoints the controller owns.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web-tier, criteria: [{key: app, op: "=", value: web}]}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: Host:10.0.0.1, criteria: [{key: app, op: "=", value: web}]}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import selectors

ID = "group-name"
LEVEL = "error"
DESCRIPTION = ("Group names match ^[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*$ and do not use a reserved prefix "
               "(fed., nv.ip., host:, workload:).")

PATTERN = re.compile(r"^[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*$")
RESERVED_PREFIXES = ("fed.", "nv.ip.", "host:", "workload:")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        name = selector.data.get("name")
        found = problem(name) if isinstance(name, str) else _invalid(name)
        if found is not None:
            yield Hit(selector.obj, (*selector.path, "name"), *found)


@lru_cache(maxsize=4096)  # the same group is named by every rule that targets or peers with it
def problem(name: str) -> tuple[str, str] | None:
    """The message and hint for a group name NeuVector refuses, or None."""
    if not PATTERN.match(name):
        return _invalid(name)
    prefix = next((p for p in RESERVED_PREFIXES if name.lower().startswith(p)), None)
    if prefix is not None:
        return (f"group name {name!r} uses the reserved prefix {prefix!r}",
                "fed.*, nv.ip.*, Host:* and Workload:* groups belong to the controller; pick another name")
    return None


def _invalid(name: object) -> tuple[str, str]:
    return (f"group name {name!r} is not a valid NeuVector group name",
            "group names are letters and digits, then letters, digits, '.', ':', '_' or '-'")
