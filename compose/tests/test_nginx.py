"""The ingress templates, rendered exactly as the official nginx image renders them (envsubst of the defined
CLEARML_INGRESS_* variables only) with compose.yaml's own environment, run in a real nginx (Debian's 1.22) on
loopback ports against upstream doubles."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from doubles import DNSDouble, Upstream
from stack import (environment_of, free_port, load_effective, nginx_test_config, prepare_nginx_prefix,
                   render_templates, start_nginx, stop_process, TEMPLATES_DIR)

NGINX_ENV = environment_of(load_effective()["services"]["nginx"])
APP, API, FILES = (NGINX_ENV[f"CLEARML_INGRESS_{k}_HOST"] for k in ("APP", "API", "FILES"))

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/nginx").exists() and "NGINX_BINARY" not in os.environ,
                                reason="nginx is not installed (compose/tests/run.sh installs nginx-light)")


# --- Fixtures ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def upstreams():
    servers = {name: Upstream(name) for name in ("app", "api", "files")}
    yield servers
    for server in servers.values():
        server.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={APP}",
                    "-addext", f"subjectAltName=DNS:{APP},DNS:{API},DNS:{FILES}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    os.chmod(directory, 0o755)
    return cert, key


class Ingress:
    def __init__(self, prefix: Path, env: dict[str, str], proc: subprocess.Popen):
        self.prefix, self.env, self.proc = prefix, env, proc
        self.http_port = int(env["CLEARML_INGRESS_HTTP_PORT"])
        self.https_port = int(env["CLEARML_INGRESS_HTTPS_PORT"])
        self.status_port = int(env["CLEARML_INGRESS_STATUS_PORT"])
        self.legacy_port = int(env["CLEARML_INGRESS_LEGACY_FILES_PORT"])

    @property
    def access_log(self) -> Path:
        return Path(self.env["CLEARML_INGRESS_ACCESS_LOG"])


@pytest.fixture(scope="module")
def start_ingress(tmp_path_factory, upstreams, certificate):
    """Renders the templates with compose's nginx environment plus test overrides, and starts nginx."""
    started: list[Ingress] = []
    prefixes: list[Path] = []

    def start(**overrides: str) -> Ingress:
        # Outside pytest's 0700 base directory: nginx's workers run unprivileged, as in the image, and buffer
        # request bodies to temp files under the prefix.
        prefix = Path(tempfile.mkdtemp(prefix="clearml-ingress-"))
        prefixes.append(prefix)
        env = {"PATH": os.environ["PATH"]}
        env.update({k: v for k, v in NGINX_ENV.items() if v is not None})
        env.update({
            "CLEARML_INGRESS_HTTP_PORT": str(free_port()),
            "CLEARML_INGRESS_HTTPS_PORT": str(free_port()),
            "CLEARML_INGRESS_STATUS_PORT": str(free_port()),
            "CLEARML_INGRESS_LEGACY_FILES_PORT": str(free_port()),
            "CLEARML_INGRESS_APP_UPSTREAM": upstreams["app"].address,
            "CLEARML_INGRESS_API_UPSTREAM": upstreams["api"].address,
            "CLEARML_INGRESS_FILES_UPSTREAM": upstreams["files"].address,
            "CLEARML_INGRESS_RESOLVER": "127.0.0.1",
            "CLEARML_INGRESS_PROXY_CONNECT_TIMEOUT": "2s",
            "CLEARML_INGRESS_PROXY_TIMEOUT": "10s",
            "CLEARML_INGRESS_API_RATE": "1000r/s",
            "CLEARML_INGRESS_API_MAX_BODY": "1m",
            "CLEARML_INGRESS_ACCESS_LOG": str(prefix / "access.json"),
            "CLEARML_INGRESS_TLS_CERT": str(certificate[0]),
            "CLEARML_INGRESS_TLS_KEY": str(certificate[1]),
        })
        env["CLEARML_INGRESS_HTTPS_REDIRECT_PORT"] = env["CLEARML_INGRESS_HTTPS_PORT"]
        env.update(overrides)
        ingress = Ingress(prefix, env, start_nginx(prefix, env))
        started.append(ingress)
        return ingress

    yield start
    for ingress in started:
        stop_process(ingress.proc)
    for prefix in prefixes:
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture(scope="module")
def ingress(start_ingress):
    return start_ingress(CLEARML_INGRESS_MODE="http")


