"""admission-name: an NvAdmissionControlSecurityRule is named ``local`` (or ``fed`` on a federation primary).

The CRD webhook denies any other name on CREATE (" CREATE denied: CRD resource metadata
name(<name>) is not allowed"); one that slips through (UPDATE, webhook down) is ignored.
``fed`` is judged by ``federal-name``.

PASS::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec: {config: {enable: true, mode: monitor, client_mode: service}}

FAIL::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: default}
    spec: {config: {enable: true, mode: monitor, client_mode: service}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.admission import FED_NAME, LOCAL_NAME
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import name, neuvector_says
from nvpolicy.rules._walk import of_kind

ID = "admission-name"
LEVEL = "error"
DESCRIPTION = "An NvAdmissionControlSecurityRule is named 'local' ('fed' on a federation primary)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in of_kind(objects, context, "NvAdmissionControlSecurityRule"):
        found = name(obj)
        if found not in (LOCAL_NAME, FED_NAME):
            yield Hit(obj, ("metadata", "name"),
                      f"admission-control rules must be named 'local': the webhook denies {found!r} "
                      f"({neuvector_says(f'CREATE denied: CRD resource metadata name({found}) is not allowed')})",
                      "name it 'local' (or 'fed' for federal rules on a federation primary)")
