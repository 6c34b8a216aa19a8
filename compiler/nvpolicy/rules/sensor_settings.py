"""sensor-settings: a rule's ``dlp``/``waf`` settings do not name NeuVector's reserved default sensors (S29).

``sensor.dlpdfltnv`` and ``sensor.wafdfltnv`` belong to the controller ("cannot use reserved sensor
name"). The setting actions (S30) are the schema's enum.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      dlp: {status: true, settings: [{name: sensor.creditcard, action: deny}]}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      waf: {status: true, settings: [{name: sensor.wafdfltnv, action: deny}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import RULE_KINDS, spec

ID = "sensor-settings"
LEVEL = "error"
DESCRIPTION = "dlp/waf settings do not name the reserved sensors sensor.dlpdfltnv and sensor.wafdfltnv (S29)."
RESERVED = {"dlp": "sensor.dlpdfltnv", "waf": "sensor.wafdfltnv"}  # share/clus_apis.go:2555,2562


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in objects:
        if obj.data.get("kind") not in RULE_KINDS:
            continue
        for section, reserved in RESERVED.items():
            value = spec(obj).get(section)
            settings = value.get("settings") if isinstance(value, dict) else None
            for index, setting in enumerate(settings if isinstance(settings, list) else []):
                if isinstance(setting, dict) and setting.get("name") == reserved:
                    yield Hit(obj, ("spec", section, "settings", index, "name"),
                              f"{reserved} is NeuVector's own default sensor"
                              + says("S29", f"validate error: cannot use reserved sensor name{reserved}"),
                              "name a sensor of your own (an NvDlpSecurityRule/NvWafSecurityRule)")
