"""Expectations kept in the policy repo (``expect/*.yaml``) and their run against the model.

Each file is a YAML list; each item a network flow or a process start with the verdict it must get
(see ``schemas/expectations.schema.json`` and the README's "Expectation files"). Endpoints name
services, environment peers (``peer: db`` means what this environment binds ``db`` to), addresses or
the nodes; ``env``/``envs`` limit an expectation to some environments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from nvpolicy.diff.sets import parse_address
from nvpolicy.environment import Environment, PeerBinding
from nvpolicy.errors import ErrorGroup, NvPolicyError, SourceError
from nvpolicy.flowmodel.decide import Decision, Flow, Model
from nvpolicy.flowmodel.endpoints import NODE, Endpoint, external, workload
from nvpolicy.model import Location, SourceDocument

EXPECT_DIR = "expect"
SCHEMA = "expectations.schema.json"


@dataclass(frozen=True)
class Expectation:
    data: Mapping[str, Any]
    document: SourceDocument = field(compare=False, repr=False)  # the YAML document that holds it
    file: str
    index: int  # in its document

    @cached_property
    def location(self) -> Location:
        # A cleanly loaded file has no marks until one is asked for (nvpolicy.inputs): a failure, JSON
        # output or an error asks; a passing run in text never does.
        return self.document.locate((self.index,))

    @property
    def kind(self) -> str:
        return "process" if "process" in self.data else "network"

    @property
    def expected(self) -> str:
        return str(self.data["expect"])

    # Read once, asked in every environment.
    @cached_property
    def flow_question(self) -> tuple[str, int, str | None]:
        """(protocol, port, application) of a network expectation."""
        protocol, _, port = str(self.data["port"]).partition("/")
        return protocol, int(port or 0), self.data.get("app")

    @cached_property
    def process_question(self) -> tuple[str, str, str]:
        """(group, process name, path or '') of a process expectation."""
        process = str(self.data["process"])
        return str(self.data["group"]), process.rsplit("/", 1)[-1], process if process.startswith("/") else ""

    def applies_to(self, env: str) -> bool:
        if "env" in self.data:
            return bool(self.data["env"] == env)
        return env in self.data.get("envs", [env])

    def title(self) -> str:
        if self.data.get("name"):
            return str(self.data["name"])
        if self.kind == "process":
            return f"{self.data['group']} runs {self.data['process']}"
        app = f" {self.data['app']}" if self.data.get("app") else ""
        return f"{_describe(self.data['from'])} → {_describe(self.data['to'])} {self.data['port']}{app}"


@dataclass  # not frozen, as Decision: one per outcome; nothing changes or hashes it
class Outcome:
    expectation: Expectation
    env: str
    decision: Decision
    passed: bool = field(init=False)  # asked by the report, the summary and the exit code

    def __post_init__(self) -> None:
        self.passed = self.decision.verdict == self.expectation.expected

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.expectation.title(), "env": self.env, "kind": self.expectation.kind,
            "location": str(self.expectation.location), "expect": self.expectation.expected,
            "passed": self.passed, **self.decision.as_json(),
        }


def _describe(endpoint: Mapping[str, Any]) -> str:
    if "service" in endpoint:
        return str(endpoint["service"]) + (f".{endpoint['namespace']}" if endpoint.get("namespace") else "")
    if "peer" in endpoint:
        return f"peer {endpoint['peer']}"
    if "address" in endpoint:
        return str(endpoint["address"])
    return "nodes"


def load_expectations(project: Path) -> list[Expectation]:
    """Every item of every ``expect/**/*.yaml``, schema-checked; all problems raised together (exit 2)."""
    # validate's loader: marks-free from libyaml's events, the full loader's marks made from the same
    # text only when a location is asked; anything unusual is read by the full loader at once. So
    # every message and file:line is the full loader's.
    from nvpolicy.inputs import load_marks_on_demand
    from nvpolicy.source import iter_yaml_files, read_text

    folder = project / EXPECT_DIR
    if not folder.is_dir():
        return []
    root = project.resolve()
    found: list[Expectation] = []
    errors: list[NvPolicyError] = []
    for path in iter_yaml_files(folder):
        display = path.relative_to(project).as_posix()
        if not path.resolve().is_relative_to(root):
            raise SourceError("is a symlink to a file outside the project; nvpolicy reads only the project's files",
                              location=Location(display))
        for document in load_marks_on_demand(read_text(path, display), display):
            problems = _check(document)
            errors.extend(problems)
            if not problems:
                found += [Expectation(item, document, display, i) for i, item in enumerate(document.data)]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(errors)
    return found


def _check(document: SourceDocument) -> list[NvPolicyError]:
    from nvpolicy.schema_registry import reference_validator, validator

    data = document.data
    if validator(SCHEMA).is_valid(data):
        return []
    from jsonschema.exceptions import best_match  # only to explain a problem (start-up, issue 16)

    if not isinstance(data, list):
        return [SourceError("an expectation file is a YAML list of expectations", location=document.locate(()),
                            hint="- {from: {service: orders}, to: {peer: db}, port: tcp/5432, expect: allow}")]
    base = reference_validator(SCHEMA)
    problems: list[NvPolicyError] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            problems.append(SourceError("an expectation is a mapping", location=document.locate((index,))))
            continue
        branch = "process" if "process" in item or "group" in item else "network"
        checker = base.evolve(schema={"$ref": f"{SCHEMA}#/$defs/{branch}"})
        error = best_match(checker.iter_errors(item))
        if error is None:
            continue
        error = _endpoint_branch(error)
        path: tuple[str | int, ...] = (index, *error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = [key for key in error.instance if key not in error.schema.get("properties", {})]
            path += tuple(extra[:1])  # point at the unknown key's line
        problems.append(SourceError(_message(error, branch), location=document.locate(path), path=path,
                                    hint=_HINTS[branch]))
    return problems


_HINTS = {
    "network": "a flow is {from: ENDPOINT, to: ENDPOINT, port: tcp/N|udp/N|icmp, app?: NAME, expect: VERDICT, "
               "env?|envs?}; an endpoint is {service, namespace?, labels?, image?}, {peer}, {address} or "
               "{nodes: true}; a verdict is allow, learn, violation, deny, open or undetermined",
    "process": "a process start is {group: SERVICE|nv.<service>.<namespace>, process: PATH|NAME, expect: VERDICT, "
               "env?|envs?}",
}


def _endpoint_branch(error: Any) -> Any:
    """An endpoint failing every form: explain it against the form its keys point at."""
    if error.validator != "oneOf" or not isinstance(error.instance, dict) or not error.context:
        return error
    keys = ("service", "peer", "address", "nodes")
    wanted = next((i for i, key in enumerate(keys) if key in error.instance), None)
    branch = [sub for sub in error.context if sub.relative_schema_path[0] == wanted]
    return max(branch, key=lambda sub: len(sub.absolute_path)) if branch else error


def _message(error: Any, branch: str) -> str:
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown key")
    if error.validator == "not":
        return "give env or envs, not both"
    if error.validator == "oneOf":
        return "an endpoint is one of {service, ...}, {peer}, {address} or {nodes: true}"
    return f"{branch} expectation: {error.message}"


# --- running ------------------------------------------------------------------------------------------

def run(model: Model, environment: Environment, expectations: Sequence[Expectation]) -> list[Outcome]:
    _peer_endpoint.cache_clear()  # a peer's endpoint is the same for every expectation of one environment
    outcomes = []
    errors: list[NvPolicyError] = []
    for expectation in expectations:
        if not expectation.applies_to(environment.name):
            continue
        try:
            outcomes.append(Outcome(expectation, environment.name, decide(model, environment, expectation)))
        except NvPolicyError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(errors)
    return outcomes


def decide(model: Model, environment: Environment, expectation: Expectation) -> Decision:
    data = expectation.data
    if expectation.kind == "process":
        group, name, path = expectation.process_question
        return model.decide_process(_group_workload(group, environment.namespace), name, path)
    protocol, port, app = expectation.flow_question
    flow = Flow(endpoint(data["from"], environment, expectation, "from"),
                endpoint(data["to"], environment, expectation, "to"), protocol, port, app)
    return model.decide(flow)


@lru_cache(maxsize=8192)
def _group_workload(group: str, namespace: str) -> Endpoint:
    parts = group.split(".")
    if len(parts) >= 3 and parts[0] == "nv":
        return workload(".".join(parts[1:-1]), parts[-1])
    return workload(group, namespace)


_PLAIN = frozenset({"service", "namespace"})


def endpoint(data: Mapping[str, Any], environment: Environment, expectation: Expectation, key: str) -> Endpoint:
    if "service" in data:
        namespace = str(data.get("namespace") or environment.namespace)
        if data.keys() <= _PLAIN:
            return _service(str(data["service"]), namespace)  # the common case: one instance per service
        return workload(str(data["service"]), namespace,
                        labels=data.get("labels"), image=data.get("image"), container=data.get("container"),
                        namespace_labels=data.get("namespace_labels"))
    if "address" in data:
        return external(str(data["address"]))
    if "nodes" in data:
        return NODE
    name = str(data["peer"])
    binding = environment.peers.get(name)
    if binding is None:
        raise SourceError(f"peer {name!r} is not bound in environment {environment.name}",
                          location=expectation.location, path=(expectation.index, key, "peer"),
                          hint=f"bind it under peers: in environments/{environment.name}.yaml, or limit the "
                               "expectation with env:/envs:")
    return _peer_endpoint(binding, environment.namespace)


@lru_cache(maxsize=8192)
def _service(service: str, namespace: str) -> Endpoint:
    return workload(service, namespace)


@lru_cache(maxsize=4096)
def _peer_endpoint(binding: PeerBinding, namespace: str) -> Endpoint:
    if binding.address is not None:
        kind, parsed = parse_address(binding.address)
        # A peer bound to a CIDR or a range stands for an address inside it.
        return external(str(parsed[0]) if kind == "range" else binding.address)
    assert binding.service is not None
    return workload(binding.service, binding.namespace or namespace)
