"""The rules' shared walk (nvpolicy.rules._walk.Walk) changes speed, never findings.

``run_rules`` hands every rule one walk over the run's objects; a rule called on its own walks
the objects itself. Over the invalid corpus (every import check fires somewhere), both ways
must give the same hits in the same order.
"""

from __future__ import annotations

from pathlib import Path

from nvpolicy.inputs import load_objects
from nvpolicy.model import RenderedObject
from nvpolicy.rules import IMPORT_CHECKS, RuleContext, load_rules, run_rules
from nvpolicy.rules._walk import Walk, network_rules_by_object, selectors, targets

CORPUS = Path(__file__).parent / "validate_corpus"


def _corpus() -> list[RenderedObject]:
    objects, _ = load_objects([(path, path.name) for path in sorted(CORPUS.glob("*.yaml"))])
    assert len(objects) >= 30
    return list(objects)


def test_shared_walk_gives_the_same_hits_as_each_rule_walking_alone() -> None:
    objects = _corpus()
    fired = set()
    for rule in load_rules(IMPORT_CHECKS):
        alone = [(hit.obj.id, hit.path, hit.message, hit.hint) for hit in rule.check(objects, RuleContext())]
        shared = [(f.object_id, f.path, f.message, f.hint) for f in run_rules(objects, [rule])]
        assert shared == alone, rule.ID
        fired |= {rule.ID} if alone else set()
    assert fired == {rule.ID for rule in load_rules(IMPORT_CHECKS)}


def test_a_walk_over_other_objects_is_not_used() -> None:
    objects = _corpus()
    first, rest = objects[:1], objects[1:]
    context = RuleContext(walk=Walk(first))
    assert [s.obj for s in selectors(rest, context)] == [s.obj for s in selectors(rest)]
    assert len(selectors(rest, context)) > len(selectors(first, context))
    assert [s.path for s in targets(rest, context)] == [s.path for s in targets(rest)]
    assert len(network_rules_by_object(rest, context)) == len(network_rules_by_object(rest))


def test_a_walk_is_done_once_per_run() -> None:
    objects = _corpus()
    walk = Walk(objects)
    context = RuleContext(walk=walk)
    assert selectors(objects, context) is selectors(objects, context) is walk.selectors
    assert network_rules_by_object(objects, context) is walk.network_rules
    assert all(selector.role == "target" for selector in targets(objects, context))
