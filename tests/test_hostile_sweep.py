"""A fuzz-style sweep: hostile values in every input slot of the CLI commands; never a crash.

Each hostile value (a list where a name goes, a 300-character name, a 4,400-digit number, a CRLF,
a runaway placeholder, …) is put into policy fields, environment fields, export and event fields
and command-line options, and each command that reads the slot runs through the real CLI entry
point (in-process, so hundreds of runs stay fast). Whatever the value, the command must end with
exit 0, 1 or 2 and at most clear messages: never exit 3 (an internal error), never a traceback.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from nvpolicy.cli import main

from tests.propose_payloads import ORDERS, REDIS, violation

BASE = Path(__file__).parent / "bad_inputs" / "_base"
EXPORT = Path(__file__).parent / "import_data" / "feature-6293-export.yaml"

# Hostile YAML values, as they would be written in a file (flow collections, huge numbers, tags…).
YAML_VALUES = {
    "list": "[x]",
    "mapping": "{a: b}",
    "long-name": "a" * 300,
    "long-dns-name": ".".join(["a" * 63] * 4),
    "huge-int": "9" * 4400,
    "huge-hex": "0x" + "f" * 4000,
    "sexagesimal": "1:20",
    "yes": "yes",
    "null": "null",
    "empty": "''",
    "crlf": '"a\\r\\nb"',
    "escape": '"\\e[2Jx"',
    "nul": '"a\\0b"',
    "traversal": '"../../x"',
    "wildcard": "'*.com'",
    "negative": "-1",
    "big-port": "99999",
    "nan": ".nan",
    "inf": "1e999",
    "runaway-placeholder": '"{{ range(65536)|map(\'string\')|join(\'x\' * 60000) }}"',
    "typo-filter": "\"{{ [1]|map('lenght')|list }}\"",
    "huge-power": '"{{ (2**64)**64 }}"',
    "binary-tag": "!!binary aGk=",
    "rtl": '"\\u202egnp.exe"',
}

POLICY_SLOTS = {
    "kind": ("kind: NvSecurityRule", "kind: {v}"),
    "name": ('  name: "nv.web.{{ namespace }}"', "  name: {v}"),
    "namespace": ('  namespace: "{{ namespace }}"', "  namespace: {v}"),
    "policymode": ('    policymode: "{{ policy_mode }}"', "    policymode: {v}"),
    "selector": ("    selector: \"{{ service('web') }}\"", "    selector: {v}"),
    "rule-name": ("    - name: web-to-cache", "    - name: {v}"),
    "applications": ("      applications: [Redis]", "      applications: {v}"),
    "ports": ('      ports: "tcp/{{ peers.cache.port }}"', "      ports: {v}"),
}

ENV_SLOTS = {
    "namespace": ("namespace: web", "namespace: {v}"),
    "policy_mode": ("policy_mode: Monitor", "policy_mode: {v}"),
    "peer": ("  cache: {service: redis, port: 6379}", "  cache: {v}"),
    "peer-port": ("  cache: {service: redis, port: 6379}", "  cache: {{service: redis, port: {v}}}"),
    "var": ("  http_port: 8080", "  http_port: {v}"),
}

# Shape checks of export items (`applications: 5`, `egress: [5]`) belong to the export reader's own
# tests; here: the slots that reach names, kinds, namespaces and ports.
EXPORT_SLOTS = {
    "name": ("    name: nv.orders.feature-6293\n", "    name: {v}\n"),
    "kind": ("  kind: NvSecurityRule\n", "  kind: {v}\n"),
    "namespace": ("    namespace: feature-6293\n", "    namespace: {v}\n"),
    "ports": ("      ports: any\n", "      ports: {v}\n"),
}

# Hostile strings for command-line options (argv cannot carry NUL).
ARG_VALUES = ["a" * 300, "../../x", "a\r\nb", "[x]", "9" * 4400, "-1", "99999", "nan", "", " ", "\x1b[2J",
              "{{ 1 }}", "é", "https://h:99999", "https://[::1"]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    return project


def _run(project: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(["-C", str(project), *args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 2
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def _problem(code: int, output: str, what: str) -> list[str]:
    """What is wrong with one run (nothing when it ended cleanly), so a sweep reports every case at once."""
    if code in (0, 1, 2) and "internal error" not in output and "Traceback" not in output:
        return []
    return [f"{what}: exit {code}: {output.strip().splitlines()[0][:300] if output.strip() else ''}"]


def _substitute(text: str, slot: tuple[str, str], value: str) -> str:
    old, new = slot
    assert old in text, old
    return text.replace(old, new.format(v=value), 1)


@pytest.fixture
def no_debug(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NVPOLICY_DEBUG", raising=False)
    yield


@pytest.mark.usefixtures("no_debug")
@pytest.mark.parametrize("slot", sorted(POLICY_SLOTS))
def test_hostile_policy_values(slot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    problems: list[str] = []
    policy = project / "policies" / "web.yaml"
    original = policy.read_text(encoding="utf-8")
    for name, value in YAML_VALUES.items():
        policy.write_text(_substitute(original, POLICY_SLOTS[slot], value), encoding="utf-8")
        commands = [["lint", "--env", "test"]]  # lint renders, validates, then runs its rules
        if slot in ("kind", "name", "namespace"):  # validate reads sources as they are, unrendered
            commands.append(["validate", "policies"])
        if slot in ("kind", "name"):  # diff matches objects by kind and name
            commands.append(["diff", "--env", "test", "--against-env", "test"])
        for command in commands:
            code, output = _run(project, *command, capsys=capsys)
            problems += _problem(code, output, f"{slot}={name}: {' '.join(command)}")
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("no_debug")
@pytest.mark.parametrize("slot", sorted(ENV_SLOTS))
def test_hostile_environment_values(slot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    problems: list[str] = []
    environment = project / "environments" / "test.yaml"
    original = environment.read_text(encoding="utf-8")
    for name, value in YAML_VALUES.items():
        environment.write_text(_substitute(original, ENV_SLOTS[slot], value), encoding="utf-8")
        for command in (["lint", "--env", "test"],):
            code, output = _run(project, *command, capsys=capsys)
            problems += _problem(code, output, f"{slot}={name}: {' '.join(command)}")
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("no_debug")
@pytest.mark.parametrize("slot", sorted(EXPORT_SLOTS))
def test_hostile_export_values(slot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    problems: list[str] = []
    original = EXPORT.read_text(encoding="utf-8")
    for name, value in YAML_VALUES.items():
        export = project / "export.yaml"
        export.write_text(_substitute(original, EXPORT_SLOTS[slot], value), encoding="utf-8")
        for extra in ([], ["--env-out", "environments/learned.yaml"]):
            code, output = _run(project, "import", "export.yaml", "--namespace", "feature-6293", *extra,
                                capsys=capsys)
            problems += _problem(code, output, f"{slot}={name}: import {' '.join(extra)}")
            for leftover in project.glob("policies/*"):
                if leftover.name != "web.yaml":
                    leftover.unlink()
            (project / "environments" / "learned.yaml").unlink(missing_ok=True)
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("no_debug")
@pytest.mark.parametrize("field", ["client_service", "server_service", "client_domain", "server_port", "fqdn",
                                   "applications", "server_ip"])
def test_hostile_event_values(field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    problems: list[str] = []
    values: list[object] = ["a" * 300, ["x"], {"a": "b"}, 10 ** 4000, -1, 99999, "../../x", "a\r\nb", "*.com",
                            None, "", "{{ vars.http_port }}", 1.5, True]
    for value in values:
        event = violation("v1", 0, ORDERS, REDIS, 6379)
        event[field] = value
        events = project / "events.json"
        events.write_text(json.dumps({"violations": [event]}), encoding="utf-8")
        code, output = _run(project, "propose", "events.json", "--env", "test", capsys=capsys)
        problems += _problem(code, output, f"{field}={str(value)[:40]!r}: propose")
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("no_debug")
@pytest.mark.parametrize("value", ARG_VALUES, ids=range(len(ARG_VALUES)))
def test_hostile_options(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    problems: list[str] = []
    monkeypatch.setenv("NVPOLICY_APIKEY", "apikey-for-the-sweep")
    rest = ["--timeout", "1"]
    commands = [
        ["render", "--env", value], ["render", "--env", "test", "--set", f"namespace={value}"],
        ["render", "--env", "test", "--set", f"vars.x={value}"], ["render", "--env", "test", "--set", value],
        ["render", "--env", "test", "--format", value], ["lint", "--env", value], ["validate", value],
        ["diff", "--env", "test", "--against-env", value], ["propose", value, "--env", "test"],
        ["import", value, "--namespace", "web"],
        ["pull", "--controller", value, "-g", "nv.web.web", *rest],
        ["pull", "--controller", "https://127.0.0.1:9", "-g", value, *rest],
        ["events", "--controller", value, *rest],
        ["events", "--controller", "https://127.0.0.1:9", "--since", value, *rest],
        ["events", "--controller", "https://127.0.0.1:9", "--timeout", value],
        ["push", "--env", "test", "--controller", value, *rest],
    ]
    for command in commands:
        code, output = _run(project, *command, capsys=capsys)
        problems += _problem(code, output, " ".join(repr(part)[:40] for part in command))
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("no_debug")
@pytest.mark.parametrize("value", ["key\r\nX-Injected: 1", "key\x1b[2J", "key\u0085next", "kéy"])
def test_hostile_credentials(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    problems: list[str] = []
    monkeypatch.setenv("NVPOLICY_APIKEY", value)
    for command in (["pull", "-g", "nv.web.web"], ["events"], ["push", "--env", "test"]):
        code, output = _run(project, *command, "--controller", "https://127.0.0.1:9", "--timeout", "1",
                            capsys=capsys)
        assert not _problem(code, output, f"{command[0]} with {value!r}")
        assert code == 2 and "NVPOLICY_APIKEY" in output
        assert value not in output
    assert not problems, "\n".join(problems)
