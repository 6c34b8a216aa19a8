"""render runs the cross-object checks on ``rules._walk.cross_view`` of each object, not its whole data:
the findings must be the same, rule for rule, message, path, hint and location alike.

Compared on the cross-object rules' PASS/FAIL examples, on the validate corpus (file by file and
all at once, where files collide), on the bench's generated repo rendered for every environment,
and on random objects built from a few names and criteria (so targets, peers and definitions
meet), each with fields the view drops.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.inputs import load_objects
from nvpolicy.model import Finding, Marks, RenderedObject, SourceDocument
from nvpolicy.rules import IMPORT_CHECKS, RULE_MODULES, CheckSettings, load_rules, run_rules
from nvpolicy.rules._walk import cross_view

from tests.conftest import REPO

CORPUS = Path(__file__).parent / "validate_corpus"
# Every cross-object rule, the guardrail lint runs (guard-mode-contention) too: the view serves them all.
CROSS = tuple(rule for rule in load_rules(RULE_MODULES) if getattr(rule, "CROSS_OBJECT", False))
SETTINGS = (CheckSettings(), CheckSettings(apply_path="rest"), CheckSettings(ours=True))


def _findings(objects: Sequence[RenderedObject], check: CheckSettings) -> list[tuple[Any, ...]]:
    found: list[Finding] = run_rules(objects, CROSS, settings=check)
    return [(str(f), f.rule, f.level, f.message, f.object_id, f.path, f.hint, f.location) for f in found]


def _viewed(objects: Sequence[RenderedObject]) -> list[RenderedObject]:
    return [RenderedObject(cross_view(obj.data), obj.source) for obj in objects]


def _same(objects: Sequence[RenderedObject]) -> int:
    """Asserts equal findings both ways under every setting; returns how many there were."""
    count = 0
    for check in SETTINGS:
        whole = _findings(objects, check)
        assert _findings(_viewed(objects), check) == whole
        count += len(whole)
    return count


def test_the_view_is_smaller_and_keeps_the_id() -> None:
    objects, _ = load_objects([(path, path.name) for path in sorted(CORPUS.glob("*.yaml"))])
    for obj in objects:
        view = cross_view(obj.data)
        assert RenderedObject(view, obj.source).id == obj.id
        assert len(repr(view)) <= len(repr(obj.data))


def test_validate_corpus_file_by_file_and_together() -> None:
    paths = sorted(CORPUS.glob("*.yaml"))
    counted = 0
    for path in paths:
        objects, _ = load_objects([(path, path.name)])
        counted += _same(objects)
    objects, _ = load_objects([(path, path.name) for path in paths])
    together = _same(objects)
    # The corpus has a file per cross-object rule, and its files collide when read together.
    assert counted > 0 and together > counted
    found = {f[1] for check in SETTINGS for f in _findings(objects, check)}
    render_runs = {rule.ID for rule in load_rules(IMPORT_CHECKS) if getattr(rule, "CROSS_OBJECT", False)}
    assert render_runs <= found


@pytest.mark.parametrize("module", CROSS, ids=lambda m: m.ID)
def test_docstring_examples(module: Any) -> None:
    from tests.test_validate_rules import _example

    _same(_example(module, "PASS"))  # other rules may speak on a rule's example: all are compared
    failing = _example(module, "FAIL")
    _same(failing)
    assert any(f[1] == module.ID for check in SETTINGS for f in _findings(_viewed(failing), check))


@pytest.fixture(scope="module")
def bench_objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[RenderedObject]]:
    from nvpolicy.pipeline import render_environment

    repo = tmp_path_factory.mktemp("bench") / "repo"
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(repo), "--n", "40"],
                   check=True, capture_output=True)
    names = sorted(path.stem for path in (repo / "environments").glob("*.yaml") if not path.stem.startswith("_"))
    return {name: list(render_environment(repo, name, check=False).objects) for name in names}


def test_bench_corpus_every_environment(bench_objects: dict[str, list[RenderedObject]]) -> None:
    assert len(bench_objects) == 3
    for objects in bench_objects.values():
        assert len(objects) > 40
        _same(objects)
        # And every object twice (duplicate-object, group-consistency across CRs); rules tell
        # objects apart by identity, so the second is a copy.
        assert _same([*objects, *(RenderedObject(obj.data, obj.source) for obj in objects)]) > 0


_NAMES = st.sampled_from(["orders", "db", "nv.orders.dev", "nv.db.qa", "external", "containers", "nv.ip.db"])
_CRITERION = st.fixed_dictionaries({"key": st.sampled_from(["service", "domain", "label", "address"]),
                                    "op": st.sampled_from(["=", "!="]),
                                    "value": st.sampled_from(["orders", "dev", "qa", "db", "10.0.0.1"])})
_SELECTOR = st.fixed_dictionaries(
    {"name": _NAMES},
    optional={"criteria": st.lists(_CRITERION, max_size=3), "name_referral": st.booleans(),
              "comment": st.text(max_size=5)})
_NOISE = st.dictionaries(st.sampled_from(["ports", "action", "applications", "priority", "comment"]),
                         st.text(max_size=5), max_size=3)
_RULE = st.one_of(st.builds(lambda sel, noise, name: {**noise, "selector": sel, "name": name},
                            _SELECTOR, _NOISE, st.text(max_size=4)),
                  st.just("not a mapping"))
_KIND = st.sampled_from(["NvSecurityRule", "NvClusterSecurityRule", "NvGroupDefinition"])


@st.composite
def _object(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(_KIND)
    metadata: dict[str, Any] = {"name": draw(_NAMES), "labels": {"a": "b"}}
    if draw(st.booleans()):
        metadata["namespace"] = draw(st.sampled_from(["dev", "qa", "neuvector"]))
    spec: dict[str, Any] = {}
    if kind == "NvGroupDefinition":
        spec["selector"] = draw(_SELECTOR)
    else:
        target: dict[str, Any] = {"selector": draw(_SELECTOR)}
        if draw(st.booleans()):
            target["policymode"] = draw(st.sampled_from(["Monitor", "Protect", "Discover", "N/A"]))
        spec["target"] = target
        spec["ingress"] = draw(st.lists(_RULE, max_size=3))
        spec["egress"] = draw(st.lists(_RULE, max_size=3))
        spec["process"] = [{"name": "curl", "action": "deny"}]
    return {"apiVersion": "neuvector.com/v1", "kind": kind, "metadata": metadata, "spec": spec}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_object(), min_size=1, max_size=6))
def test_random_objects(items: list[dict[str, Any]]) -> None:
    objects = [RenderedObject(data, SourceDocument(None, Marks(f"policies/p{number}.yaml"), 0))
               for number, data in enumerate(items)]
    _same(objects)
