"""The diff's fast paths (identical objects skipped, rendered trees loaded without marks) change
nothing a user sees: what they skip is what the slow path finds nothing in."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy.diff import diff_objects, identical
from nvpolicy.diff.load import load_tree
from nvpolicy.emit import dump_all
from nvpolicy.errors import SourceError
from nvpolicy.fastload import load_documents
from nvpolicy.source import load_text

from tests.conftest import EXAMPLES, run_nvpolicy


def _rule(status: Any) -> dict[str, Any]:
    return {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule", "metadata": {"name": "a", "namespace": "n"},
            "spec": {"target": {"policymode": "Protect", "selector": {"name": "nv.a.n"}}, "dlp": {"status": status}}}


@pytest.mark.parametrize("before, after", [(1, True), (1, 1.0), (0, False), ("1", 1)])
def test_values_equal_to_python_but_of_another_type_are_still_a_change(before: Any, after: Any) -> None:
    assert not identical(_rule(before), _rule(after))
    result = diff_objects([_rule(before)], [_rule(after)])
    assert [c.details for o in result.objects for c in o.changes] == [(f"spec.dlp.status: {before} -> {after}",)]


def test_identical_objects_are_skipped_and_report_nothing() -> None:
    assert identical(_rule(True), copy.deepcopy(_rule(True)))
    assert diff_objects([_rule(True)], [_rule(True)]).empty


def test_key_order_alone_is_identical_and_list_order_is_not() -> None:
    assert identical({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1})
    assert not identical({"a": [1, 2]}, {"a": [2, 1]})
    assert not identical({"a": (1, 2)}, {"a": [1, 2]})


# --- the fast load of rendered trees -----------------------------------------------------------------------------

def _full(text: str) -> list[Any] | None:
    """What the full loader reads, or None when it refuses the text."""
    try:
        return [document.data for document in load_text(text, "t.yaml")]
    except SourceError:
        return None


def _agrees(text: str) -> bool:
    """The fast load reads what the full loader reads, or declines; it never accepts what the full one refuses."""
    fast = load_documents(text)
    return fast is None or (_full(text) is not None and identical(fast, _full(text)))


def test_fast_load_reads_the_corpus_as_the_full_loader_does() -> None:
    files = sorted({*Path(__file__).parent.rglob("*.yaml"), *EXAMPLES.glob("*.yaml")})
    read = 0
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:  # bad inputs that never reach a YAML parser
            continue
        assert _agrees(text), path
        read += load_documents(text) is not None
    # Rendered output is what the fast path exists for: all of it is read without the full loader.
    rendered = sorted((Path(__file__).parent / "diff_cases").rglob("*.yaml"))
    assert rendered and all(load_documents(p.read_text(encoding="utf-8")) is not None for p in rendered)
    assert read > len(files) / 2


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",  # duplicate key
    "a: {b: 1, b: 1}\n",
    "base: &b {x: 1}\nuse: *b\n",  # anchors and aliases
    "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",  # merge key
    "a: !!str 3\n", "a: !custom x\n", "!!map {a: 1}\n",  # tags
    "1: a\n", "true: a\n", "null: a\n", "~: a\n", "? [a]\n: b\n",  # keys that are not strings
    "a: <<\n",
    "a: [1, 2\n", "a:\n\tb: 1\n", "a: b: c\n", "- a\nb: 1\n",  # invalid YAML
    "a: " + "[" * 150 + "]" * 150 + "\n",  # nesting beyond MAX_DEPTH
    "a: " + "9" * 4400 + "\n", "a: 0x" + "f" * 4000 + "\n",  # integers past 4,300 digits
])
def test_fast_load_declines_what_the_full_loader_refuses_or_treats_specially(text: str) -> None:
    assert load_documents(text) is None
    assert _agrees(text)


@pytest.mark.parametrize("text", [
    "op: =\nwhen: 2001-12-14\nnum: 012\nhex: 0x1F\nf: 1.5e3\ninf: .inf\ny: yes\nn: No\nnil: ~\nN: Null\nt: 12:30:00\n",
    "'1': a\n\"true\": b\n'=': c\nk: '~'\nq: \"null\"\nblock: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
    "---\n---\n~\n---\nnull\n---\nNULL\n---\na: 1\n...\n---\n'~'\n---\n- x\n",  # empty and odd documents
    "", "# only a comment\n", "a: []\nb: {}\nc:\nd: ''\n",
    "\ufeffa: 1\n", "a: [1, {b: [c, {d: e}]}]\n",
    "a: " + "[" * 99 + "]" * 99 + "\n",  # as deep as the full loader goes
])
def test_fast_load_reads_plain_yaml_exactly_as_the_full_loader(text: str) -> None:
    fast = load_documents(text)
    assert fast is not None and _full(text) is not None
    assert identical(fast, _full(text))


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                     st.sampled_from(["", "=", "~", "null", "yes", "0x1F", "012", "1.0", "2001-12-14", "<<", "&a",
                                      "*a", "!x", "a: b", "- x", "#", "tcp/80", "'", '"']),
                     st.text(max_size=8))
_data = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                     max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(data=st.lists(_data, min_size=1, max_size=3), flow=st.sampled_from([None, True, False]))
def test_fast_load_agrees_with_the_full_loader_on_any_dumped_data(data: list[Any], flow: bool | None) -> None:
    text = yaml.dump_all(data, Dumper=yaml.SafeDumper, default_flow_style=flow, allow_unicode=True)
    assert _agrees(text), text
    assert _agrees(dump_all(data)), dump_all(data)


def test_a_bad_file_in_a_rendered_tree_is_still_reported_with_its_line(tmp_path: Path) -> None:
    good = ("apiVersion: neuvector.com/v1\nkind: NvGroupDefinition\nmetadata:\n  name: g\n  namespace: n\n"
            "spec:\n  selector:\n    name: g\n")
    for side in ("old", "new"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "new" / "b.yaml").write_text(good.replace("  namespace: n\n", "  namespace: n\n  name: h\n"),
                                             encoding="utf-8")
    result = run_nvpolicy("diff", "--old", str(tmp_path / "old"), "--new", str(tmp_path / "new"))
    assert result.returncode == 2
    assert "new/b.yaml:6:3: error: duplicate key 'name': first defined on line 4" in result.stderr
    assert load_tree(tmp_path / "old") == [yaml.safe_load(good)]
