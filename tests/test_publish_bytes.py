"""What publish commits is exactly what it wrote: no .gitignore drops it, no attribute or autocrlf rewrites it.

And "unchanged" does not flap: a checkout whose line endings git converted (``eol=crlf``,
``core.autocrlf``) or whose encoding it converted is not a change, and a second publish of the
same policy commits nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import tree_bytes
from tests.publish_helpers import commit_all, commit_count, git, head, init_repo, publish
from tests.test_publish_git_isolation import assert_committed_exactly

CLUSTER_POLICY = """\
apiVersion: neuvector.com/v1
kind: NvClusterSecurityRule
metadata:
  name: "allow-dns-{{ env }}"
spec:
  target:
    policymode: N/A
    selector: {name: containers, criteria: [{key: container, op: "=", value: "*"}]}
  egress:
    - name: "dns-{{ env }}"
      action: allow
      applications: [DNS]
      ports: udp/53
      priority: 10
      selector:
        name: nv.kube-dns.kube-system
        criteria:
          - {key: service, op: "=", value: kube-dns.kube-system}
          - {key: domain, op: "=", value: kube-system}
"""


@pytest.fixture
def source(example_project: Path) -> Path:
    init_repo(example_project)
    (example_project / "policies" / "cluster.yaml").write_text(CLUSTER_POLICY, encoding="utf-8")
    commit_all(example_project, "policies")
    return example_project


def kustomization_resources(deploy: Path, subdir: str) -> list[str]:
    text = git(deploy, "show", f"HEAD:{subdir}/kustomization.yaml")
    return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")]


@pytest.mark.parametrize("ignored", [["*.yaml", "_cluster/", ".*", "!.gitignore"], ["*", "!.gitignore"], ["dev/"]])
def test_what_publish_owns_is_committed_despite_the_deploy_gitignore(
        source: Path, tmp_path: Path, ignored: list[str]) -> None:
    deploy = init_repo(tmp_path / "deploy", {"README.md": "deploy repo\n"})
    (deploy / ".gitignore").write_text("".join(f"{line}\n" for line in ignored), encoding="utf-8")
    git(deploy, "add", "-f", ".gitignore")
    git(deploy, "commit", "-q", "-m", "ignore")
    result = publish(source, deploy)
    assert result.returncode == 0, result.stderr
    assert (deploy / "dev" / "_cluster").is_dir() and (deploy / "dev" / ".nvpolicy-owned").is_file()
    assert_committed_exactly(deploy)
    committed = git(deploy, "ls-tree", "-r", "--name-only", "HEAD", "dev/").splitlines()
    assert "dev/.nvpolicy-owned" in committed
    for resource in kustomization_resources(deploy, "dev"):
        assert f"dev/{resource}" in committed, resource
    again = publish(source, deploy)
    assert again.returncode == 0 and "no changes" in again.stdout, again.stderr
    (source / "policies" / "cluster.yaml").unlink()
    commit_all(source, "drop the cluster rule")
    removed = publish(source, deploy)
    assert removed.returncode == 0, removed.stderr
    assert "1 removed" in removed.stdout
    assert not any("_cluster" in path for path in git(deploy, "ls-tree", "-r", "--name-only", "HEAD").splitlines())
    assert_committed_exactly(deploy)


# How a deploy repo (or its user) asks git to rewrite bytes between the work tree and the repo.
CONVERSIONS = {
    "eol-crlf": ({}, "* text eol=crlf\n"),
    "autocrlf-local": ({"core.autocrlf": "true"}, None),
    "autocrlf-global": ({"core.autocrlf": "true", "core.eol": "crlf"}, None),
    "text-auto-crlf": ({"core.eol": "crlf", "core.safecrlf": "true"}, "* text=auto\n"),
    "ident": ({}, "* ident\n"),
    "working-tree-encoding": ({}, "*.yaml working-tree-encoding=UTF-16\n"
                                  ".nvpolicy-owned working-tree-encoding=UTF-16\n"),
}


def convert(deploy: Path, tmp_path: Path, case: str) -> dict[str, str]:
    """Apply a CONVERSIONS case to deploy; returns the environment publish needs for a global config."""
    settings, attributes = CONVERSIONS[case]
    if attributes:
        (deploy / ".gitattributes").write_text(attributes, encoding="utf-8")
        git(deploy, "add", ".gitattributes")
        git(deploy, "commit", "-q", "-m", "attributes")
    if not case.endswith("-global"):
        for key, value in settings.items():
            git(deploy, "config", key, value)
        return {}
    config = tmp_path / "global.gitconfig"
    for key, value in settings.items():
        git(deploy, "config", "--file", str(config), key, value)
    return {"GIT_CONFIG_GLOBAL": str(config)}


@pytest.mark.parametrize("case", sorted(CONVERSIONS))
def test_line_ending_and_encoding_conversion_neither_change_the_commit_nor_make_it_flap(
        source: Path, tmp_path: Path, case: str) -> None:
    if case == "ident":  # a `$Id$` in the policy, which git's ident attribute expands on checkout
        orders = source / "policies" / "orders.yaml"
        orders.write_text(orders.read_text(encoding="utf-8").replace("path: /pause", "path: /opt/$Id$/pause"),
                          encoding="utf-8")
        commit_all(source, "an ident keyword")
    origin = init_repo(tmp_path / "origin", {"README.md": "deploy repo\n"})
    extra = convert(origin, tmp_path, case)
    first = publish(source, origin, extra_env=extra)
    assert first.returncode == 0, first.stderr
    assert_committed_exactly(origin)
    published = tree_bytes(origin / "dev")
    assert all(b"\r" not in data for data in published.values())

    # A clone checks the files out converted (CRLF, UTF-16): still the same policy, nothing to commit.
    clone = tmp_path / "clone"
    settings = [part for key, value in CONVERSIONS[case][0].items() for part in ("-c", f"{key}={value}")]
    git(tmp_path, "clone", "-q", *settings, str(origin), str(clone))
    assert tree_bytes(clone / "dev") != published, "the checkout was not converted"
    before = head(clone)
    unchanged = publish(source, clone, extra_env=extra)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "no changes" in unchanged.stdout and head(clone) == before

    (source / "policies" / "postgres.yaml").unlink()
    commit_all(source, "drop postgres")
    changed = publish(source, clone, extra_env=extra)
    assert changed.returncode == 0, changed.stderr
    assert "0 added, 0 changed, 1 removed" in changed.stdout  # converted files are not "changed"
    assert commit_count(clone) == commit_count(origin) + 1
    assert_committed_exactly(clone)
    # Files publish wrote itself, under the conversion: a second run finds nothing to do (no flapping).
    again = publish(source, clone, extra_env=extra)
    assert again.returncode == 0 and again.stdout.endswith("nothing committed\n"), again.stdout + again.stderr