@pytest.fixture(scope="module")
def tls_ingress(start_ingress):
    return start_ingress(CLEARML_INGRESS_MODE="https")


# --- Clients -----------------------------------------------------------------------------------------------------

def request(port: int, host: str, path: str = "/", method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None, sock: socket.socket | None = None):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    if sock is not None:
        conn.sock = sock
    else:
        conn.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    all_headers = {"Host": host, **(headers or {})}
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def tls_socket(port: int, server_name: str, cafile: Path, alpn: list[str] | None = None) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(cafile))
    if alpn:
        context.set_alpn_protocols(alpn)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname=server_name)


# --- Rendering ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["http", "https"])
def test_templates_render_completely_and_nginx_accepts_them(tmp_path, mode, certificate):
    env = {"PATH": os.environ["PATH"], **{k: v for k, v in NGINX_ENV.items() if v is not None},
           "CLEARML_INGRESS_MODE": mode, "CLEARML_INGRESS_TLS_CERT": str(certificate[0]),
           "CLEARML_INGRESS_TLS_KEY": str(certificate[1]), "CLEARML_INGRESS_ACCESS_LOG": str(tmp_path / "a.log"),
           # Unprivileged ports for `nginx -t` (it binds nothing, but keep it runnable as any user).
           "CLEARML_INGRESS_HTTP_PORT": "8080", "CLEARML_INGRESS_HTTPS_PORT": "8443"}
    conf = prepare_nginx_prefix(tmp_path, env)
    rendered = "".join(p.read_text() for p in (tmp_path / "etc/nginx/conf.d").iterdir())
    assert "$CLEARML_INGRESS_" not in rendered and "${CLEARML_INGRESS_" not in rendered, \
        "a template variable compose.yaml does not define"
    for nginx_variable in ("$host", "$remote_addr", "$request_uri", "$binary_remote_addr", "$clearml_upstream"):
        assert nginx_variable in rendered, f"{nginx_variable} was substituted away"
    checked = nginx_test_config(conf, tmp_path)
    assert checked.returncode == 0, checked.stderr
    directives = [line.split("#")[0].strip() for line in rendered.splitlines()]
    assert not any(d.startswith("http2 ") for d in directives), "`http2 on;` needs nginx 1.25.1; Debian has 1.22"


def test_rendering_substitutes_only_variables_that_pass_the_filter(tmp_path):
    """With NGINX_ENVSUBST_FILTER, an environment variable named like an nginx variable changes nothing."""
    env = {"PATH": os.environ["PATH"], **{k: v for k, v in NGINX_ENV.items() if v is not None},
           "host": "SUBSTITUTED", "remote_addr": "SUBSTITUTED"}
    render_templates(TEMPLATES_DIR, tmp_path, env)
    rendered = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "SUBSTITUTED" not in rendered
    assert NGINX_ENV["CLEARML_INGRESS_API_HOST"] in rendered


# --- Routing -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host,upstream", [(APP, "app"), (API, "api"), (FILES, "files")])
def test_each_public_host_reaches_its_upstream(ingress, host, upstream):
    response, data = request(ingress.http_port, host, "/some/path?x=1", headers={"X-Forwarded-For": "6.6.6.6"})
    assert response.status == 200
    echo = json.loads(data)
    assert echo["upstream"] == upstream
    assert echo["path"] == "/some/path?x=1"
    assert echo["host"] == host, "the apiserver's cookie domain needs the public Host"
    assert echo["x_forwarded_for"] == "127.0.0.1", "a client-supplied X-Forwarded-For must not pass"
    assert echo["x_real_ip"] == "127.0.0.1"
    assert echo["x_forwarded_proto"] == "http"


def test_the_ui_api_and_files_paths_go_to_the_webserver(ingress):
    for path in ("/api/debug.ping", "/files/a.txt"):
        response, data = request(ingress.http_port, APP, path)
        assert response.status == 200 and json.loads(data)["upstream"] == "app"


