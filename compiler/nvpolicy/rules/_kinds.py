"""Helpers for the rules of the non-group kinds (a helper, not a rule): names, quoting, federation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from nvpolicy.model import RenderedObject
from nvpolicy.nv.response import FED_PREFIX as FED_PREFIX  # a name with it makes the CR federal
from nvpolicy.nv.sensors import KINDS as SENSOR_KINDS
from nvpolicy.nv.sensors import SensorKind
from nvpolicy.rules._walk import of_kind, spec

if TYPE_CHECKING:
    from nvpolicy.rules import RuleContext


def name(obj: RenderedObject) -> str:
    metadata = obj.data.get("metadata")
    value = metadata.get("name") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else ""


def entries(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """The mapping items of a list, with their index (anything else yields nothing)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def admission_rules(objects: Sequence[RenderedObject],
                    context: RuleContext | None) -> Iterator[tuple[RenderedObject, int, dict[str, Any]]]:
    """(object, index, rule) for each rule in ``spec.rules`` of the NvAdmissionControlSecurityRules."""
    for obj in of_kind(objects, context, "NvAdmissionControlSecurityRule"):
        for index, rule in entries(spec(obj).get("rules")):
            yield obj, index, rule


def sensors(objects: Sequence[RenderedObject],
            context: RuleContext | None) -> Iterator[tuple[RenderedObject, dict[str, Any], SensorKind]]:
    """(object, ``spec.sensor``, DLP or WAF) for each NvDlpSecurityRule/NvWafSecurityRule with a sensor."""
    for obj in of_kind(objects, context, *SENSOR_KINDS):
        sensor = spec(obj).get("sensor")
        if isinstance(sensor, dict):
            yield obj, sensor, SENSOR_KINDS[str(obj.data.get("kind"))]


def neuvector_says(text: str) -> str:
    """NeuVector's own error text, quoted as the controller writes it (typos included)."""
    return f'NeuVector: "{text.strip()}"'


def on_federation_primary(context: RuleContext | None) -> bool:
    """Whether the target cluster is known to be a federation primary, where ``fed.*`` objects are accepted.

    Until the run says so (``--federation-primary``, or ``neuvector: {federation_primary: true}`` in
    the environment file), it is not: NeuVector refuses federal objects on every other cluster.
    """
    return context is not None and context.settings.federation_primary
