"""How NeuVector decides one connection or one process start (ENFORCEMENT.md §2, §3, §5).

A decision names its verdict (``allow``, ``learn``, ``violation``, ``deny``, ``open`` or
``undetermined``), the rule that decided (or ``None`` for the implicit rule, ID 0), the modes it used,
and every guess it had to make: ``assumptions`` (taken, the verdict rests on them) and ``unknown``
(what would be needed to decide; with ``undetermined``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.flowmodel.endpoints import Endpoint
from nvpolicy.flowmodel.policy import MODE_RANK, Policy, ProcessEntry, Rule

VERDICTS = ("allow", "learn", "violation", "deny", "open", "undetermined")
PROTOCOLS = ("tcp", "udp", "icmp")
# Built-in suspicious programs need an explicit allow entry (§5.3 item 4).
SUSPICIOUS = frozenset({"nmap", "nc", "ncat", "netcat", "sshd", "ssh", "scp", "telnet", "in.telnetd", "iodine",
                        "dnscat", "dns2tcp", "socat"})
_DEFAULT_VERDICT = {"Discover": "learn", "Monitor": "violation", "Protect": "deny"}
# A workload's process entries in §5.1 order, and those whose group may or may not hold it (with why).
Entries = tuple[list[ProcessEntry], list[tuple[ProcessEntry, tuple[str, ...]]]]


@dataclass(frozen=True)
class Settings:
    """The cluster settings a decision depends on (§6), with NeuVector's factory defaults."""

    strict_group_mode: bool = False
    new_service_mode: str = "Discover"
    profile_baseline: str = "basic"
    icmp_policy: bool = False
    mode_override: str | None = None  # run workloads in this mode ("if this environment ran in Protect") ...
    override_namespace: str | None = None  # ... those of this namespace only, when given

    def override_for(self, endpoint: Endpoint) -> str | None:
        if self.override_namespace is not None and endpoint.namespace != self.override_namespace:
            return None
        return self.mode_override


@dataclass(frozen=True)
class Flow:
    client: Endpoint
    server: Endpoint
    protocol: str  # tcp | udp | icmp | another IP protocol's name
    port: int = 0
    application: str | None = None

    def port_text(self) -> str:
        return self.protocol if self.protocol == "icmp" else f"{self.protocol}/{self.port}"


# Not frozen: a test run makes one per outcome (27,000 in the bench) and a frozen dataclass costs about
# five times as much to make (object.__setattr__ per field). Nothing changes or hashes a decision.
@dataclass
class Decision:
    verdict: str
    rule: Rule | None
    reason: str
    modes: tuple[str, str] = ("", "")  # client's and server's (or the workload's twice for processes)
    assumptions: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    also: tuple[Rule, ...] = field(default=())  # rules that tie with or may precede the deciding one
    entry: ProcessEntry | None = None
    process: bool = False

    @property
    def passes(self) -> bool | None:
        if self.verdict == "undetermined":
            return None
        return self.verdict != "deny"

    def decided_by(self) -> str:
        if self.entry is not None:
            return f"process {self.entry.name}:{self.entry.path or '*'} {self.entry.action} ({self.entry.location})"
        if self.process:
            return "the profile's default (no entry matched)"
        if self.rule is None:
            return "implicit rule (ID 0)"
        return f"{self.rule.ref()} ({self.rule.location})"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "verdict": self.verdict,
            "passes": self.passes,
            "decided_by": self.rule.as_json() if self.rule else None,
            "reason": self.reason,
            "modes": {"client": self.modes[0] or None, "server": self.modes[1] or None},
            "assumptions": list(self.assumptions),
            "unknown": list(self.unknown),
        }
        if self.also:
            data["also"] = [rule.as_json() for rule in self.also]
        if self.entry is not None:
            data["decided_by"] = {"process": self.entry.name, "path": self.entry.path, "action": self.entry.action,
                                  "group": self.entry.group, "location": str(self.entry.location)}
        return data


