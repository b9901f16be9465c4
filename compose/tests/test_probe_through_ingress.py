"""The probe itself through compose/'s own ingress: the nginx templates rendered as the official image renders them
(compose.yaml's nginx environment, HTTP and HTTPS with a test CA), run in Debian's nginx in front of ONE ClearML
double (Tests/doubles/clearml_double.py as apiserver, webserver and fileserver), and the already-built
`clearml-probe run --format json` given only the environment contract of probes/clearml.yaml. What is asserted is
what a person on call would see: exit codes, statuses, summaries, root causes, and no secret in the output."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest

from certs import TestCA
from doubles import ClearMLDouble
from stack import (NGINX_BINARY, REPO_DIR, environment_of, example_env, free_port, load_effective, start_nginx,
                   stop_process)

PROBE = REPO_DIR / ".build" / "debug" / "clearml-probe"
CONTRACT = REPO_DIR / "probes" / "clearml.yaml"

# compose.yaml's nginx service as Compose gives it to the container, for a test domain.
DOMAIN = "probe-e2e.test"
NGINX_ENV = environment_of(load_effective(example_env(CLEARML_DOMAIN=DOMAIN))["services"]["nginx"])
APP, API, FILES = (NGINX_ENV[f"CLEARML_INGRESS_{k}_HOST"] for k in ("APP", "API", "FILES"))

# The probe's identity in the double. The secret must never reach the probe's output.
ACCESS_KEY = "E2EPROBEACCESSKEY0001"
SECRET_KEY = "e2e-" + os.urandom(16).hex() + "-secret"

SELECTION = ["--only", "ingress", "--only", "application", "--only", "execution"]

pytestmark = [
    pytest.mark.skipif(not Path(NGINX_BINARY).exists(),
                       reason="nginx is not installed (compose/tests/run.sh installs nginx-light)"),
    pytest.mark.skipif(not PROBE.exists(),
                       reason=f"the probe is not built ({PROBE.relative_to(REPO_DIR)} is missing): run `swift build` "
                              "at the repository root (scripts/test builds it before the compose tests)"),
]


# --- Fixtures ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clearml():
    double = ClearMLDouble("--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY,
                           "--validate-timeout", "2", "--proxy-timeout", "2")
    yield double
    status, stderr = double.close()
    assert status == 0, f"the ClearML double did not exit cleanly when its stdin closed: {stderr}"
    assert "auth.logout" not in stderr and "delete_many" not in stderr, f"the probe did what it never must: {stderr}"


@pytest.fixture(autouse=True)
def healthy_clearml(clearml):
    """Every test starts from a healthy ClearML whose `services` agent reports right now (what agents.workers
    expects by default)."""
    clearml.control("/reset", {})
    clearml.control("/state", {"queues": [{"name": "default", "system_tags": ["default"], "entries": []},
                                          {"name": "services", "entries": []}],
                               "workers": [{"id": "clearml-services", "queues": ["services"],
                                            "last_activity_time": None}]})


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("ca"))


class Ingress:
    def __init__(self, prefix: Path, env: dict[str, str], proc: subprocess.Popen):
        self.prefix, self.env, self.proc = prefix, env, proc
        self.https = env["CLEARML_INGRESS_MODE"] == "https"
        self.port = int(env["CLEARML_INGRESS_HTTPS_PORT" if self.https else "CLEARML_INGRESS_HTTP_PORT"])

    def access_log(self) -> list[dict]:
        path = Path(self.env["CLEARML_INGRESS_ACCESS_LOG"])
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def start_ingress(clearml, ca):
    """compose's nginx (its own environment; ports, upstreams, timeouts and certificate paths moved for the test)
    with the app/api/files upstreams on the double's web/api/files ports."""
    started: list[Ingress] = []

    def start(mode: str, certificate: tuple[Path, Path] | None = None) -> Ingress:
        # Outside pytest's 0700 base directory: nginx's workers run unprivileged, as in the image.
        prefix = Path(tempfile.mkdtemp(prefix="clearml-probe-ingress-"))
        env = {"PATH": os.environ["PATH"], **{k: v for k, v in NGINX_ENV.items() if v is not None}}
        env.update({
            "CLEARML_INGRESS_MODE": mode,
            "CLEARML_INGRESS_HTTP_PORT": str(free_port()),
            "CLEARML_INGRESS_HTTPS_PORT": str(free_port()),
            "CLEARML_INGRESS_STATUS_PORT": str(free_port()),
            "CLEARML_INGRESS_LEGACY_FILES_PORT": str(free_port()),
            "CLEARML_INGRESS_APP_UPSTREAM": f"127.0.0.1:{clearml.ports['web']}",
            "CLEARML_INGRESS_API_UPSTREAM": f"127.0.0.1:{clearml.ports['api']}",
            "CLEARML_INGRESS_FILES_UPSTREAM": f"127.0.0.1:{clearml.ports['files']}",
            "CLEARML_INGRESS_RESOLVER": "127.0.0.1",
            "CLEARML_INGRESS_PROXY_CONNECT_TIMEOUT": "1s",
            "CLEARML_INGRESS_PROXY_TIMEOUT": "5s",
            "CLEARML_INGRESS_ACCESS_LOG": str(prefix / "access.json"),
        })
        env["CLEARML_INGRESS_HTTPS_REDIRECT_PORT"] = env["CLEARML_INGRESS_HTTPS_PORT"]
        if certificate is not None:
            env["CLEARML_INGRESS_TLS_CERT"], env["CLEARML_INGRESS_TLS_KEY"] = map(str, certificate)
        ingress = Ingress(prefix, env, start_nginx(prefix, env))
        started.append(ingress)
        return ingress

    yield start
    for ingress in started:
        stop_process(ingress.proc)
        shutil.rmtree(ingress.prefix, ignore_errors=True)


