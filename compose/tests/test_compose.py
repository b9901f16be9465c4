"""compose.yaml: valid against the Compose Specification, internally consistent, and within the stack's policy
(segmentation, healthchecks, limits, pinned images, secrets, the sidecar's contract, minimum versions)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from stack import (COMPOSE_DIR, COMPOSE_FILE, REPO_DIR, SCHEMA_FILE, TEMPLATES_DIR, MissingVariable,
                   duration_seconds, environment_of, example_env, load_effective, load_raw, read_env_file,
                   size_bytes)

RAW = load_raw()
EFFECTIVE = load_effective()
SERVICES = EFFECTIVE["services"]

DATA_STORES = {"mongo", "redis", "elasticsearch"}
# Services that talk to a data store themselves (and so may join the internal data network).
DATA_USERS = {"apiserver", "fileserver", "async_delete", "clearml-probe"}
SIDECAR = "clearml-probe"
# What each image contains for a healthcheck (docs/compose-facts.md, "The server image").
HEALTHCHECK_TOOLS = {
    "nginx": {"curl"},
    "apiserver": {"curl"},
    "fileserver": {"curl"},
    "webserver": {"curl"},
    "elasticsearch": {"curl"},
    "mongo": {"mongosh"},
    "redis": {"redis-cli"},
    SIDECAR: {"clearml-probe"},
}


def one_shot(service: dict) -> bool:
    return service.get("restart", "no") == "no"


def long_running() -> dict[str, dict]:
    return {name: s for name, s in SERVICES.items() if not one_shot(s)}


# --- Structure ---------------------------------------------------------------------------------------------------

def test_schema_accepts_the_file_as_written_and_as_interpolated():
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft7Validator(schema)
    for label, document in (("as written", RAW), ("interpolated with .env.example", EFFECTIVE)):
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, f"{label}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_compose_refuses_to_run_without_init():
    """Without init.sh's values (.env.example as is: no server image, no agent keys) interpolation fails."""
    with pytest.raises(MissingVariable, match="CLEARML_SERVER_IMAGE"):
        load_effective(read_env_file(COMPOSE_DIR / ".env.example"))
    with pytest.raises(MissingVariable, match="CLEARML_DOMAIN"):
        load_effective({k: v for k, v in example_env().items() if k != "CLEARML_DOMAIN"})


def test_cross_references_resolve():
    networks = set(EFFECTIVE.get("networks", {}))
    volumes = set(EFFECTIVE.get("volumes", {}))
    secrets = set(EFFECTIVE.get("secrets", {}))
    problems = []
    for name, service in SERVICES.items():
        nets = service.get("networks", [])
        for net in nets if isinstance(nets, list) else nets.keys():
            if net not in networks:
                problems.append(f"{name}: network {net} is not defined")
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith(("/", ".", "~", "$")) and source not in volumes:
                problems.append(f"{name}: volume {source} is not defined")
        for secret in service.get("secrets", []):
            secret_name = secret if isinstance(secret, str) else secret["source"]
            if secret_name not in secrets:
                problems.append(f"{name}: secret {secret_name} is not defined")
        for dep, cond in (service.get("depends_on") or {}).items():
            if dep not in SERVICES:
                problems.append(f"{name}: depends_on {dep}, which is not a service")
                continue
            condition = cond.get("condition")
            if condition == "service_healthy" and "test" not in (SERVICES[dep].get("healthcheck") or {}):
                problems.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and not one_shot(SERVICES[dep]):
                problems.append(f"{name}: waits for {dep} to complete, but {dep} is restarted")
            if SERVICES[dep].get("profiles") and not service.get("profiles"):
                problems.append(f"{name}: always starts, but depends on {dep}, which is only in a profile")
    used_networks = {n for s in SERVICES.values() for n in (s.get("networks") or [])}
    used_volumes = {m.split(":", 1)[0] for s in SERVICES.values() for m in s.get("volumes", []) if isinstance(m, str)}
    problems += [f"network {n} is never used" for n in networks - used_networks]
    problems += [f"volume {v} is never used" for v in volumes - used_volumes]
    for name, secret in EFFECTIVE.get("secrets", {}).items():
        if not str(secret.get("file", "")).startswith("./secrets/"):
            problems.append(f"secret {name} should live in compose/secrets/ (written by init.sh)")
    assert not problems, "\n".join(problems)


