"""An output directory is replaced whole; it must never be one that holds the project's own files."""

from __future__ import annotations

from pathlib import Path

import pytest
from nvpolicy.errors import OutputError
from nvpolicy.pipeline import check_output_target


@pytest.mark.parametrize(
    ("relative", "fragment"),
    [
        (".", "holds the project itself"),
        ("..", "holds the project itself"),
        ("policies", "inside the project's policies/"),
        ("policies/team-a", "inside the project's policies/"),
        ("environments", "inside the project's environments/"),
        (".git/objects", "inside the project's .git/"),
        ("rendered/../policies", "inside the project's policies/"),
    ],
)
def test_output_over_the_project_files_is_refused(tmp_path: Path, relative: str, fragment: str) -> None:
    project = tmp_path / "project"
    (project / "policies").mkdir(parents=True)
    with pytest.raises(OutputError) as caught:
        check_output_target(project, project / relative)
    assert fragment in caught.value.message


@pytest.mark.parametrize("relative", ["rendered/prod", "out", "../elsewhere", "policies-out"])
def test_output_beside_the_sources_is_allowed(tmp_path: Path, relative: str) -> None:
    project = tmp_path / "project"
    (project / "policies").mkdir(parents=True)
    check_output_target(project, project / relative)