def test_unknown_host_is_refused_and_healthz_answers(ingress):
    response, _ = request(ingress.http_port, "other.example.org", "/")
    assert response.status == 404
    response, data = request(ingress.http_port, "127.0.0.1", "/healthz")
    assert response.status == 200 and data == b"ok\n"
    response, data = request(ingress.status_port, "127.0.0.1", "/healthz")
    assert response.status == 200 and data == b"ok\n"


def test_a_dead_upstream_gives_502_and_does_not_stop_nginx(start_ingress):
    closed = free_port()
    broken = start_ingress(CLEARML_INGRESS_MODE="http", CLEARML_INGRESS_API_UPSTREAM=f"127.0.0.1:{closed}")
    response, _ = request(broken.http_port, API, "/debug.ping")
    assert response.status == 502
    response, _ = request(broken.http_port, APP, "/")
    assert response.status == 200


# --- Headers -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", [APP, API, FILES, "other.example.org"])
def test_security_headers_on_every_route(ingress, host):
    response, _ = request(ingress.http_port, host, "/x")
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers.get_all("X-Frame-Options") == ["SAMEORIGIN"], "exactly one frame policy (upstream's hidden)"
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert APP in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers, "HSTS only over HTTPS"
    assert headers["Server"] == "nginx", "no version, no upstream server name"


def test_report_widgets_can_be_embedded_by_other_sites(ingress):
    """The webserver serves /widgets with frame-ancestors * so reports embed elsewhere; the ingress must not add a
    frame policy of its own there (X-Frame-Options or a second frame-ancestors would block the embedding)."""
    response, data = request(ingress.http_port, APP, "/widgets/?type=plot&objectType=task")
    assert response.status == 200 and json.loads(data)["upstream"] == "app"
    headers = response.headers
    assert headers.get_all("X-Frame-Options") is None, "no X-Frame-Options on embeddable widgets"
    assert headers.get_all("Content-Security-Policy") == ["frame-ancestors *"], "only the webserver's own policy"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Everything else of the UI stays unframeable by other sites.
    response, _ = request(ingress.http_port, APP, "/projects")
    assert response.headers.get_all("X-Frame-Options") == ["SAMEORIGIN"]


# --- Old fileserver links (http://<host>:8081/...) ---------------------------------------------------------------

def test_old_fileserver_links_redirect_browsers_to_the_files_host(ingress):
    """A browser opening a stored http://<old host>:8081/<path> link is sent to files.<domain>, where the login
    cookie of .<domain> reaches the fileserver; path and query are kept."""
    public = ingress.env["CLEARML_INGRESS_FILES_PUBLIC_URL"]
    for method in ("GET", "HEAD"):
        response, _ = request(ingress.legacy_port, "clearml.old-host.example:8081",
                              "/proj/task.1/artifacts/a%20b.bin?download", method=method)
        assert response.status == 302, method
        assert response.headers["Location"] == f"{public}/proj/task.1/artifacts/a%20b.bin?download"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_old_fileserver_links_serve_sdk_requests_directly(ingress):
    """The SDK and agents send a Bearer token (which a redirect to another host would drop): proxied as is, and so
    are uploads and deletes."""
    response, data = request(ingress.legacy_port, "10.1.2.3:8081", "/proj/model.pkl",
                             headers={"Authorization": "Bearer t0k"})
    echo = json.loads(data)
    assert response.status == 200 and echo["upstream"] == "files" and echo["path"] == "/proj/model.pkl"
    assert echo["authorization"] == "Bearer t0k"
    body = b"x" * (3 << 20)
    response, data = request(ingress.legacy_port, "10.1.2.3:8081", "/", method="POST", body=body,
                             headers={"Authorization": "Bearer t0k", "Content-Type": "application/octet-stream"})
    assert response.status == 200 and json.loads(data)["body_bytes"] == len(body), "uploads are not capped"
    response, data = request(ingress.legacy_port, "10.1.2.3:8081", "/proj/model.pkl", method="DELETE")
    assert response.status == 200 and json.loads(data)["method"] == "DELETE"


# --- Rate limit --------------------------------------------------------------------------------------------------

