"""A long list of errors is cut, and says how many were left out instead of hiding them."""

from __future__ import annotations

import pytest
from nvpolicy.errors import ErrorGroup, NvPolicyError
from nvpolicy.pipeline import MAX_REPORTED_ERRORS, raise_all


def test_cut_error_list_counts_what_it_leaves_out() -> None:
    errors = [NvPolicyError(f"problem {number}") for number in range(MAX_REPORTED_ERRORS + 1000)]
    with pytest.raises(ErrorGroup) as caught:
        raise_all(errors)
    lines = caught.value.format_message().splitlines()
    assert len(lines) == MAX_REPORTED_ERRORS + 1
    assert lines[-1] == f"... and 1,000 more errors ({MAX_REPORTED_ERRORS} shown)"


def test_short_error_list_is_shown_whole() -> None:
    with pytest.raises(ErrorGroup) as caught:
        raise_all([NvPolicyError("a"), NvPolicyError("b")])
    assert caught.value.format_message() == "error: a\nerror: b"
