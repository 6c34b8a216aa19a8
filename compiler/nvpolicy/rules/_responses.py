"""The response rules of a run (a helper, not a rule): group ``response[]`` entries and NvResponseRuleSecurityRule."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from nvpolicy.model import Path, RenderedObject
from nvpolicy.rules._kinds import FED_PREFIX, entries
from nvpolicy.rules._walk import RULE_KINDS, of_kind, spec, target

if TYPE_CHECKING:
    from nvpolicy.rules import RuleContext


def response_rules(objects: Sequence[RenderedObject], context: RuleContext | None = None
                   ) -> Iterator[tuple[RenderedObject, Path, dict[str, Any], bool]]:
    """Each (object, path, rule, of a federal group) for every response rule in ``objects``."""
    for obj in of_kind(objects, context, *sorted(RULE_KINDS)):
        found = list(entries(spec(obj).get("response")))
        if not found:
            continue  # most rule objects: no target selector to build
        selector = target(obj)
        federal = selector is not None and selector.name.startswith(FED_PREFIX)
        for index, rule in found:
            yield obj, ("spec", "response", index), rule, federal
    for obj in of_kind(objects, context, "NvResponseRuleSecurityRule"):
        single = spec(obj).get("rule")
        if isinstance(single, dict):
            yield obj, ("spec", "rule"), single, False
