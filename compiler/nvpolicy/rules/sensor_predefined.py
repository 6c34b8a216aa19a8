"""sensor-predefined: a DLP sensor named like a predefined one (``sensor.ssn``, ``sensor.creditcard``).

NeuVector creates these two as predefined sensors on every cluster and refuses to modify a
predefined sensor ("cannot modify predefined sensor <name>"), deleting the CR. Which sensors are
predefined is cluster state, so this is a note, not an error.

PASS::

    kind: NvDlpSecurityRule
    metadata: {name: sensor.ssn-custom}
    spec: {sensor: {name: sensor.ssn-custom}}

FAIL::

    kind: NvDlpSecurityRule
    metadata: {name: sensor.creditcard}
    spec: {sensor: {name: sensor.creditcard}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.sensors import PREDEFINED_DLP
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import name
from nvpolicy.rules._walk import of_kind

ID = "sensor-predefined"
LEVEL = "info"
DESCRIPTION = "A DLP sensor named like a predefined sensor is refused where that sensor exists (every cluster)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in of_kind(objects, context, "NvDlpSecurityRule"):
        if name(obj) in PREDEFINED_DLP:
            yield Hit(obj, ("metadata", "name"),
                      f"{name(obj)!r} is a predefined DLP sensor on NeuVector clusters, which NeuVector refuses to "
                      f"modify: the CR will be deleted (\"cannot modify predefined sensor {name(obj)}\")",
                      "give your sensor a name of its own")