class Model:
    """One rendered environment's policy plus the settings; decides flows and process starts."""

    def __init__(self, policy: Policy, settings: Settings | None = None) -> None:
        self.policy = policy
        self.settings = settings or Settings()
        self._entries: dict[Endpoint, Entries] = {}

    # --- modes (§3.1) ---------------------------------------------------------------------------------
    def network_mode(self, endpoint: Endpoint, assumptions: list[str]) -> str:
        if endpoint.kind != "workload":
            return ""  # external, nodes, address groups enter the adjustment as "no mode" (§3.1)
        override = self.settings.override_for(endpoint)
        if override:
            return override
        mode = self.policy.mode_of(endpoint.learned_group)
        if mode is None:
            mode = self.settings.new_service_mode
            assumptions.append(f"no CR sets the mode of {endpoint.learned_group}: taken as the New Service Mode "
                               f"({mode}); the cluster may run it in another mode (§3.1)")
        return mode

    # --- connections ----------------------------------------------------------------------------------
    def decide(self, flow: Flow) -> Decision:
        assumptions: list[str] = []
        protocol = flow.protocol.lower()
        if protocol not in PROTOCOLS:
            return Decision("open", None, f"IP protocol {protocol} is not subject to network policy (§2.3)")
        for end in (flow.client, flow.server):
            if end.kind == "external" and ":" in end.address:
                return Decision("open", None, "IPv6 traffic is not subject to network policy (§2.3)")
        client_mode = self.network_mode(flow.client, assumptions)
        server_mode = self.network_mode(flow.server, assumptions)
        modes = (client_mode, server_mode)
        if "workload" not in (flow.client.kind, flow.server.kind):
            return Decision("open", None, "neither end is a workload: no enforcer decides this flow (§1.2, §4)",
                            modes, tuple(assumptions))
        uncertain: list[tuple[Rule, tuple[str, ...]]] = []
        candidates = self.policy.candidates(flow.client, flow.server)
        for number, rule in enumerate(candidates):
            answer, notes, guesses = self._matches(rule, flow)
            if answer is False:
                continue
            if answer is None:
                uncertain.append((rule, notes))
                continue
            assumptions.extend(guesses)
            verdict, reason = self._explicit(rule, modes)
            ties = self._ties(rule, candidates[number + 1:], flow, verdict, modes)
            if ties:
                return Decision("undetermined", rule, "equal-priority CRD rules match with different actions; "
                                "NeuVector leaves their order undefined (§1.3)", modes, tuple(assumptions),
                                ("the order of equal-priority CRD rules",), tuple(ties))
            return self._settle(Decision(verdict, rule, reason, modes, _unique(assumptions)), uncertain)
        if protocol == "icmp" and not self.settings.icmp_policy:
            return self._settle(Decision("allow", None, "ICMP policy is off: a catch-all ICMP allow follows every "
                                         "rule (§2.3)", modes, _unique(assumptions)), uncertain)
        verdict, reason = self._implicit(flow, modes, assumptions)
        return self._settle(Decision(verdict, None, reason, modes, _unique(assumptions)), uncertain)

    def _matches(self, rule: Rule, flow: Flow) -> tuple[bool | None, tuple[str, ...], tuple[str, ...]]:
        source = rule.source.selects(flow.client)
        if source.selected is False:
            return False, (), ()
        destination = rule.destination.selects(flow.server)
        if destination.selected is False:
            return False, (), ()
        ports = _port_matches(rule, flow, self.settings.icmp_policy)
        if ports is False:
            return False, (), ()
        apps = _app_matches(rule, flow)
        if apps is False:
            return False, (), ()
        notes = source.notes + destination.notes
        if ports is None:
            notes += (f"ports {rule.ports_text!r} of {rule.ref()} cannot be read",)
        selected = source.selected and destination.selected and ports is True
        return (True if selected else None), notes, source.guesses + destination.guesses

    def _explicit(self, rule: Rule, modes: tuple[str, str]) -> tuple[str, str]:
        if rule.action == "allow":
            return "allow", "an allow rule matched; CRD allows stay allow in every mode and are not learned (§3.2)"
        client, server = modes
        if self.settings.strict_group_mode:
            blocked = "Protect" in (client, server)
            table = "restrictive"
        else:
            blocked = (client == "Protect" and server in ("Protect", "")) or (client == "" and server == "Protect")
            table = "basic"
        verdict = "deny" if blocked else "violation"
        return verdict, (f"a deny rule matched; client {client or 'no mode'} → server {server or 'no mode'} "
                         f"gives {verdict} ({table} contention, §3.2)")

    def _ties(self, rule: Rule, later: Sequence[Rule], flow: Flow, verdict: str, modes: tuple[str, str]) -> list[Rule]:
        ties = []
        for other in later:
            if other.priority != rule.priority or other.sunk != rule.sunk:
                continue
            if (other.action != rule.action and self._matches(other, flow)[0] is not False
                    and self._explicit(other, modes)[0] != verdict):
                ties.append(other)
        return ties

    def _implicit(self, flow: Flow, modes: tuple[str, str], assumptions: list[str]) -> tuple[str, str]:
        client, server = modes
        if flow.client.kind == "workload" and flow.server.kind == "workload":
            if self.policy.shortcut is not None:
                return _DEFAULT_VERDICT[server], (f"no rule matched; the server's mode ({server}) decides: no "
                                                  "mixed-mode rules after a containers→containers rule (§1.5)")
            ranks = sorted((client, server), key=lambda m: MODE_RANK[m])
            mode = ranks[-1] if self.settings.strict_group_mode else ranks[0]
            how = "the more restrictive" if self.settings.strict_group_mode else "the less restrictive"
            if client == server:
                return _DEFAULT_VERDICT[mode], f"no rule matched; both ends in {mode} (§2.6)"
            return _DEFAULT_VERDICT[mode], (f"no rule matched; {client} → {server}: {how} mode ({mode}) "
                                            "decides (mode contention, §3.3)")
        enforcing, mode = (flow.server, server) if flow.server.kind == "workload" else (flow.client, client)
        side = "ingress into" if enforcing is flow.server else "egress from"
        verdict = _DEFAULT_VERDICT[mode]
        if verdict in ("deny", "violation"):
            assumptions.append("the steady-state verdict: right after a policy change an unknown peer may pass "
                               "for a while (§2.6)")
        return verdict, f"no rule matched; {side} {enforcing.label()} in {mode} gives {verdict} (§2.6)"

    def _settle(self, decision: Decision, uncertain: Sequence[tuple[Rule, tuple[str, ...]]]) -> Decision:
        """Rules before the decider that may or may not match: if any would decide otherwise, say so."""
        differing = [(rule, notes) for rule, notes in uncertain
                     if rule.position < (decision.rule.position if decision.rule else 1 << 30)
                     and self._explicit(rule, decision.modes)[0] != decision.verdict]
        if not differing:
            return decision  # whatever they answer, the verdict stays
        notes = tuple(dict.fromkeys(note for _, found in differing for note in found))
        return Decision("undetermined", decision.rule, f"{differing[0][0].ref()} may match first and decide "
                        "otherwise", decision.modes, decision.assumptions, notes,
                        tuple(rule for rule, _ in differing))

    # --- processes (§5) -------------------------------------------------------------------------------
    def decide_process(self, workload: Endpoint, name: str, path: str) -> Decision:
        assumptions: list[str] = []
        profile = self.policy.profiles.get(workload.learned_group)
        mode = self.settings.override_for(workload) or (profile.mode if profile else None)
        if mode is None:
            mode = self.settings.new_service_mode
            assumptions.append(f"no CR sets the profile mode of {workload.learned_group}: taken as the New Service "
                               f"Mode ({mode}) (§5.3)")
        baseline = "basic" if profile and profile.baseline == "basic" else self.settings.profile_baseline
        if profile and profile.baseline not in (None, "basic"):
            assumptions.append(f"the CR asks for baseline {profile.baseline}; NeuVector stores it empty, so the "
                               f"global default applies (taken as {baseline}) (§5.3)")
        entries, maybe = self._process_entries(workload)
        unknown = [note for entry, notes in maybe if process_entry_matches(entry, name, path) for note in notes]
        modes = (mode, mode)
        for entry in entries:
            if process_entry_matches(entry, name, path):
                if entry.action == "allow":
                    verdict, reason = "allow", "an allow entry matched (§5.3 item 1)"
                else:
                    verdict = "deny" if mode == "Protect" else "violation"
                    reason = f"a deny entry matched in {mode}: {verdict} (§5.3 item 2)"
                return self._process_result(verdict, reason, modes, assumptions, unknown, entry)
        if name in SUSPICIOUS:
            verdict = "deny" if mode == "Protect" else "violation"
            reason = f"{name} is a built-in suspicious program with no allow entry: {verdict} in {mode} (§5.3 item 4)"
        elif baseline == "basic":
            verdict = _DEFAULT_VERDICT[mode]
            reason = f"no entry matched; baseline basic in {mode}: {verdict} (§5.3 item 3)"
        else:
            return Decision("undetermined", None, "no entry matched under zero-drift: NeuVector decides by the "
                            "image's files and the process family (§5.3 item 7)", modes, tuple(assumptions),
                            ("whether the executable comes unmodified from the image and descends from the "
                             "container's root process",), process=True)
        return self._process_result(verdict, reason, modes, assumptions, unknown, None)

    def _process_entries(self, workload: Endpoint) -> Entries:
        """The entries of the groups that hold the workload, in §5.1 order, and those of groups whose
        membership cannot be told (with why): the same for every process start of one workload."""
        try:
            return self._entries[workload]
        except KeyError:
            pass
        except TypeError:  # described labels (a dict): unhashable, not remembered
            return self._select_entries(workload)
        found = self._entries[workload] = self._select_entries(workload)
        return found

    def _select_entries(self, workload: Endpoint) -> Entries:
        entries: list[ProcessEntry] = []
        maybe: list[tuple[ProcessEntry, tuple[str, ...]]] = []
        for group, entry in self.policy.process_candidates(workload):
            selected = group.selects(workload)
            if selected.selected is None:
                maybe.append((entry, selected.notes))
            elif selected.selected:
                entries.append(entry)
        return sorted(entries, key=lambda e: (e.bucket, e.name, e.path)), maybe

    @staticmethod
    def _process_result(verdict: str, reason: str, modes: tuple[str, str], assumptions: list[str],
                        unknown: list[str], entry: ProcessEntry | None) -> Decision:
        if unknown:
            return Decision("undetermined", None, "a group whose membership cannot be told has a matching entry",
                            modes, tuple(assumptions), _unique(unknown), entry=entry, process=True)
        return Decision(verdict, None, reason, modes, _unique(assumptions), entry=entry, process=True)


