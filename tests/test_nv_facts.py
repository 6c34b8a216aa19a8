"""nvpolicy.nv: NeuVector's facts, each checked against what the controller source says (CONTROLLER-CHECKS.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nvpolicy.nv import addresses, groups, ports, processes
from nvpolicy.nv.criteria import regex_problem, wildcard_problem
from nvpolicy.nv.groups import GroupClass, classify


@pytest.mark.parametrize(("text", "ok"), [
    # S36: what normalizePorts accepts, including what looks odd.
    ("", True), ("any", True), ("ANY", True), ("tcp/ANY", True), ("UDP/any", True), ("80,,443", True),
    ("80,", True), ("+80", True), ("080", True), ("icmp", True), (" 80 ", True), ("tcp/0-65535", True),
    ("80 443,tcp/8000-8080", True), ("-0", False),
    # and what it refuses.
    ("ICMP", False), ("Tcp/80", False), ("tcp/", False), ("-80", False), ("tcp/65536", False), ("tcp/9-8", False),
    ("sctp/80", False), ("1-2-3", False), ("tcp/80-", False), ("80\t443", False), ("1_000", False),
])
def test_ports_grammar_is_normalize_ports(text: str, ok: bool) -> None:
    assert (ports.problem(text) is None) == ok


def test_ports_cover_ranges_as_diff_and_propose_do() -> None:
    # The copy that lint used missed this one: tcp/1-1000 covers tcp/80.
    assert ports.parse("tcp/1-1000").covers(ports.parse("tcp/80"))
    assert ports.parse("tcp/1-1000").covers(ports.parse("80"))
    assert ports.parse("tcp/1-100 tcp/101-200").covers(ports.parse("tcp/50-150"))
    assert not ports.parse("tcp/any").covers(ports.parse("udp/53"))
    assert not ports.parse("tcp/any").covers(ports.parse("any"))
    assert ports.parse("any").covers(ports.parse("icmp"))
    assert ports.parse("tcp/80").overlaps(ports.parse("tcp/1-100"))
    assert not ports.parse("tcp/80").overlaps(ports.parse("udp/80"))


@given(st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535))
def test_a_range_covers_exactly_its_ports(low: int, high: int, port: int) -> None:
    low, high = min(low, high), max(low, high)
    assert ports.parse(f"tcp/{low}-{high}").covers(ports.parse(str(port))) == (low <= port <= high)


@pytest.mark.parametrize(("value", "ok"), [
    # S18
    ("10.0.0.1", True), ("10.0.0.0/8", True), ("10.0.0.1-10.0.0.9", True), ("2001:db8::/32", True),
    ("2001:db8::1-2001:db8::ff", True), ("db.example.com", True), ("my_host.example.com", True),
    ("*.example.com", True), ("vh:api.example.com", True), ("vh:*.example.com", True), ("localhost", True),
    ("a-.example.com", True),
    ("*.com", False), ("api.example.com.", False), ("10.0.0.9-10.0.0.1", False), ("1.2.3", False),
    ("10.0.0.0/33", False), ("-a.com", False), ("*", False), ("vh:", False), ("a" * 256, False),
])
def test_address_values(value: str, ok: bool) -> None:
    assert addresses.is_valid(value) == ok


@pytest.mark.parametrize(("path", "cleaned"), [
    ("/..", "/"), ("/.", "/"), ("/", "/"), ("", "."), ("/a/../b", "/b"), ("a/b/", "a/b"), ("//x//y/", "/x/y"),
    ("../a", "../a"), ("a/../..", ".."), ("/usr/bin/../lib/./x", "/usr/lib/x"),
])
def test_go_filepath_clean(path: str, cleaned: str) -> None:
    assert processes.go_clean(path) == cleaned


@pytest.mark.parametrize(("filter_text", "ok"), [
    ("/etc/passwd", True), ("/etc/nginx/*.conf", True), ("/var/log/", True), (" /etc/hosts ", True),
    ("/", False), ("", False), ("/..", False), ("/etc/[ab]", False), ("/etc/(x)", False), ("etc", False),
    ("/a/*+", False), ("/a/<b>", False), ("/a/..b", False),
])
def test_file_filters(filter_text: str, ok: bool) -> None:
    assert (processes.file_filter_problem(filter_text) is None) == ok


def test_deny_all_is_deny_only() -> None:
    assert processes.is_deny_all("*", "*", "deny")
    assert processes.is_deny_all(" * ", " /* ", " deny ")
    assert not processes.is_deny_all("*", "*", "allow")
    assert not processes.is_deny_all("bash", "*", "deny")


@pytest.mark.parametrize(("name", "group_class"), [
    ("nv.ip.kubernetes.default", GroupClass.SERVICE_IP), ("nv.web.shop", GroupClass.LEARNED),
    ("Workload:ingress", GroupClass.INGRESS), ("workload:ingress", GroupClass.CUSTOM),
    ("NV.IP.x", GroupClass.CUSTOM), ("nodes", GroupClass.NO_CRITERIA), ("fed.nodes", GroupClass.NO_CRITERIA),
    ("external", GroupClass.NO_CRITERIA), ("containers", GroupClass.CONTAINERS),
    ("fed.containers", GroupClass.FED_CONTAINERS), ("web", GroupClass.CUSTOM),
])
def test_group_classes_are_case_sensitive(name: str, group_class: GroupClass) -> None:
    assert classify(name) is group_class


def test_murmur3_matches_the_reference_vectors() -> None:
    # Published MurmurHash3_x86_32 vectors (seed 0).
    assert groups.murmur3_32(b"") == 0
    assert groups.murmur3_32(b"hello") == 0x248BFA47
    assert groups.murmur3_32(b"The quick brown fox jumps over the lazy dog") == 0x2E4FF723


def test_hashed_name_sorts_criteria_by_key_then_value() -> None:
    one = groups.hashed_name("web", [("app", "=", "web"), ("tier", "=", "front")])
    other = groups.hashed_name("web", [("tier", "=", "front"), ("app", "=", "web")])
    assert one == other and one.startswith("web-")
    assert groups.hashed_name("web", [("app", "=", "web")], rest_import=True).endswith("-2")


@pytest.mark.parametrize(("pattern", "ok"), [
    (r"^web-\d+$", True), (r"\p{L}+", True), ("(?i)web", True), ("a(?=b)", False), (r"(a)\1", False),
    ("(?<=a)b", False), ("web([", False),
])
def test_regexes_compile_as_go_does(pattern: str, ok: bool) -> None:
    assert (regex_problem(pattern) is None) == ok


@pytest.mark.parametrize(("op", "value", "refused"), [
    ("=", "web*", False), ("=", "^web", False), ("=", "^web*", True), ("!=", "web?$", True),
    ("=", "1.0+build|x(", False), ("contains", "^a*", False),
])
def test_wildcard_values(op: str, value: str, refused: bool) -> None:
    assert wildcard_problem(op, value) == refused


def test_nv_imports_nothing_above_it() -> None:
    import ast
    from pathlib import Path

    import nvpolicy.nv

    for path in Path(nvpolicy.nv.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nvpolicy"):
                assert node.module.startswith("nvpolicy.nv"), (path.name, node.module)


def test_one_list_of_sidecars_and_shells_for_learn_and_lint() -> None:
    from nvpolicy.learn import propose, sidecars
    from nvpolicy.rules import guard_shell_tools, guard_sidecar

    assert set(sidecars.KNOWN_SIDECARS) == set(guard_sidecar.BINARIES)
    flagged_by_propose = propose.SHELLS | propose.NETWORK_TOOLS | propose.PACKAGE_MANAGERS
    assert set(guard_shell_tools.BINARIES) <= flagged_by_propose
    assert flagged_by_propose - set(guard_shell_tools.BINARIES) == {"python", "python3", "perl", "ruby", "php", "lua"}
