"""Environment-file errors found by the bad-input corpus: each says what is wrong in words, not a regex."""

from __future__ import annotations

from pathlib import Path

import pytest
from nvpolicy.environment import load_environment
from nvpolicy.errors import EnvironmentFileError

from tests.conftest import write_tree


def test_address_refused_by_the_schema_pattern_is_explained(tmp_path: Path) -> None:
    write_tree(tmp_path, {"environments/test.yaml": "namespace: web\npolicy_mode: Monitor\n"
                                                    "peers:\n  db: {address: db@example.com}\n"})
    with pytest.raises(EnvironmentFileError) as caught:
        load_environment(tmp_path, "test")
    assert caught.value.message == ("address 'db@example.com' is not usable: "
                                    "not an IP, CIDR, IP range, DNS name, *.domain or vh:<name>")
    assert str(caught.value.location) == "environments/test.yaml:4:17"


def test_missing_parent_suggests_a_partial(tmp_path: Path) -> None:
    write_tree(tmp_path, {"environments/test.yaml": "extends: _bsae\nnamespace: web\n",
                          "environments/_base.yaml": "policy_mode: Monitor\n"})
    with pytest.raises(EnvironmentFileError) as caught:
        load_environment(tmp_path, "test")
    assert caught.value.hint is not None and caught.value.hint.startswith("did you mean '_base'?")