def test_every_bind_mounted_repo_path_exists_or_is_written_by_init():
    written_by_init = {"./config", "./secrets", "./certs"}
    for name, service in SERVICES.items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith("./") and source not in written_by_init:
                assert (COMPOSE_DIR / source).exists(), f"{name} mounts {source}, which is not in compose/"


# --- Segmentation ------------------------------------------------------------------------------------------------

def published(service: dict) -> list[tuple[str, str, str]]:
    """(host ip, host port, container port) of every published port (short syntax)."""
    out = []
    for entry in service.get("ports", []):
        assert isinstance(entry, str), "use the short port syntax"
        parts = entry.split(":")
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            out.append(("0.0.0.0", parts[0], parts[1]))
        else:
            out.append(("0.0.0.0", "", parts[0]))
    return out


def test_only_the_ingress_publishes_beyond_loopback():
    for name, service in SERVICES.items():
        for host_ip, _host_port, container_port in published(service):
            if name == "nginx" and container_port in {"80", "443"}:
                continue
            if name == "nginx" and container_port == "8081":
                # The compatibility listener for old fileserver links: loopback unless a migration opens it.
                assert host_ip == "127.0.0.1", "the legacy files port is published beyond loopback only on purpose"
                continue
            assert host_ip == "127.0.0.1", f"{name} publishes {container_port} on {host_ip or 'all addresses'}"
    assert {p for _, _, p in published(SERVICES["nginx"])} == {"80", "443", "8081"}
    assert "expose" not in SERVICES["nginx"]


def test_data_stores_live_only_on_the_internal_data_network():
    assert EFFECTIVE["networks"]["data"].get("internal") is True
    for name in DATA_STORES:
        assert SERVICES[name].get("networks") == ["data"], f"{name} must be on the data network only"
        assert not SERVICES[name].get("ports"), f"{name} must publish nothing"
    on_data = {name for name, s in SERVICES.items() if "data" in (s.get("networks") or [])}
    assert on_data == DATA_STORES | DATA_USERS, f"only data users may join the data network: {sorted(on_data)}"
    for name, service in SERVICES.items():
        if name not in DATA_STORES:
            assert service.get("networks") or service.get("network_mode") == "none", \
                f"{name} has no explicit networks (would join the default network)"


def test_the_ingress_reaches_the_application_and_nothing_behind_it():
    assert sorted(SERVICES["nginx"]["networks"]) == ["app", "edge"]
    assert "depends_on" not in SERVICES["nginx"], "the ingress must come up (and answer 502) while ClearML boots"
    for name in ("webserver", "apiserver", "fileserver"):
        assert "app" in SERVICES[name]["networks"]
    assert "edge" not in SERVICES["apiserver"]["networks"]


# --- Health, restarts, limits, logs, state -----------------------------------------------------------------------

def test_every_long_running_service_has_a_healthcheck_from_its_own_image_and_a_restart_policy():
    for name, service in long_running().items():
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, f"{name}: restart policy"
        check = service.get("healthcheck") or {}
        if check.get("disable"):
            assert service.get("x-no-healthcheck-reason"), f"{name}: a disabled healthcheck needs a stated reason"
            assert name in {"async_delete", "agent-services"}, f"{name}: only documented exceptions may skip it"
            continue
        test = check.get("test")
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"}, f"{name}: healthcheck test form"
        tool = test[1].split()[0] if test[0] == "CMD-SHELL" else test[1]
        assert tool in HEALTHCHECK_TOOLS[name], f"{name}: {tool} is not known to exist in its image"
        for key in ("interval", "timeout", "retries", "start_period"):
            assert key in check, f"{name}: healthcheck.{key}"
        assert duration_seconds(check["timeout"]) < duration_seconds(check["interval"])


