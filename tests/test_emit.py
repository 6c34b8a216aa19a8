"""The one emitter: YAML 1.1 and 1.2 readers read back exactly what was written."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy.emit import dump, object_path
from nvpolicy.model import ObjectId
from ruamel.yaml import YAML

_YAML12 = YAML(typ="safe", pure=True)
_YAML12.version = (1, 2)

TRICKY = ["=", "y", "n", "Y", "N", "yes", "No", "on", "OFF", "~", "null", "0o17", "0x1F", "017", "1:20", "1_000",
          "1e3", ".inf", "-.Inf", ".nan", "true", "False", "<<", "- a", ": x", "a: b", "#c", "'q'", '"d"', "@x",
          "`x", "%x", "!x", "&a", "*a", "|", ">", "?", "[a]", "{a}", "", " lead", "trail ", "multi\nline", "tab\t",
          "ünïcode", "0", "-1", "+1", "1.5", "0.", "12e", "tcp/5432", "*.example.com", "nv.orders.dev"]

scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029\ufeff"), max_size=20),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children,
                                                                                  max_size=4)),
    max_leaves=20,
)


def _normalise(value: Any) -> Any:
    # ruamel returns its own container types; compare as plain data
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(documents)
def test_yaml_1_1_and_1_2_readers_agree_with_what_was_written(value: Any) -> None:
    text = dump({"value": value})
    assert yaml.safe_load(text) == {"value": value}
    assert _normalise(_YAML12.load(text)) == {"value": value}


def test_tricky_strings_are_quoted_not_plain() -> None:
    text = dump({"values": ["=", "y", "no", "0o17", "1:20"]})
    assert text == "values:\n- '='\n- 'y'\n- 'no'\n- '0o17'\n- '1:20'\n"


def test_keys_in_fixed_order_no_anchors() -> None:
    shared = {"key": "service", "op": "=", "value": "a.b"}
    text = dump({"spec": {"z": 1, "target": {"selector": {"criteria": [shared, shared], "name": "n"}}},
                 "kind": "NvSecurityRule", "metadata": {"namespace": "b", "name": "a"}, "apiVersion": "v"})
    assert text.splitlines()[:5] == ["apiVersion: v", "kind: NvSecurityRule", "metadata:", "  name: a",
                                     "  namespace: b"]
    assert "&" not in text and "*" not in text


@given(st.text(max_size=300), st.text(max_size=300), st.sampled_from(["NvSecurityRule", "NvClusterSecurityRule"]))
def test_no_object_path_leaves_the_output_dir(name: str, namespace: str, kind: str) -> None:
    path = object_path(ObjectId(kind, namespace, name))
    parts = path.split("/")
    assert len(parts) == 2 and all(part not in ("", ".", "..") for part in parts)
    assert not path.startswith("/") and "\\" not in path and len(path) < 500
