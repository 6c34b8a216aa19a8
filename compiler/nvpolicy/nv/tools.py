"""Process names with a meaning of their own: shells, tools, interpreters, package managers, sidecars.

One list each, read by learn (import splits sidecars out; propose flags shells and tools) and by
the guardrails (sidecar-process, production-shell), so that they agree on what a name is.
"""

from __future__ import annotations

from collections.abc import Mapping

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "csh", "tcsh", "fish", "busybox"})
# Tools an intruder uses to move data or open channels.
NETWORK_TOOLS = frozenset({
    "curl", "wget", "nc", "ncat", "netcat", "socat", "telnet", "ssh", "scp", "sftp", "ftp", "tftp", "nmap",
    "openssl", "dig", "nslookup", "ping", "tcpdump",
})
# Script interpreters: a tool in an intruder's hands, but also the main process of many applications.
INTERPRETERS = frozenset({"python", "python3", "perl", "ruby", "php", "lua"})
# Installing software in a running container is drift, and the classic first step after a break-in.
PACKAGE_MANAGERS = frozenset({
    "apk", "apt", "apt-get", "dpkg", "yum", "dnf", "microdnf", "rpm", "zypper", "pip", "npm", "gem",
})

# Sidecar and infrastructure process name -> the container it runs in.
SIDECARS: Mapping[str, str] = {
    "envoy": "istio-proxy",
    "pilot-agent": "istio-proxy",
    "istio-proxy": "istio-proxy",
    "linkerd2-proxy": "linkerd-proxy",
    "linkerd-proxy": "linkerd-proxy",
    "linkerd2-proxy-identity": "linkerd-proxy",
    "linkerd-await": "linkerd-proxy",
    "consul-dataplane": "consul-dataplane",
    "cilium-envoy": "cilium-envoy",
    "aws-appmesh-envoy": "envoy",
    "vault-agent": "vault-agent",
    "dapr": "daprd",
    "daprd": "daprd",
    "otelcol": "otel-collector",
    "otel-collector": "otel-collector",
    "fluent-bit": "fluent-bit",
    "cloud-sql-proxy": "cloud-sql-proxy",
}
