"""validate reads files with the marks-free loader and makes marks only for a file with a finding:
every finding (file:line:column, level, message, path, hint) and every object must be what the full
loader gives. The full loader alone is what validate did before (the fast loader declining every file).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy import fastload, source
from nvpolicy.inputs import PolicySourceError, load_objects
from nvpolicy.model import Finding, RenderedObject
from nvpolicy.rules import CheckSettings
from nvpolicy.validate import validate_objects

from tests.conftest import EXAMPLES, NVPOLICY, REPO

CORPUS = Path(__file__).parent / "validate_corpus"


def _validate(files: list[tuple[Path, str]], apply_path: str = "crd") -> tuple[list[Any], list[Finding]]:
    objects, findings = load_objects(files)
    findings = findings + validate_objects(objects, CheckSettings(apply_path))
    return [_object(obj) for obj in objects], findings


def _object(obj: RenderedObject) -> tuple[Any, ...]:
    return obj.data, obj.source.file, obj.source.index


def _full_loader_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastload, "load_indexed", lambda text: None)


def _both(files: list[tuple[Path, str]], monkeypatch: pytest.MonkeyPatch,
          apply_path: str = "crd") -> tuple[Any, Any]:
    fast = _validate(files, apply_path)
    with monkeypatch.context() as patch:
        _full_loader_only(patch)
        full = _validate(files, apply_path)
    return fast, full


def _files(folder: Path) -> list[tuple[Path, str]]:
    return [(path, path.name) for path in sorted(folder.glob("*.yaml"))]


@pytest.mark.parametrize("apply_path", ["crd", "rest"])
def test_the_corpus_and_neuvectors_examples_give_the_full_loaders_findings(
        apply_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(CORPUS) + _files(EXAMPLES)
    fast, full = _both(files, monkeypatch, apply_path)
    assert fast == full
    assert len(fast[1]) > len(files) // 2  # the corpus is nearly all findings: the marks were made and read


def test_a_rendered_tree_gives_the_full_loaders_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    done = subprocess.run([str(NVPOLICY), "-C", str(tmp_path), "render", "--all"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    files = [(path, path.name) for path in sorted((tmp_path / "rendered").rglob("*.yaml"))]
    fast, full = _both(files, monkeypatch)
    assert fast == full and len(fast[0]) >= 4


def test_a_clean_file_is_never_read_for_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = source.load_text

    def counting(text: str, name: str) -> Any:
        calls.append(name)
        return real(text, name)

    monkeypatch.setattr("nvpolicy.inputs.load_text", counting)
    clean = EXAMPLES / "neuvector-docs_usingcrd_sample-exported-crd.yaml"
    objects, findings = _validate([(clean, clean.name)])
    assert objects and not findings and calls == []
    flagged = EXAMPLES / "neuvector-issue-1283_nvclustersecurityrule-address.yaml"
    _, findings = _validate([(flagged, flagged.name)])
    assert [f.location.line for f in findings] == [19] and calls == [flagged.name]


_CORPUS_TEXTS = sorted(path.read_text(encoding="utf-8") for path in CORPUS.glob("*.yaml"))
_SEPARATORS = st.sampled_from(["---\n", "---\n---\n", "---\n~\n---\n", "---\nnull\n---\n", "--- |\n  text\n---\n"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(_CORPUS_TEXTS), min_size=1, max_size=4), separators=st.data(),
       anchor=st.booleans())
def test_several_documents_empty_ones_between_give_the_full_loaders_findings(
        parts: list[str], separators: st.DataObject, anchor: bool, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Empty and scalar documents shift the document index; an anchor sends the file to the full loader.
    text = parts[0]
    for part in parts[1:]:
        text += separators.draw(_SEPARATORS) + part
    if anchor:
        text += "---\nx: &a 1\ny: *a\n"
    path = tmp_path_factory.mktemp("multi") / "multi.yaml"
    path.write_text(text, encoding="utf-8")
    fast, full = _both([(path, path.name)], monkeypatch)
    assert fast == full


@pytest.mark.parametrize("value", ['"{{ namespace }}"', "'x {{ namespace }}'", r'"\x7b{ namespace }}"',
                                   r'"{\u007b namespace }}"', '"{\\\n  { namespace }}"'])
def test_a_placeholder_is_refused_however_it_is_written(value: str, tmp_path: Path) -> None:
    # The deep look for "{{" is skipped only when the text holds neither "{{" nor a backslash (an escape).
    path = tmp_path / "policy.yaml"
    path.write_text(f"apiVersion: neuvector.com/v1\nkind: NvSecurityRule\nmetadata:\n  name: {value}\n",
                    encoding="utf-8")
    with pytest.raises(PolicySourceError) as raised:
        load_objects([(path, path.name)])
    assert raised.value.location is not None and raised.value.location.line == 4
