"""The deployment files say what docs/deploy.md promises: the systemd unit's
hardening, its data directory and stop timeout, the same port as nginx's
upstream, the Procfile's command, and a README that points self-hosters at both
files."""

from __future__ import annotations

import re
from collections import defaultdict

from coordinator.cli.serve_cmd import GRACEFUL_TIMEOUT

from ..conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "docs" / "deploy"
HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes", "RestrictRealtime": "yes", "LockPersonality": "yes", "UMask": "0077",
    "StateDirectoryMode": "0700", "CapabilityBoundingSet": "", "SystemCallArchitectures": "native",
}


def unit() -> dict[str, dict[str, list[str]]]:
    """section -> key -> every value given (systemd lets a key repeat)."""
    sections: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    section = None
    for line in (DEPLOY / "huddle.service").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        sections[section][key].append(value)
    return sections


def environment(service: dict[str, list[str]]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in service["Environment"])


def test_the_unit_runs_huddle_serve_unprivileged_with_every_hardening_setting():
    service = unit()["Service"]

    assert {key: service[key][-1] for key in HARDENING if key in service} == HARDENING
    assert service["User"] == ["huddle"] and "root" not in service["Group"]
    assert "AmbientCapabilities" in service and service["AmbientCapabilities"] == [""]
    assert "@system-service" in service["SystemCallFilter"][0]
    assert service["SystemCallFilter"][1].startswith("~") and "@privileged" in service["SystemCallFilter"][1]
    assert set(service["RestrictAddressFamilies"][0].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert unit()["Install"]["WantedBy"] == ["multi-user.target"]


def test_only_the_data_directory_is_writable_and_it_is_private():
    service = unit()["Service"]
    data = environment(service)["HUDDLE_DATA"]

    assert service["ReadWritePaths"] == [data]
    assert data == f"/var/lib/{service['StateDirectory'][0]}"
    assert service["StateDirectoryMode"] == ["0700"] and service["UMask"] == ["0077"]


def test_systemd_waits_longer_than_the_graceful_timeout_and_sends_sigterm():
    service = unit()["Service"]
    command = service["ExecStart"][0]
    graceful = int(re.search(r"--graceful-timeout (\d+)", command).group(1))

    assert " serve " in command and "--host 127.0.0.1" in command
    assert graceful == GRACEFUL_TIMEOUT
    assert int(service["TimeoutStopSec"][0]) > graceful
    assert service["KillSignal"] == ["SIGTERM"]


def test_the_unit_and_nginx_agree_on_the_port_origin_and_proxy_hops():
    service = unit()["Service"]
    env = environment(service)
    port = re.search(r"--port (\d+)", service["ExecStart"][0]).group(1)
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")

    assert f"server 127.0.0.1:{port};" in nginx
    assert env["HUDDLE_TRUSTED_PROXIES"] == "1"  # exactly nginx, one hop
    host = env["HUDDLE_ORIGIN"].removeprefix("https://")
    assert f"server_name {host};" in nginx and f"/live/{host}/" in nginx


def test_the_procfile_serves_on_the_platform_port():
    lines = (REPO_ROOT / "Procfile").read_text(encoding="utf-8").splitlines()

    assert lines == ["web: huddle serve --host 0.0.0.0 --port $PORT"]


def test_the_readme_self_host_section_names_the_two_deployment_files():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Self-hosting", 1)[1].split("\n## ", 1)[0]

    assert "docs/deploy/nginx.conf" in section and "docs/deploy/huddle.service" in section
    assert "docs/deploy.md" in section
