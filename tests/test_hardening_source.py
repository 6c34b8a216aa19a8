"""Source-loading errors found by the bad-input corpus."""

from __future__ import annotations

import pytest
from nvpolicy.errors import SourceError
from nvpolicy.source import load_text


@pytest.mark.parametrize("text", ["a: 1\nb:\n\tc: 2\n", "a:\n  - x\n\t- y\n"])
def test_tab_indentation_gets_the_tab_hint(text: str) -> None:
    with pytest.raises(SourceError) as caught:
        load_text(text, "policies/tab.yaml")
    assert caught.value.hint == "indent with spaces; YAML does not allow tabs"
    assert caught.value.location is not None and caught.value.location.line == 3


@pytest.mark.parametrize("depth", [150, 990])
def test_deep_nesting_is_refused_before_building(depth: int) -> None:
    text = "spec: {target: " + "[" * depth + "]" * depth + "}\n"
    with pytest.raises(SourceError) as caught:
        load_text(text, "policies/deep.yaml")
    assert caught.value.message == "document nests deeper than 100 levels"
    location = caught.value.location
    assert location is not None and (location.file, location.line) == ("policies/deep.yaml", 1)
    assert location.column > 100  # at the first value past the limit


def test_nesting_within_the_limit_loads() -> None:
    documents = load_text("a: " + "[" * 90 + "]" * 90 + "\n", "policies/ok.yaml")
    value = documents[0].data["a"]
    for _ in range(89):
        value = value[0]
    assert value == []