def test_api_rate_limit_answers_429_with_retry_after(start_ingress):
    limited = start_ingress(CLEARML_INGRESS_MODE="http", CLEARML_INGRESS_API_RATE="2r/s",
                            CLEARML_INGRESS_API_BURST="3")
    statuses = []
    rejected = None
    for _ in range(12):
        response, data = request(limited.http_port, API, "/queues.get_all", method="POST", body=b"{}")
        statuses.append(response.status)
        if response.status == 429:
            rejected = (response, data)
    assert statuses[:4] == [200] * 4, f"the burst passes: {statuses}"
    assert rejected is not None, f"no 429 in {statuses}"
    response, data = rejected
    assert response.headers["Retry-After"] == limited.env["CLEARML_INGRESS_RETRY_AFTER"]
    assert response.headers["Content-Type"] == "application/json"
    envelope = json.loads(data)
    assert envelope["meta"]["result_code"] == 429 and envelope["data"] is None
    assert response.headers["X-Content-Type-Options"] == "nosniff", "security headers on the 429 too"
    # The UI's API calls through app.<domain>/api/ share the same per-client budget.
    response, _ = request(limited.http_port, APP, "/api/queues.get_all")
    assert response.status == 429
    # Static UI and files are not limited.
    assert request(limited.http_port, APP, "/")[0].status == 200
    assert request(limited.http_port, FILES, "/")[0].status == 200
    time.sleep(1.2)
    assert request(limited.http_port, API, "/debug.ping")[0].status == 200, "the budget refills"


# --- Bodies ------------------------------------------------------------------------------------------------------

def test_a_large_upload_passes_to_files(ingress):
    size = 20 * 1024 * 1024
    response, data = request(ingress.http_port, FILES, "/project/artifact.bin", method="POST", body=b"\0" * size,
                             headers={"Content-Type": "application/octet-stream"})
    assert response.status == 200
    assert json.loads(data)["body_bytes"] == size


def test_api_bodies_are_capped_at_the_configured_size(ingress):
    response, _ = request(ingress.http_port, API, "/events.add_batch", method="POST", body=b"x" * (2 << 20))
    assert response.status == 413
    response, data = request(ingress.http_port, API, "/events.add_batch", method="POST", body=b"x" * (512 << 10))
    assert response.status == 200 and json.loads(data)["body_bytes"] == 512 << 10


# --- Internal status ---------------------------------------------------------------------------------------------

def test_stub_status_only_on_the_internal_listener(ingress):
    for host in (APP, API, FILES, "other.example.org", "127.0.0.1"):
        _, data = request(ingress.http_port, host, "/nginx_status")
        assert b"Active connections" not in data, f"stub_status reachable through {host}"
    response, data = request(ingress.status_port, "127.0.0.1", "/nginx_status")
    assert response.status == 200 and data.startswith(b"Active connections:")


def test_status_listener_allow_list_applies(start_ingress):
    closed = start_ingress(CLEARML_INGRESS_MODE="http", CLEARML_INGRESS_STATUS_ACCESS="deny all;")
    assert request(closed.status_port, "127.0.0.1", "/nginx_status")[0].status == 403


def test_optional_allow_list_per_host(start_ingress):
    restricted = start_ingress(CLEARML_INGRESS_MODE="http", CLEARML_INGRESS_API_ACCESS="allow 10.0.0.0/8; deny all;")
    assert request(restricted.http_port, API, "/debug.ping")[0].status == 403
    assert request(restricted.http_port, APP, "/")[0].status == 200


def test_access_log_is_json_without_query_strings(ingress):
    request(ingress.http_port, API, "/auth.login?token=SECRET-IN-QUERY")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and b"auth.login" not in ingress.access_log.read_bytes():
        time.sleep(0.05)
    lines = [json.loads(line) for line in ingress.access_log.read_text().splitlines()]
    entry = next(e for e in lines if e["uri"] == "/auth.login")
    assert entry["host"] == API and entry["status"] == 200 and entry["upstream_addr"]
    assert isinstance(entry["request_time"], float)
    assert "SECRET-IN-QUERY" not in ingress.access_log.read_text()