def test_healthcheck_commands_never_rely_on_compose_interpolation():
    """A literal $ in a healthcheck must be written $$ (a single $ would be interpolated by Compose)."""
    for name, service in RAW["services"].items():
        for part in (service.get("healthcheck") or {}).get("test", []) or []:
            assert not re.search(r"(?<!\$)\$(?!\$)", part.replace("$$", "")), f"{name}: unescaped $ in {part!r}"


def test_redis_healthcheck_fails_on_error_replies():
    test = SERVICES["redis"]["healthcheck"]["test"]
    assert "-e" in test or any("PONG" in part for part in test), "plain `redis-cli ping` exits 0 on LOADING/NOAUTH"


def test_every_service_has_limits_and_rotated_logs():
    for name, service in SERVICES.items():
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if not one_shot(service):
            assert "memory" in limits and "cpus" in limits, f"{name}: memory and cpu limits"
            size_bytes(limits["memory"])
            float(limits["cpus"])
        logging = service.get("logging") or {}
        assert logging.get("driver") == "json-file", f"{name}: json-file logging"
        assert logging["options"].get("max-size") and logging["options"].get("max-file"), f"{name}: log rotation"


def test_durable_state_lives_in_named_volumes():
    durable = {
        "mongo": ["/data/db", "/data/configdb"],
        "redis": ["/data"],
        "elasticsearch": ["/usr/share/elasticsearch/data"],
        "fileserver": ["/mnt/fileserver"],
        "apiserver": ["/mnt/fileserver"],
        SIDECAR: ["/var/lib/clearml-probe"],
    }
    named = set(EFFECTIVE["volumes"])
    for name, targets in durable.items():
        mounts = {m.split(":")[1]: m.split(":")[0] for m in SERVICES[name].get("volumes", [])}
        for target in targets:
            assert mounts.get(target) in named, f"{name}: {target} must be a named volume"


def test_no_container_name_so_stateless_services_scale():
    for name, service in RAW["services"].items():
        assert "container_name" not in service, f"{name} sets container_name"
    for name in ("apiserver", "webserver"):
        assert not SERVICES[name].get("ports"), f"{name} publishes a port: it could not scale"


def test_configured_secure_conf_is_shared_and_gated():
    for name in ("apiserver", "fileserver", "async_delete", "secrets-check"):
        assert "./config:/opt/clearml/config:ro" in SERVICES[name]["volumes"], f"{name}: shared secure.conf"
        if name != "secrets-check":
            dep = SERVICES[name]["depends_on"].get("secrets-check")
            assert dep == {"condition": "service_completed_successfully"}, f"{name}: gated by secrets-check"
    assert SERVICES["secrets-check"]["network_mode"] == "none"


# --- Data stores -------------------------------------------------------------------------------------------------

def test_elasticsearch_heap_is_pinned_to_at_most_half_its_limit_with_memlock():
    es = SERVICES["elasticsearch"]
    env = environment_of(es)
    xms = re.search(r"-Xms(\S+)", env["ES_JAVA_OPTS"]).group(1)
    xmx = re.search(r"-Xmx(\S+)", env["ES_JAVA_OPTS"]).group(1)
    assert xms == xmx
    limit = size_bytes(es["deploy"]["resources"]["limits"]["memory"])
    assert size_bytes(xmx) <= limit / 2
    assert env["bootstrap.memory_lock"] == "true"
    assert es["ulimits"]["memlock"] == {"soft": -1, "hard": -1}
    assert es["ulimits"]["nofile"]["soft"] >= 65536 and es["ulimits"]["nofile"]["hard"] >= 65536
    assert env["discovery.type"] == "single-node"
    assert "cluster.initial_master_nodes" not in env, "fails together with single-node discovery"
    low, high, flood = (size_bytes(env[f"cluster.routing.allocation.disk.watermark.{k}"])
                        for k in ("low", "high", "flood_stage"))
    assert low >= high >= flood > 0, "free-space watermarks must go low >= high >= flood_stage"


