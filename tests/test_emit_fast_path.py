"""The emitter's fast path writes exactly PyYAML's bytes, for any data (it falls back where it must)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy.emit import _pyyaml_dump, dump_all

from tests.conftest import REPO

# Names, selectors and values as policies hold them, and text that is anything but.
_WORDS = st.sampled_from(["name", "namespace", "criteria", "key", "op", "value", "ports", "action", "allow",
                          "tcp/5432", "nv.orders.shop", "yes", "no", "on", "1:20", "0x1F", "08", "1e3", "=",
                          "<<", "~", "null", "-", "- x", "a: b", "#c", "*.example.com", "{{ x }}", "'", '"',
                          "", " ", "x ", "\t", "ü", "\u2028", "a\nb", "k" * 129, "é" * 70])
_TEXT = st.one_of(_WORDS, st.text(max_size=40), st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
_SCALARS = st.one_of(_TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_TEXT, inner, max_size=4)), max_leaves=25)
_DOCUMENTS = st.lists(st.one_of(st.dictionaries(_TEXT, _VALUES, max_size=6), _VALUES), min_size=1, max_size=3)


@settings(max_examples=400, deadline=None)
@given(_DOCUMENTS)
def test_fast_path_bytes_equal_pyyaml(documents: list[Any]) -> None:
    assert dump_all(documents) == _pyyaml_dump(documents)


def test_fast_path_bytes_equal_pyyaml_on_every_golden_output() -> None:
    # Rendered golden outputs, diff and import inputs, the reference exports (not the bad-input
    # corpora: some of their files are built to exhaust a YAML loader).
    folders = [REPO / "tests" / "cases", REPO / "tests" / "diff_cases", REPO / "tests" / "import_data",
               REPO / "policies", REPO.parent / "shared" / "reference" / "examples"]
    compared = 0
    for path in sorted(file for folder in folders for file in folder.rglob("*.yaml")):
        if "error-" in str(path):
            continue
        try:
            documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]
        except yaml.YAMLError:  # NeuVector's unquoted `op: =` is no YAML 1.1 a safe loader takes
            continue
        if documents:
            assert dump_all(documents) == _pyyaml_dump(documents), path
            compared += 1
    assert compared > 40


def test_fast_path_is_taken_for_policy_documents(monkeypatch: Any) -> None:
    import nvpolicy.emit as emit

    calls: list[Any] = []
    real = emit._pyyaml_dump
    monkeypatch.setattr(emit, "_pyyaml_dump", lambda values: calls.append(values) or real(values))
    document = {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
                "metadata": {"name": "nv.orders.shop", "namespace": "shop"},
                "spec": {"egress": [{"action": "allow", "ports": "tcp/5432", "name": "a-to-b",
                                     "selector": {"name": "nv.db.shop", "criteria": []}}]}}
    text = emit.dump_all([document, document])
    assert text.count("kind: NvSecurityRule") == 2
    assert all(values[0] != document for values in calls)  # only lone scalars were asked of PyYAML
    assert Path  # keep the import used by type checkers honest