@pytest.fixture(scope="module")
def http_ingress(start_ingress):
    return start_ingress("http")


@pytest.fixture(scope="module")
def https_ingress(start_ingress, ca):
    return start_ingress("https", ca.issue("good", [APP, API, FILES]))


# --- Running the probe -------------------------------------------------------------------------------------------

class Run:
    def __init__(self, completed: subprocess.CompletedProcess):
        self.exit_code = completed.returncode
        self.stdout, self.stderr = completed.stdout, completed.stderr
        try:
            self.report = json.loads(completed.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON report (exit {self.exit_code}):\n{completed.stdout}\n{completed.stderr}")
        self.checks = {check["key"]: check for check in self.report["checks"]}

    def __getitem__(self, key: str) -> dict:
        assert key in self.checks, f"no result {key}; results: {sorted(self.checks)}"
        return self.checks[key]

    def describe(self) -> str:
        return "\n".join(f"{c['key']}: {c['status']} {c['summary']} (root cause: {c['root_cause']})"
                         for c in self.report["checks"])


def run_probe(clearml: ClearMLDouble, ingress: Ingress, ca: TestCA | None = None) -> Run:
    """`clearml-probe run --format json` with nothing but the environment contract, in an empty folder."""
    scheme = "https" if ingress.https else "http"
    closed = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "CLEARML_PROBE_INSTANCE": "compose-e2e",
        "CLEARML_PROBE_TIMEOUT": "2s",
        "CLEARML_WEB_HOST": f"{scheme}://{APP}",
        "CLEARML_API_HOST": f"{scheme}://{API}",
        "CLEARML_FILES_HOST": f"{scheme}://{FILES}",
        "CLEARML_PROBE_INGRESS_CONNECT_TO": f"127.0.0.1:{ingress.port}",
        "CLEARML_PROBE_APISERVER_URL": f"http://127.0.0.1:{clearml.ports['api']}",
        "CLEARML_PROBE_WEBSERVER_URL": f"http://127.0.0.1:{clearml.ports['web']}",
        "CLEARML_PROBE_FILESERVER_URL": f"http://127.0.0.1:{clearml.ports['files']}",
        "CLEARML_API_ACCESS_KEY": ACCESS_KEY,
        "CLEARML_API_SECRET_KEY": SECRET_KEY,
        # The data layer is not part of this test (--only leaves it out); were it run, nothing would answer.
        "CLEARML_MONGODB_SERVICE_HOST": "127.0.0.1", "CLEARML_MONGODB_SERVICE_PORT": str(closed),
        "CLEARML_REDIS_SERVICE_HOST": "127.0.0.1", "CLEARML_REDIS_SERVICE_PORT": str(closed),
        "CLEARML_ELASTIC_SERVICE_HOST": "127.0.0.1", "CLEARML_ELASTIC_SERVICE_PORT": str(closed),
    }
    if ca is not None:
        env["CLEARML_PROBE_CA_FILE"] = str(ca.certificate)
    with tempfile.TemporaryDirectory(prefix="clearml-probe-run-") as cwd:
        completed = subprocess.run([str(PROBE), "run", "--format", "json", "--config", str(CONTRACT), *SELECTION],
                                   env=env, cwd=cwd, capture_output=True, text=True, timeout=45,
                                   stdin=subprocess.DEVNULL)
    run = Run(completed)
    assert_no_secret(run)
    return run


JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")


def assert_no_secret(run: Run) -> None:
    basic = base64.b64encode(f"{ACCESS_KEY}:{SECRET_KEY}".encode()).decode()
    for name, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        assert SECRET_KEY not in text, f"the secret key is in the probe's {name}"
        assert basic not in text, f"the Basic credentials are in the probe's {name}"
        assert not JWT.search(text), f"a token is in the probe's {name}: {JWT.search(text).group(0)[:12]}…"


def assert_healthy(run: Run, ingress: Ingress) -> None:
    assert run.exit_code == 0, f"exit {run.exit_code}:\n{run.describe()}"
    assert run.report["status"] == "ok" and run.report["root_causes"] == []
    for route in ("web", "api", "files"):
        assert run[f"ingress.routes/{route}"]["status"] == "ok", run.describe()
        headers = run[f"ingress.headers/{route}"]
        assert headers["status"] == "ok", f"compose's headers do not satisfy the probe: {headers['summary']}"
        assert headers["metrics"]["missing_headers"] == 0
    assert run["apiserver.auth/ingress"]["status"] == "ok", \
        f"the Authorization header did not survive the ingress: {run['apiserver.auth/ingress']['summary']}"
    assert run["fileserver.roundtrip/ingress"]["status"] == "ok", run["fileserver.roundtrip/ingress"]["summary"]
    for target in ("index", "configuration", "api", "files"):
        assert run[f"webserver.ui/{target}"]["status"] == "ok", run.describe()
    assert not [c["key"] for c in run.report["checks"] if c["status"] != "ok"], run.describe()
    # One probe pass stays far inside compose's API rate limit (50 r/s, burst 400).
    # (429 as a number of its own: a loopback port such as 48429 in a summary is not a rate limit.)
    assert not [c["key"] for c in run.report["checks"] if c["metrics"].get("status_code") == 429
                or re.search(r"(?<!\d)429(?!\d)", c["summary"])], run.describe()
    limited = [e for e in wait_for_access_log(ingress) if e["status"] == 429]
    assert not limited, f"nginx rate limited the probe: {limited}"


def wait_for_access_log(ingress: Ingress, timeout: float = 5.0) -> list[dict]:
    """The access log once nginx has written the upload through files. (it writes after each response)."""
    deadline = time.monotonic() + timeout
    entries = ingress.access_log()
    while time.monotonic() < deadline and not any(e["host"] == FILES and e["method"] == "POST" for e in entries):
        time.sleep(0.05)
        entries = ingress.access_log()
    return entries


# --- Healthy ------------------------------------------------------------------------------------------------------

