"""The CLI fits people's habits: fixed choices listed and checked with a did-you-mean, -o/--out on every
command that writes, one --env where a command takes one, render --out -, render --summary json,
NVPOLICY_CONTROLLER, counts in English.

In-process (``nvpolicy.cli.main``): what is tested is option parsing and messages, not the process.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from nvpolicy.choices import check_choice, choice_help, plural
from nvpolicy.cli import main
from nvpolicy.errors import NvPolicyError

from tests.conftest import tree_bytes


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def flat_help(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    return re.sub(r"\s+", " ", out)


@pytest.mark.parametrize(("command", "listed"), [
    (("render",), "Layout: crds, list or json."),
    (("render",), "text or json."),
    (("diff",), "Output format: text, markdown or json."),
    (("propose",), "Output format: markdown or json."),
    (("init",), "Output format: text or json."),
    (("envs",), "Output format: text or json."),
    (("rules",), "Output format: text or markdown."),
    (("validate",), "Output format: text, json, sarif, github or codequality."),
    (("pull",), "Discover, Monitor or Protect."),
    (("publish",), "Output format: text or json."),
    (("import",), "Output format: text or json."),
])
def test_help_lists_every_fixed_choice(capsys: pytest.CaptureFixture[str], command: tuple[str, ...],
                                       listed: str) -> None:
    assert listed in flat_help(capsys, *command)


@pytest.mark.parametrize(("argv", "wrong", "meant"), [
    (("diff", "--format", "mardown", "--old", "a", "--new", "b"), "'mardown'", "'markdown'"),
    (("render", "--env", "dev", "--format", "crd"), "'crd'", "'crds'"),
    (("render", "--env", "dev", "--summary", "jsn"), "'jsn'", "'json'"),
    (("envs", "--format", "JSON"), "'JSON'", "'json'"),
    (("validate", "x.yaml", "--format", "sraif"), "'sraif'", "'sarif'"),
    (("propose", "-", "--format", "md", "-n", "dev"), "'md'", None),
])
def test_a_wrong_choice_is_refused_with_did_you_mean(capsys: pytest.CaptureFixture[str], example_project: Path,
                                                     argv: tuple[str, ...], wrong: str, meant: str | None) -> None:
    code, _, err = run(capsys, "-C", str(example_project), *argv)
    assert code == 2
    assert f"{wrong} is not one of" in err
    assert (f"did you mean {meant}?" in err) if meant else ("did you mean" not in err)


def test_choice_helpers() -> None:
    assert choice_help("Format", ("a",)) == "Format: a."
    assert check_choice("--x", "b", ("a", "b")) == "b"
    with pytest.raises(NvPolicyError) as refused:
        check_choice("--x", "Bb", ("a", "bb"))
    assert refused.value.hint == "did you mean 'bb'?"
    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]


@pytest.mark.parametrize("command", ["render", "diff", "pull", "events", "import", "propose", "lint", "schema"])
def test_out_is_spelled_both_ways_everywhere(capsys: pytest.CaptureFixture[str], command: str) -> None:
    shown = flat_help(capsys, command)
    assert "-o, --out" in shown or "--out, -o" in shown, shown


def test_ci_codequality_takes_out_both_ways(capsys: pytest.CaptureFixture[str]) -> None:
    shown = flat_help(capsys, "ci", "codequality")
    assert "-o, --out" in shown


@pytest.mark.parametrize(("argv", "why"), [
    (("diff", "--env", "dev", "--env", "prod", "--base", "HEAD"), "diff compares one environment"),
    (("push", "--controller", "https://127.0.0.1:1", "--env", "dev", "-e", "qa"), "push imports one environment"),
    (("propose", "-", "--env", "dev", "--env", "qa"), "events come from one namespace"),
    (("publish", "--env", "dev", "--env", "qa", "--repo", "."), "publish commits one environment"),
])
def test_a_second_env_is_refused_where_one_is_taken(capsys: pytest.CaptureFixture[str], example_project: Path,
                                                     argv: tuple[str, ...], why: str) -> None:
    code, out, err = run(capsys, "-C", str(example_project), *argv)
    assert (code, out) == (2, "")
    assert "--env given 2 times" in err and why in err


def test_render_out_dash_streams_yaml_and_writes_nothing(capsys: pytest.CaptureFixture[str],
                                                         example_project: Path) -> None:
    before = tree_bytes(example_project)
    code, out, err = run(capsys, "-C", str(example_project), "render", "--env", "prod", "--out", "-")
    assert (code, err) == (0, "")
    documents = list(yaml.safe_load_all(out))
    assert documents and all(d["apiVersion"] == "neuvector.com/v1" for d in documents)
    assert tree_bytes(example_project) == before  # nothing written, no rendered/
    # The same objects as the written tree, in its file order; the same bytes on every run.
    assert run(capsys, "-C", str(example_project), "render", "--env", "prod")[0] == 0
    written = [yaml.safe_load(text) for path, text in sorted(tree_bytes(example_project / "rendered" / "prod").items())
               if not path.endswith("kustomization.yaml")]
    assert documents == written
    assert run(capsys, "-C", str(example_project), "render", "-e", "prod", "-o", "-")[1] == out


def test_render_out_dash_list_layout(capsys: pytest.CaptureFixture[str], example_project: Path) -> None:
    code, out, _ = run(capsys, "-C", str(example_project), "render", "--env", "dev", "--format", "list", "-o", "-")
    assert code == 0 and {d["kind"] for d in yaml.safe_load_all(out)} == {"List"}


@pytest.mark.parametrize(("extra", "why"), [
    (("--all",), "--all renders every one"),
    (("--env", "dev", "--env", "qa"), "takes one environment"),
    (("--env", "dev", "--summary", "json"), "both write to stdout"),
])
def test_render_out_dash_refusals(capsys: pytest.CaptureFixture[str], example_project: Path,
                                  extra: tuple[str, ...], why: str) -> None:
    code, out, err = run(capsys, "-C", str(example_project), "render", "--out", "-", *extra)
    assert (code, out) == (2, "") and why in err
    assert not (example_project / "rendered").exists()


def test_render_summary_json(capsys: pytest.CaptureFixture[str], example_project: Path) -> None:
    code, out, _ = run(capsys, "-C", str(example_project), "render", "--all", "--summary", "json")
    assert code == 0
    shown = json.loads(out)["environments"]
    assert [e["env"] for e in shown] == ["dev", "prod", "qa"]
    for entry in shown:
        files = tree_bytes(example_project / entry["target"])
        assert sorted(entry["files"]) == sorted(files) and entry["layout"] == "crds"
        assert entry["objects"] == len(files) - 1  # one file per object plus kustomization.yaml
    # --format json is the same report (the crds layout), as every command's --format json is.
    again, out_again, _ = run(capsys, "-C", str(example_project), "render", "--all", "--format", "json")
    assert again == 0 and json.loads(out_again) == json.loads(out)


def test_render_all_reports_every_environment_error(capsys: pytest.CaptureFixture[str],
                                                    example_project: Path) -> None:
    for name in ("dev", "qa"):
        path = example_project / "environments" / f"{name}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "nmespace: typo\n", encoding="utf-8")
    code, out, err = run(capsys, "-C", str(example_project), "render", "--all")
    assert (code, out) == (2, "")
    assert "environments/dev.yaml" in err and "environments/qa.yaml" in err
    assert not (example_project / "rendered").exists()


def test_controller_url_is_asked_for_when_neither_option_nor_variable(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NVPOLICY_CONTROLLER", raising=False)
    code, out, err = run(capsys, "pull", "--group", "nv.a.b")
    assert (code, out) == (2, "") and "--controller" in err
    assert "NVPOLICY_CONTROLLER" in flat_help(capsys, "events")


def test_import_json_names_files_peers_and_env_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.conftest import EXAMPLES

    sample = EXAMPLES / "neuvector-docs_usingcrd_sample-exported-crd.yaml"
    code, out, err = run(capsys, "-C", str(tmp_path), "import", str(sample), "-n", "demo", "--env-out",
                         "environments/demo.yaml", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml"))
    assert sorted(shown["written"]) == written and "environments/demo.yaml" in written
    assert shown["env_file"] == "environments/demo.yaml" and shown["env_file_written"] is True
    assert shown["peers"]["test"] == {"address": "google.com", "group": "test", "port": 443}
    assert shown["conflicts"] == []
    code, out, err = run(capsys, "-C", str(tmp_path), "import", str(sample), "-o", "-", "--format", "json")
    assert (code, out) == (2, "") and "both write to stdout" in err


@pytest.mark.parametrize(("overrides", "policy_edit", "meant"), [
    (("--set", "namespce=x"), None, "did you mean 'namespace'? (top-level keys: "),
    (("--set", "peers.db.prot=1"), None, "did you mean 'port'? (keys here: service, namespace, port)"),
    ((), ("{{ peers.db.port }}", "{{ peers.db.prot }}"), "did you mean 'port'? Or add prot: to peers.db"),
    ((), ("{{ peers.db.port }}", "{{ vars.prot }}"), "did you mean 'port'?"),
])
def test_misspelt_keys_and_names_get_a_did_you_mean(capsys: pytest.CaptureFixture[str], example_project: Path,
                                                   overrides: tuple[str, ...], policy_edit: tuple[str, str] | None,
                                                   meant: str) -> None:
    env_file = example_project / "environments" / "dev.yaml"
    env_file.write_text(env_file.read_text(encoding="utf-8") + "vars:\n  port: 5432\n", encoding="utf-8")
    if policy_edit:
        policy = example_project / "policies" / "postgres.yaml"
        text = policy.read_text(encoding="utf-8")
        assert policy_edit[0] in text
        policy.write_text(text.replace(policy_edit[0], policy_edit[1]), encoding="utf-8")
    code, out, err = run(capsys, "-C", str(example_project), "render", "--env", "dev", "-o", "-", *overrides)
    assert (code, out) == (2, "")
    assert f"hint: {meant}" in err


def test_a_when_no_environment_satisfies_is_a_lint_warning(capsys: pytest.CaptureFixture[str],
                                                           example_project: Path) -> None:
    policy = example_project / "policies" / "postgres.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "env == 'dev'" in text
    code, out, _ = run(capsys, "-C", str(example_project), "lint", "--env", "prod")
    assert code == 0 and "unreachable-when" not in out
    policy.write_text(text.replace("env == 'dev'", "env == 'dve'"), encoding="utf-8")
    code, out, _ = run(capsys, "-C", str(example_project), "lint", "--env", "prod")
    assert code == 0  # a warning
    assert "policies/postgres.yaml:4:7: [warning] when: admits none of the environments (dev, prod, qa)" in out
    assert "(unreachable-when)" in out
