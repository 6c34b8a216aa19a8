"""sensor-name: a DLP/WAF sensor is named like its CR, with NeuVector's name characters, not the default sensor.

``spec.sensor.name`` must equal ``metadata.name`` ("mismatched name in sensor and metadata"),
match ``^[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*$`` ("invalid characters in name") and not be the built-in
default sensor ``sensor.dlpdfltnv``/``sensor.wafdfltnv`` ("cannot create sensor with reserved name").

PASS::

    kind: NvWafSecurityRule
    metadata: {name: sensor.sqli}
    spec: {sensor: {name: sensor.sqli}}

FAIL::

    kind: NvDlpSecurityRule
    metadata: {name: sensor.secrets}
    spec: {sensor: {name: sensor.secret}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.sensors import name_valid
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import name, neuvector_says, sensors

ID = "sensor-name"
LEVEL = "error"
DESCRIPTION = "A DLP/WAF sensor's name equals metadata.name, is a valid NeuVector name and not the default sensor."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, sensor, kind in sensors(objects, context):
        expected, found = name(obj), sensor.get("name")
        path = ("spec", "sensor", "name")
        if found != expected:
            yield Hit(obj, path, f"sensor name {found!r} differs from metadata.name {expected!r} "
                      f"({neuvector_says(f'mismatched name in sensor and metadata {expected}')})",
                      f"name the sensor {expected!r}")
        elif not name_valid(expected):
            yield Hit(obj, path, f"sensor name {expected!r} has characters NeuVector does not accept "
                      f"({neuvector_says(f'invalid characters in name {expected}')})",
                      "sensor names start with a letter or digit, then letters, digits, '.', ':', '_' or '-'")
        elif expected == kind.reserved:
            yield Hit(obj, path, f"{expected!r} is NeuVector's default {kind.label.upper()} sensor and cannot be "
                      f"defined by a CR ({neuvector_says(f'cannot create sensor with reserved name {expected}')})",
                      "choose another sensor name")
