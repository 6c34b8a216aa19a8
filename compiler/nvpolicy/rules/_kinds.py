"""Helpers for the rules of the non-group kinds (a helper, not a rule): names, quoting, federation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nvpolicy.model import RenderedObject

if TYPE_CHECKING:
    from nvpolicy.rules import RuleContext

FED_PREFIX = "fed."  # api.FederalGroupPrefix: a name with it makes the CR federal


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


def neuvector_says(text: str) -> str:
    """NeuVector's own error text, quoted as the controller writes it (typos included)."""
    return f'NeuVector: "{text.strip()}"'


def on_federation_primary(context: RuleContext | None) -> bool:
    """Whether the target cluster is known to be a federation primary, where ``fed.*`` objects are accepted.

    Until the environment says so (``federation_primary: true``), it is not: NeuVector refuses
    federal objects on every other cluster.
    """
    environment = context.environment if context is not None else None
    return getattr(environment, "federation_primary", False) is True