def process_entry_matches(entry: ProcessEntry, name: str, path: str) -> bool:
    """``MatchProfileProcess`` (§5.2): ``name`` is the process name, ``path`` the executable ('' if unknown)."""
    base = path.rsplit("/", 1)[-1] if path else name
    directory = path.rsplit("/", 1)[0] if "/" in path else ""
    rule_path = entry.path
    if entry.name == "*" and rule_path in ("*", "/*"):
        return True
    if entry.name == base:
        if rule_path in ("", "*", "/*"):
            return True
        if rule_path.endswith("/*") and "*" not in rule_path[:-2]:
            return directory.startswith(rule_path[:-2])  # a string prefix, as NeuVector tests it
    if entry.name == "*":
        if rule_path.endswith("/*"):
            return directory.startswith(rule_path[:-2])
        return bool(path) and path == rule_path
    if "/*/" in rule_path:
        prefix, _, last = rule_path.partition("/*/")
        return directory.startswith(prefix) and entry.name in (name, base) and base == last
    return (not rule_path or rule_path == path) and entry.name == name


def _port_matches(rule: Rule, flow: Flow, icmp_policy: bool) -> bool | None:
    facts = rule.port_facts
    if facts is None:
        return None
    is_any, icmp, intervals = facts
    protocol = flow.protocol.lower()
    if is_any:
        return protocol in ("tcp", "udp") or (protocol == "icmp" and icmp_policy)
    if protocol == "icmp":
        return icmp
    return any(low <= flow.port <= high for low, high in intervals.get(protocol, ()))


def _app_matches(rule: Rule, flow: Flow) -> bool:
    """A rule naming applications matches a session DPI classified as one of them; an unclassified
    session (no application given) matches only rules for any application (§2.4)."""
    if rule.apps is None:
        return True
    if flow.application is None:
        return False
    wanted = flow.application.lower()
    return any(app.lower() == wanted for app in rule.apps)


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
