"""The output writer's textual path check (it replaced a resolve() per file) still fences the output directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from nvpolicy.emit import OutputFile, replace_directory
from nvpolicy.errors import OutputError

from tests.conftest import tree_bytes


@pytest.mark.parametrize("path", ["../escape.yaml", "/tmp/escape.yaml", "a/../../escape.yaml", "a/../../../x/y.yaml",
                                  ""])
def test_paths_leaving_the_output_directory_are_refused(tmp_path: Path, path: str) -> None:
    target = tmp_path / "out" / "prod"
    replace_directory(target, [OutputFile("keep.yaml", "a: 1\n")])
    with pytest.raises(OutputError):
        replace_directory(target, [OutputFile("ns/fine.yaml", "b: 2\n"), OutputFile(path, "c: 3\n")])
    assert tree_bytes(target) == {"keep.yaml": b"a: 1\n"}
    assert sorted(p.name for p in tmp_path.rglob("*escape*")) == []


def test_nested_folders_are_created_once_and_written(tmp_path: Path) -> None:
    target = tmp_path / "prod"
    files = [OutputFile(f"ns{i % 3}/deep/f{i}.yaml", f"i: {i}\n") for i in range(9)] + [OutputFile("k.yaml", "k\n")]
    replace_directory(target, files)
    assert tree_bytes(target) == {f.path: f.text.encode() for f in files}
