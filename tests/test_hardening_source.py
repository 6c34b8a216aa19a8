"""Source-loading errors found by the bad-input corpus."""

from __future__ import annotations

import pytest

from compiler.errors import SourceError
from compiler.source import load_text


@pytest.mark.parametrize("text", ["a: 1\nb:\n\tc: 2\n", "a:\n  - x\n\t- y\n"])
def test_tab_indentation_gets_the_tab_hint(text: str) -> None:
    with pytest.raises(SourceError) as caught:
        load_text(text, "policies/tab.yaml")
    assert caught.value.hint == "indent with spaces; YAML does not allow tabs"
    assert caught.value.location is not None and caught.value.location.line == 3