def test_mongo_cache_fits_its_limit_and_keeps_clearml_parameters():
    mongo = SERVICES["mongo"]
    command = mongo["command"]
    cache_gb = float(command[command.index("--wiredTigerCacheSizeGB") + 1])
    limit_gb = size_bytes(mongo["deploy"]["resources"]["limits"]["memory"]) / (1 << 30)
    assert 0.25 <= cache_gb <= max(0.25, 0.5 * (limit_gb - 1))
    assert "internalQueryMaxBlockingSortMemoryUsageBytes=196100200" in command
    assert "--nojournal" not in command


def test_redis_never_evicts_and_persists():
    redis = SERVICES["redis"]
    command = redis["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"
    save = command.index("--save")
    points = []
    for arg in command[save + 1:]:
        if arg.startswith("--"):
            break
        points.append(int(arg))
    assert len(points) >= 2 and len(points) % 2 == 0, "explicit RDB save points"
    maxmemory = size_bytes(command[command.index("--maxmemory") + 1])
    assert maxmemory < size_bytes(redis["deploy"]["resources"]["limits"]["memory"])


# --- Images ------------------------------------------------------------------------------------------------------

def image_refs() -> dict[str, str]:
    refs = {name: s["image"] for name, s in SERVICES.items()}
    # Defaults as written (what runs when .env does not override them).
    for name, service in RAW["services"].items():
        for default in re.findall(r"\$\{[A-Z_]+:-([^}]+)\}", service["image"]):
            refs[f"{name} (default)"] = default
    return refs


def test_every_image_is_pinned_never_latest():
    for name, ref in image_refs().items():
        assert "@sha256:" in ref or re.search(r":[\w][\w.-]*$", ref.split("/")[-1]), f"{name}: {ref} has no tag"
        assert not ref.endswith(":latest"), f"{name}: {ref}"
    for key, value in read_env_file(COMPOSE_DIR / ".env.example").items():
        assert ":latest" not in value, f".env.example {key}={value}"


def test_image_tags_are_the_confirmed_ones():
    expected = {"nginx": "nginx:1.28.0", "mongo": "mongo:7.0.22", "redis": "redis:7.4.1",
                "elasticsearch": "elasticsearch:8.17.0"}
    for name, ref in expected.items():
        assert SERVICES[name]["image"] == ref
    # clearml/server tags could not be confirmed: a required .env value, never a default.
    for name in ("apiserver", "fileserver", "webserver", "async_delete", "secrets-check"):
        assert RAW["services"][name]["image"].startswith("${CLEARML_SERVER_IMAGE:?")


# --- Secrets -----------------------------------------------------------------------------------------------------

def public_default_digests() -> set[str]:
    text = (COMPOSE_DIR / "secrets_check.py").read_text()
    block = text.split("PUBLIC_DEFAULT_DIGESTS = {", 1)[1].split("}", 1)[0]
    digests = set(re.findall(r'"([0-9a-f]{64})"', block))
    assert len(digests) == 18
    return digests


def shipped_files() -> list[Path]:
    files = [p for p in COMPOSE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts
             and p.suffix != ".json"]
    files += [REPO_DIR / "Dockerfile", REPO_DIR / ".dockerignore"]
    files += [p for p in (REPO_DIR / "deploy").rglob("*") if p.is_file()]
    return [p for p in files if p.exists()]


def test_no_public_default_secret_appears_in_any_shipped_file():
    digests = public_default_digests()
    for path in shipped_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for token in re.findall(r"[^\s\"'`,]{20,}", text):
            for candidate in {token, token.rstrip(";:)}]"), token.strip("(){}[]:;")}:
                digest = hashlib.sha256(candidate.encode()).hexdigest()
                assert digest not in digests, f"{path}: contains one of ClearML's public default secrets"


def test_no_secret_is_set_through_compose_environment():
    for name, service in SERVICES.items():
        for key in environment_of(service):
            assert not key.lower().startswith("clearml__secure__"), f"{name}: secrets belong in config/secure.conf"


# --- The sidecar -------------------------------------------------------------------------------------------------

def sidecar_interface_names() -> set[str]:
    return {
        "CLEARML_WEB_HOST", "CLEARML_API_HOST", "CLEARML_FILES_HOST", "CLEARML_PROBE_INGRESS_CONNECT_TO",
        "CLEARML_PROBE_APISERVER_URL", "CLEARML_PROBE_WEBSERVER_URL", "CLEARML_PROBE_FILESERVER_URL",
        "CLEARML_API_ACCESS_KEY", "CLEARML_API_SECRET_KEY", "CLEARML_MONGODB_SERVICE_HOST",
        "CLEARML_MONGODB_SERVICE_PORT", "CLEARML_MONGODB_SERVICE_CONNECTION_STRING", "CLEARML_REDIS_SERVICE_HOST",
        "CLEARML_REDIS_SERVICE_PORT", "CLEARML_REDIS_SERVICE_PASSWORD", "CLEARML_ELASTIC_SERVICE_HOST",
        "CLEARML_ELASTIC_SERVICE_PORT", "CLEARML_ELASTIC_SERVICE_USERNAME", "CLEARML_ELASTIC_SERVICE_PASSWORD",
        "CLEARML_PROBE_STATE_DIR", "CLEARML_PROBE_INTERVAL", "CLEARML_PROBE_GRACE", "CLEARML_PROBE_LISTEN",
        "CLEARML_PROBE_CONFIG", "CLEARML_PROBE_ALERTS", "CLEARML_PROBE_HTTP_TOKEN",
    }


def is_alert_variable(key: str) -> bool:
    """The alert destinations' variables: which ones compose passes through is checked against what the
    platforms read by the Swift suite (NotifiersTests, "compose passes through exactly the alert variables")."""
    return key.startswith("CLEARML_PROBE_ALERT_")


def test_sidecar_is_unprivileged_read_only_and_independent():
    probe = SERVICES[SIDECAR]
    user = str(probe.get("user", ""))
    assert user and user.split(":")[0] not in {"0", "root"}, "non-root user"
    assert probe.get("read_only") is True
    assert not probe.get("privileged") and not probe.get("cap_add")
    assert "depends_on" not in probe, "the watcher must not depend on what it watches"
    assert sorted(probe["networks"]) == ["app", "data", "edge", "egress"]
    assert EFFECTIVE["networks"]["egress"].get("internal") is not True
    assert published(probe) == [("127.0.0.1", "9469", "9469")]
    assert probe["healthcheck"]["test"] == ["CMD", "clearml-probe", "healthcheck"]
    assert probe["command"] == ["serve"]
    assert "build" in probe, "a build fallback when the image cannot be pulled"
    context = (COMPOSE_DIR / probe["build"]["context"]).resolve()
    assert context == REPO_DIR
    assert (context / probe["build"].get("dockerfile", "Dockerfile")).exists()


def default_config_variables() -> set[str]:
    """The variables the probe's default config (probes/clearml.yaml) reads."""
    config = REPO_DIR / "probes" / "clearml.yaml"
    if not config.exists():
        return set()
    text = "\n".join(line.split("#", 1)[0] for line in config.read_text().splitlines())
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def test_sidecar_environment_follows_the_design_contract():
    env = environment_of(SERVICES[SIDECAR])
    names = sidecar_interface_names() | default_config_variables()
    for key in env:
        base = key[: -len("_FILE")] if key.endswith("_FILE") else key
        assert key in names or base in names or is_alert_variable(base), \
            f"{key} is not part of the sidecar's interface (docs/compose-facts.md) nor the default config"
    assert env["CLEARML_PROBE_LISTEN"] == "0.0.0.0:9469"
    assert env["CLEARML_PROBE_STATE_DIR"] == "/var/lib/clearml-probe"
    assert env["CLEARML_PROBE_APISERVER_URL"] == "http://apiserver:8008"
    assert env["CLEARML_PROBE_WEBSERVER_URL"] == "http://webserver:80"
    assert env["CLEARML_PROBE_FILESERVER_URL"] == "http://fileserver:8081"
    assert env["CLEARML_PROBE_INGRESS_CONNECT_TO"] in {"nginx:80", "nginx:443"}
    assert env["CLEARML_API_SECRET_KEY_FILE"] == "/run/secrets/clearml_probe_secret_key"
    assert "CLEARML_API_SECRET_KEY" not in env, "the secret comes from a Docker secret, not the environment"
    for host in ("mongo", "redis", "elasticsearch"):
        assert host in env.values()
    # What the default config needs from compose is set (or passed through) here.
    for name in default_config_variables() & {"CLEARML_WEB_HOST", "CLEARML_API_HOST", "CLEARML_FILES_HOST",
                                              "CLEARML_PROBE_INGRESS_CONNECT_TO", "CLEARML_API_ACCESS_KEY",
                                              "CLEARML_PROBE_STATE_DIR", "CLEARML_PROBE_CA_FILE"}:
        assert name in env, f"probes/clearml.yaml reads {name}; compose does not set it"
    alerts = [k for k in env if is_alert_variable(k)]
    assert alerts and all(env[k] is None for k in alerts), "alert settings pass through only when set"
    apiserver_start = duration_seconds(SERVICES["apiserver"]["healthcheck"]["start_period"])
    assert duration_seconds(env["CLEARML_PROBE_GRACE"]) >= apiserver_start


def test_tls_settings_move_together():
    """init.sh --tls sets scheme, secure cookie and the sidecar's connect-to port together."""
    https = load_effective(example_env(CLEARML_SCHEME="https", CLEARML_COOKIE_SECURE="true",
                                       CLEARML_INGRESS_CONNECT_TO="nginx:443"))
    s = https["services"]
    assert environment_of(s["nginx"])["CLEARML_INGRESS_MODE"] == "https"
    assert environment_of(s["apiserver"])["CLEARML__APISERVER__AUTH__COOKIES__SECURE"] == "true"
    assert environment_of(s[SIDECAR])["CLEARML_API_HOST"].startswith("https://api.")
    init = (COMPOSE_DIR / "init.sh").read_text()
    for line in ("set_env CLEARML_SCHEME https", "set_env CLEARML_COOKIE_SECURE true",
                 'set_env CLEARML_INGRESS_CONNECT_TO "nginx:$https_port"'):
        assert line in init


def test_cookie_domain_covers_the_three_subdomains():
    env = environment_of(SERVICES["apiserver"])
    domain = example_env()["CLEARML_DOMAIN"]
    assert env["CLEARML__APISERVER__AUTH__COOKIES__DOMAIN"] == "." + domain
    nginx = environment_of(SERVICES["nginx"])
    assert [nginx[f"CLEARML_INGRESS_{k}_HOST"] for k in ("APP", "API", "FILES")] == \
        [f"app.{domain}", f"api.{domain}", f"files.{domain}"]
    prefixes = environment_of(SERVICES["apiserver"])["CLEARML__services__async_urls_delete__fileserver__url_prefixes"]
    assert prefixes == f'["http://files.{domain}"]', "HOCON list of quoted public files URLs"


# --- Agents ------------------------------------------------------------------------------------------------------

def test_agent_services_is_opt_in_and_its_privileges_are_documented():
    agent = SERVICES["agent-services"]
    assert agent["profiles"] == ["agents"]
    assert agent["privileged"] is True and "/var/run/docker.sock:/var/run/docker.sock" in agent["volumes"]
    assert "data" not in agent["networks"]
    readme = (COMPOSE_DIR / "README.md").read_text()
    assert re.search(r"root on the host", readme, re.I), "README must say the services agent is root on the host"


# --- Minimum versions (Docker Engine 24, Compose 2.x) -------------------------------------------------------------

NEWER_TOP_LEVEL = {"include", "models"}
NEWER_SERVICE_KEYS = {"develop", "models", "post_start", "pre_stop", "provider", "use_api_socket", "gpus",
                      "label_file", "attach"}


def test_only_features_of_the_minimum_versions():
    assert not NEWER_TOP_LEVEL & set(RAW), "top-level keys newer than Compose 2.0"
    assert "version" not in RAW, "the version key is obsolete in Compose 2"
    for name, service in RAW["services"].items():
        assert not NEWER_SERVICE_KEYS & set(service), f"{name}: keys newer than Compose 2.0"
        check = service.get("healthcheck") or {}
        assert "start_interval" not in check, f"{name}: healthcheck.start_interval needs Docker Engine 25"
        for dep, cond in (service.get("depends_on") or {}).items():
            assert not {"required", "restart"} & set(cond), f"{name}: depends_on.{dep} uses newer options"
            assert cond.get("condition") in {"service_started", "service_healthy",
                                             "service_completed_successfully"}
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        assert "pids" not in limits, f"{name}: deploy.resources.limits.pids is newer"
        build = service.get("build") or {}
        assert not {"additional_contexts", "entitlements", "privileged"} & set(build), f"{name}: build keys"


# --- nginx environment vs templates ------------------------------------------------------------------------------

def test_nginx_environment_defines_exactly_the_template_variables():
    used = set()
    for template in TEMPLATES_DIR.rglob("*.template"):
        used |= set(re.findall(r"\$\{?(CLEARML_INGRESS_[A-Z0-9_]+)", template.read_text()))
    env = environment_of(SERVICES["nginx"])
    defined = {k for k in env if k.startswith("CLEARML_INGRESS_")}
    assert used == defined, f"undefined: {sorted(used - defined)}, unused: {sorted(defined - used)}"
    assert env["NGINX_ENVSUBST_FILTER"] == "^CLEARML_INGRESS_"
    volumes = SERVICES["nginx"]["volumes"]
    assert "./nginx/templates:/etc/nginx/templates:ro" in volumes
    # The image renders only when the command is nginx: never override it.
    assert "command" not in SERVICES["nginx"] and "entrypoint" not in SERVICES["nginx"]
    # Read-only root: the entrypoint renders into conf.d, nginx writes its cache and pid.
    assert SERVICES["nginx"]["read_only"] is True
    assert {"/etc/nginx/conf.d", "/run"} <= set(SERVICES["nginx"]["tmpfs"])
    # Buffered request bodies go to /var/cache/nginx: on a volume, never a tmpfs counted against the memory limit.
    assert "/var/cache/nginx" not in SERVICES["nginx"]["tmpfs"]
    assert "nginx_cache:/var/cache/nginx" in volumes


def test_readme_names_the_way_to_run_the_stack():
    readme = (COMPOSE_DIR / "README.md").read_text()
    for needle in ("./init.sh", "docker compose up -d", "vm.max_map_count",
                   "docker compose exec clearml-probe clearml-probe run", "/opt/clearml/data"):
        assert needle in readme, needle


def test_gitignore_keeps_generated_secrets_out_of_git():
    ignored = (COMPOSE_DIR / ".gitignore").read_text().split()
    for path in ("/.env", "/config/secure.conf", "/config/apiserver.conf", "/secrets/"):
        assert path in ignored, path


def test_compose_file_is_plain_yaml_without_tabs():
    text = COMPOSE_FILE.read_text()
    assert "\t" not in text
    yaml.safe_load(text)