# --- TLS ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host,upstream", [(APP, "app"), (API, "api"), (FILES, "files")])
def test_https_serves_each_host_with_hsts(tls_ingress, certificate, host, upstream):
    sock = tls_socket(tls_ingress.https_port, host, certificate[0])
    response, data = request(tls_ingress.https_port, host, "/p", sock=sock)
    assert response.status == 200
    echo = json.loads(data)
    assert echo["upstream"] == upstream and echo["x_forwarded_proto"] == "https"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_https_offers_http2(tls_ingress, certificate):
    sock = tls_socket(tls_ingress.https_port, API, certificate[0], alpn=["h2", "http/1.1"])
    assert sock.selected_alpn_protocol() == "h2"
    sock.close()


def test_https_refuses_unknown_names(tls_ingress, certificate):
    with pytest.raises(ssl.SSLError):
        tls_socket(tls_ingress.https_port, "other.example.org", certificate[0])


def test_http_redirects_to_https_keeping_path_and_method(tls_ingress):
    for host in (APP, API, FILES):
        response, _ = request(tls_ingress.http_port, host, "/a/b?c=d", method="POST", body=b"{}")
        assert response.status == 308
        assert response.headers["Location"] == f"https://{host}:{tls_ingress.https_port}/a/b?c=d"
        assert "Strict-Transport-Security" not in response.headers, "HSTS is sent over HTTPS only"
    # The container healthcheck's port and the HTTP default server still answer.
    assert request(tls_ingress.http_port, "127.0.0.1", "/healthz")[0].status == 200


def test_redirect_omits_the_default_https_port(start_ingress):
    standard = start_ingress(CLEARML_INGRESS_MODE="https", CLEARML_INGRESS_HTTPS_REDIRECT_PORT="443")
    response, _ = request(standard.http_port, APP, "/x")
    assert response.headers["Location"] == f"https://{APP}/x"


# --- Docker's resolver: scaled and re-created upstreams ----------------------------------------------------------

def test_upstreams_are_resolved_at_request_time_across_replicas(start_ingress):
    """As with Docker's 127.0.0.11: nginx starts before the name resolves, spreads requests over every replica
    (docker compose up --scale apiserver=3) and follows a re-created container's new address."""
    dns = DNSDouble()
    port = free_port()
    replicas = {ip: Upstream(f"replica-{ip}", host=ip, port=port) for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4")}
    try:
        ingress = start_ingress(CLEARML_INGRESS_MODE="http", CLEARML_INGRESS_RESOLVER=f"127.0.0.1:{dns.port}",
                                CLEARML_INGRESS_RESOLVER_VALID="1s",
                                CLEARML_INGRESS_API_UPSTREAM=f"apiserver.stack.test:{port}")
        # Not resolvable yet (the service is still starting): 502, nginx keeps running.
        assert request(ingress.http_port, API, "/debug.ping")[0].status == 502

        def upstreams_seen(until: set[str], timeout: float = 6.0) -> set[str]:
            """Requests until `until` were all answered by (the cache expires within 1-2 s: valid is in whole
            seconds); returns what answered in the last round."""
            deadline = time.monotonic() + timeout
            seen: set[str] = set()
            while time.monotonic() < deadline:
                response, data = request(ingress.http_port, API, "/debug.ping")
                seen = seen | {json.loads(data)["upstream"]} if response.status == 200 else set()
                if until <= seen:
                    break
                time.sleep(0.1)
            return seen

        dns.records["apiserver.stack.test"] = ["127.0.0.2", "127.0.0.3"]
        assert upstreams_seen({"replica-127.0.0.2", "replica-127.0.0.3"}) == {"replica-127.0.0.2",
                                                                              "replica-127.0.0.3"}
        # Re-created: a new address; once the resolver's validity ends, nginx follows it, and only it.
        dns.records["apiserver.stack.test"] = ["127.0.0.4"]
        assert "replica-127.0.0.4" in upstreams_seen({"replica-127.0.0.4"})
        after = {json.loads(request(ingress.http_port, API, "/debug.ping")[1])["upstream"] for _ in range(4)}
        assert after == {"replica-127.0.0.4"}
        assert "apiserver.stack.test" in dns.queries
    finally:
        dns.close()
        for replica in replicas.values():
            replica.close()
