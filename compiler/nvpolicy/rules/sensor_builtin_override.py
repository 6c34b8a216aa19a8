"""sensor-builtin-override: a WAF sensor named ``sensor.log4shell`` or ``sensor.spring4shell`` replaces NeuVector's.

These built-in WAF sensors are created as ordinary sensors, so a CR of that name is applied as an
update: its rules replace the built-in detection rules, without a word.

PASS::

    kind: NvWafSecurityRule
    metadata: {name: sensor.log4shell-extra}
    spec: {sensor: {name: sensor.log4shell-extra}}

FAIL::

    kind: NvWafSecurityRule
    metadata: {name: sensor.log4shell}
    spec: {sensor: {name: sensor.log4shell}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.sensors import BUILTIN_WAF
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import name
from nvpolicy.rules._walk import of_kind

ID = "sensor-builtin-override"
LEVEL = "warning"
DESCRIPTION = "A WAF sensor named sensor.log4shell or sensor.spring4shell replaces NeuVector's built-in sensor."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in of_kind(objects, context, "NvWafSecurityRule"):
        if name(obj) in BUILTIN_WAF:
            yield Hit(obj, ("metadata", "name"),
                      f"{name(obj)!r} is a built-in WAF sensor: this CR replaces its rules with the ones here",
                      "use a name of your own to add rules beside the built-in sensor")