def test_healthy_stack_over_http(clearml, http_ingress):
    run = run_probe(clearml, http_ingress)
    assert_healthy(run, http_ingress)
    assert "ingress.tls" not in {c["id"] for c in run.report["checks"]}, "no TLS to check on a plain-HTTP ingress"
    # The probe's calls reached the double through nginx with the public Host and their credentials.
    through = [r for r in clearml.control("/requests") if r["role"] == "api" and r["source"] == "client"
               and r["headers"].get("Host", r["headers"].get("host")) == API]
    schemes = {r["headers"].get("Authorization", r["headers"].get("authorization")) for r in through}
    assert "Bearer" in schemes, f"Authorization through the ingress: {schemes}"


def test_healthy_stack_over_https(clearml, https_ingress, ca):
    run = run_probe(clearml, https_ingress, ca)
    assert_healthy(run, https_ingress)
    # HSTS is part of the header check over HTTPS; compose sends it there.
    for route in ("web", "api", "files"):
        tls = run[f"ingress.tls/{route}"]
        assert tls["status"] == "ok", tls["summary"]
        assert 88 * 86400 <= tls["metrics"]["leaf_expiry_seconds"] <= 90 * 86400
        assert re.search(r"valid for 8[89] more days", tls["summary"]), tls["summary"]


# --- Faults, through the real compose nginx ----------------------------------------------------------------------

def test_apiserver_down_is_the_root_cause_of_a_502_api_route(clearml, http_ingress):
    clearml.control("/scenario", {"api": "down"})
    run = run_probe(clearml, http_ingress)
    assert run.exit_code == 2, run.describe()
    assert run.report["status"] == "critical"
    route = run["ingress.routes/api"]
    assert route["status"] == "critical"
    assert "502" in route["summary"] and route["metrics"].get("status_code") == 502, route["summary"]
    assert route["root_cause"] == "apiserver.ping", "the api route is a symptom of the apiserver, not nginx's fault"
    assert run["apiserver.ping"]["status"] == "critical" and run["apiserver.ping"]["root_cause"] is None
    assert "apiserver.ping" in run.report["root_causes"]
    assert "ingress.routes/api" not in run.report["root_causes"]
    assert run["ingress.routes/web"]["status"] == "ok" and run["ingress.routes/files"]["status"] == "ok"


def test_webserver_down_makes_the_web_route_a_symptom(clearml, http_ingress):
    clearml.control("/scenario", {"web": "down"})
    run = run_probe(clearml, http_ingress)
    assert run.exit_code == 2, run.describe()
    route = run["ingress.routes/web"]
    assert route["status"] == "critical" and "502" in route["summary"], route["summary"]
    assert route["root_cause"] == "webserver.ui/index"
    assert run["webserver.ui/index"]["status"] == "critical" and run["webserver.ui/index"]["root_cause"] is None
    assert run.report["root_causes"] == ["webserver.ui/index"], run.describe()
    assert run["ingress.routes/api"]["status"] == "ok" and run["apiserver.auth/ingress"]["status"] == "ok"


def test_expired_certificate(clearml, start_ingress, ca):
    expired = start_ingress("https", ca.issue("expired", [APP, API, FILES], not_before=timedelta(days=-90),
                                              not_after=timedelta(days=-1)))
    run = run_probe(clearml, expired, ca)
    assert run.exit_code == 2, run.describe()
    for route in ("web", "api", "files"):
        tls = run[f"ingress.tls/{route}"]
        assert tls["status"] == "critical" and "expired" in tls["summary"], tls["summary"]
        assert tls["key"] in run.report["root_causes"]
        # One finding per certificate: the route's handshake failure and its headers are symptoms of it.
        assert run[f"ingress.routes/{route}"]["root_cause"] == tls["key"]
        assert run[f"ingress.headers/{route}"]["root_cause"] == tls["key"]
    assert all(key.startswith("ingress.tls/") for key in run.report["root_causes"]), run.report["root_causes"]
