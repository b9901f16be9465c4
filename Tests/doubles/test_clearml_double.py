"""Proves clearml_double.py answers as a real ClearML server v2.3.0 does (docs/clearml-api.md). Run: python3 -m pytest Tests/doubles -q"""

import base64
import json
import os
import socket
import time
import urllib.error
import urllib.request
import uuid

import pytest

import double_client

BASIC = "Basic " + base64.b64encode(b"probe-key:probe-secret").decode()


def launch(*extra):
    proc, ports = double_client.launch("clearml_double.py", "--validate-timeout", "1.5", "--proxy-timeout", "1", *extra)
    assert set(ports) == {"api", "files", "web", "control"}
    return proc, ports


@pytest.fixture(scope="module")
def double():
    proc, ports = launch()
    yield ports
    proc.stdin.close()  # closing stdin is the shutdown signal
    assert proc.wait(timeout=5) == 0


@pytest.fixture(autouse=True)
def reset(double):
    control(double, "/reset", {})


def http(port, path, method="GET", body=None, headers=None, timeout=5.0):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def control(ports, path, body=None):
    status, _, raw = http(ports["control"], path, "POST" if body is not None else "GET", body)
    assert status == 200, raw
    return json.loads(raw)


def api(ports, endpoint, body=None, auth=BASIC, method="POST", **kw):
    headers = {"Authorization": auth} if auth else {}
    status, hdrs, raw = http(ports["api"], "/" + endpoint, method, {} if body is None else body, headers, **kw)
    return status, hdrs, json.loads(raw)


def login(ports, **body):
    status, _, reply = api(ports, "auth.login", body)
    assert status == 200
    return reply["data"]["token"]


def multipart(fields):
    boundary = uuid.uuid4().hex
    out = b""
    for name, content in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"blob\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(ports, fields, token, port_key="files", path="/"):
    body, ctype = multipart(fields)
    return http(ports[port_key], path, "POST", body, {"Content-Type": ctype, "Authorization": f"Bearer {token}"})


def assert_refused(port):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- apiserver ---------------------------------------------------------------------------------------------------
def test_envelope_and_path_forms(double):
    for path in ("/debug.ping", "/v2.34/debug.ping", "/debug.ping/", "/v2.4/debug.ping/"):
        status, hdrs, raw = http(double["api"], path, "POST", {"hello": 1})
        reply = json.loads(raw)
        assert status == reply["meta"]["result_code"] == 200 and reply["meta"]["result_subcode"] == 0
        assert reply["meta"]["result_msg"] == "OK" and reply["data"]["msg"] == "ClearML server"
        assert hdrs["server"] and "clearml" in hdrs.get_all("server")
        assert set(reply["meta"]) >= {"id", "trx", "endpoint", "error_data"}
    # GET with a JSON body (how official clients call), any Content-Type
    status, _, raw = http(double["api"], "/debug.ping", "GET", b'{"a": 2}', {"Content-Type": "text/plain"})
    assert status == 200 and json.loads(raw)["data"]["a"] == 2
    for path, code, msg in (("/", 400, "Invalid request path /"), ("/health", 400, "Invalid request path /health"),
                            ("/nope.action", 404, "Unable to find endpoint for name nope.action and version 2.34"),
                            ("/v2.14/queues.get_num_entries", 404, None)):
        status, _, raw = http(double["api"], path, "POST", {})
        reply = json.loads(raw)
        assert status == reply["meta"]["result_code"] == code and reply["meta"]["result_subcode"] == 0
        assert msg is None or reply["meta"]["result_msg"] == msg
    status, _, raw = http(double["api"], "/debug.ping", "POST", b"{not json")
    assert status == 400 == json.loads(raw)["meta"]["result_code"]


@pytest.mark.parametrize("auth,code,sub,msg", [
    (None, 401, 20, "Unauthorized (missing credentials)"),
    ("Basic !!!notbase64", 401, 21, None),
    ("Basic " + base64.b64encode(b"probe-key:wrong").decode(), 401, 22,
     "Unauthorized (invalid credentials) (failed to locate provided credentials)"),
    ("Basic " + base64.b64encode(b"nobody:x").decode(), 401, 22, None),
    ("Digest abc", 401, 10, "Unauthorized (bad authentication header type)"),
    ("Bearer not-a-jwt", 401, 30, None),
    ("Bearer a.b.c", 401, 30, None),
])
def test_auth_error_table(double, auth, code, sub, msg):
    status, _, reply = api(double, "queues.get_all", auth=auth)
    assert (status, reply["meta"]["result_code"], reply["meta"]["result_subcode"]) == (code, code, sub)
    assert msg is None or reply["meta"]["result_msg"] == msg
    assert reply["data"] is None


def test_token_lifecycle(double):
    token = login(double, expiration_sec=60)
    status, hdrs, reply = api(double, "auth.login", auth=f"Bearer {token}")  # Bearer refreshes
    assert status == 200 and "clearml_token_basic=" in hdrs["Set-Cookie"]
    status, _, raw = http(double["api"], "/queues.get_all", "POST", {}, {"Cookie": f"clearml_token_basic={token}"})
    assert status == 200
    status, _, reply = api(double, "auth.login", {"expiration_sec": 31536001})
    assert (status, reply["meta"]["result_subcode"]) == (400, 12)
    expired = control(double, "/token", {"expiration_sec": -5})["token"]
    status, _, reply = api(double, "queues.get_all", auth=f"Bearer {expired}")
    assert (status, reply["meta"]["result_subcode"]) == (401, 30)
    assert reply["meta"]["result_msg"] == "Invalid token (invalid jwt token): reason=Signature has expired"
    assert api(double, "auth.logout", auth=f"Bearer {token}")[0] == 200
    status, _, reply = api(double, "queues.get_all", auth=f"Bearer {token}")
    assert (status, reply["meta"]["result_msg"]) == (401, "Invalid token (revoked token)")
    assert control(double, "/counters")["api"]["auth.logout"] == 1


def test_roles_and_server_info(double):
    status, _, reply = api(double, "auth.validate_token", {"token": "x"})
    assert (status, reply["meta"]["result_subcode"]) == (403, 20)
    fs = "Basic " + base64.b64encode(b"fs-key:fs-secret").decode()
    status, _, reply = api(double, "auth.validate_token", {"token": login(double)}, auth=fs)
    assert status == 200 and reply["data"]["valid"] is True
    status, _, reply = api(double, "server.info", auth=None)
    assert (status, reply["meta"]["result_subcode"]) == (401, 20)  # v2.3.0: auth needed
    status, _, reply = api(double, "server.info")
    assert status == 200 and reply["data"]["version"] == "2.3.0" and reply["data"]["api_version"] == "2.34"
    proc, ports = launch("--server-version", "2.2.0")
    try:
        status, _, reply = api(ports, "server.info", auth=None)
        assert status == 200 and reply["data"]["api_version"] == "2.33"
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0


def test_queues_and_workers_state(double):
    now = time.time()
    control(double, "/state", {
        "queues": [{"name": "default", "entries": [{"task": "t1", "added": now - 600}, {"task": "t2", "added": now}]},
                   {"name": "services"}],
        "workers": [{"id": "w-fresh", "queues": ["default"], "last_activity_time": now - 30},
                    {"id": "w-old", "queues": ["default"], "last_activity_time": now - 300},
                    {"id": "w-gone", "queues": ["default"], "last_activity_time": now - 7200}]})
    token = login(double)
    _, _, reply = api(double, "queues.get_all", {"only_fields": ["name", "entries"], "max_task_entries": 1},
                      auth=f"Bearer {token}")
    default = next(q for q in reply["data"]["queues"] if q["name"] == "default")
    assert set(default) == {"id", "name", "entries"} and [e["task"] for e in default["entries"]] == ["t1"]
    _, _, reply = api(double, "queues.get_num_entries", {"queue": default["id"]}, auth=f"Bearer {token}")
    assert reply["data"]["num"] == 2
    # a whole queue has the fields of a real v2.3.0 one: no user, no display_name unless set, last_update
    _, _, reply = api(double, "queues.get_all", {}, auth=f"Bearer {token}")
    whole = next(q for q in reply["data"]["queues"] if q["name"] == "default")
    assert set(whole) == {"id", "name", "company", "created", "tags", "system_tags", "entries", "last_update", "metadata"}
    assert whole["last_update"] == whole["entries"][-1]["added"]
    _, _, reply = api(double, "workers.get_all", {}, auth=f"Bearer {token}")
    assert [w["id"] for w in reply["data"]["workers"]] == ["w-fresh", "w-old"]  # w-gone expired (TTL 600)
    assert reply["data"]["workers"][0]["queues"][0]["num_tasks"] == 2
    _, _, reply = api(double, "workers.get_all", {"last_seen": 60}, auth=f"Bearer {token}")
    assert [w["id"] for w in reply["data"]["workers"]] == ["w-fresh"]


def test_api_faults(double):
    control(double, "/scenario", {"api": "mongo_down:300"})
    start = time.monotonic()
    status, _, reply = api(double, "auth.login")
    assert time.monotonic() - start >= 0.3
    assert (status, reply["meta"]["result_subcode"]) == (500, 1)
    assert reply["meta"]["result_msg"].startswith("Internal server error (while authorizing request): err=")
    assert api(double, "debug.ping", auth=None)[0] == 200

    control(double, "/scenario", {"api": "ok"})
    token = login(double)
    control(double, "/scenario", {"api": "redis_down"})
    status, _, raw = http(double["api"], "/queues.get_all", "POST", {}, {"Authorization": f"Bearer {token}"})
    assert status == 500 and raw.startswith(b"Failed processing request")
    assert api(double, "auth.login")[0] == 200
    status, _, reply = api(double, "workers.get_all")
    assert (status, reply["meta"]["result_subcode"]) == (500, 100)

    control(double, "/scenario", {"api": "es_disk"})
    assert api(double, "auth.login")[0] == 200 and api(double, "queues.get_all")[0] == 200
    status, _, reply = api(double, "events.add", {"task": "t"})
    assert (status, reply["meta"]["result_subcode"]) == (500, 4)

    for scenario, auth, expected in (("bad_credentials", BASIC, (401, 22)), ("revoked", f"Bearer {token}", (401, 30)),
                                     ("role_forbidden", BASIC, (403, 20))):
        control(double, "/scenario", {"api": scenario})
        status, _, reply = api(double, "queues.get_all", auth=auth)
        assert (status, reply["meta"]["result_subcode"]) == expected


# --- fileserver --------------------------------------------------------------------------------------------------
def test_fileserver_cycle(double):
    token = login(double)
    content = os.urandom(4096) + b"\r\n--\r\n\r\n"
    status, hdrs, raw = upload(double, {"/hp/run1/probe.bin": content, "hp/run1/b.txt": b"b"}, token)
    assert status == 200 and json.loads(raw) == ["hp/run1/probe.bin", "hp/run1/b.txt"]
    assert hdrs["Content-Type"].startswith("text/html")
    bearer = {"Authorization": f"Bearer {token}"}
    status, hdrs, raw = http(double["files"], "/hp/run1/probe.bin", headers=bearer)
    assert status == 200 and raw == content
    assert hdrs["Cache-Control"] == "public, max-age=300" and hdrs["Content-Disposition"].startswith("inline")
    assert http(double["files"], "/hp/run1/probe.bin", "DELETE", headers=bearer)[:3:2] == (200, b'"hp/run1/probe.bin"')
    assert http(double["files"], "/hp/run1/probe.bin", headers=bearer)[0] == 404
    status, _, raw = http(double["files"], "/hp/run1/probe.bin", "DELETE", headers=bearer)
    assert (status, raw) == (404, b"File hp/run1/probe.bin not found")
    assert http(double["files"], "/hp/run1", headers=bearer)[0] == 404  # a directory
    assert upload(double, {"../escape.txt": b"x"}, token)[0] == 404
    assert upload(double, {"a.txt": b"x"}, token, path="/hp/")[0] == 405
    assert http(double["files"], "/x", "PUT", b"x", bearer)[0] == 405
    assert http(double["files"], "/x", "DELETE", headers={"Authorization": BASIC})[2] == \
        b"Only bearer token authorization is supported"
    status, _, raw = http(double["files"], "/hp/run1/b.txt")
    assert status == 401 and b"<title>401 Unauthorized</title>" in raw
    assert http(double["files"], "/")[2] == b"OK"
    assert http(double["files"], "/", "OPTIONS")[0] == 200
    status, _, raw = http(double["files"], "/", headers={"Authorization": "Bearer junk"})
    assert status == 401 and raw.startswith(b"Invalid token")
    status, _, raw = http(double["files"], "/", "POST", b"x", {"Content-Encoding": "gzip", **bearer})
    assert (status, raw) == (415, b"Content encoding is not supported (gzip)")
    status, _, raw = http(double["files"], "/delete_many", "POST", {"files": ["hp"]}, bearer)
    assert status == 200 and json.loads(raw)["deleted"] == {"hp": "hp"}
    assert control(double, "/counters")["files"]["delete_many"] == 1


def test_token_cache_and_apiserver_down(double):
    token = login(double)
    bearer = {"Authorization": f"Bearer {token}"}
    assert http(double["files"], "/", headers=bearer)[0] == 200
    assert http(double["files"], "/", headers={"Cookie": f"clearml_token_basic={token}"})[0] == 200
    assert control(double, "/counters")["api_from_fileserver"] == {"auth.validate_token": 1}
    fresh = login(double)
    control(double, "/scenario", {"api": "down"})
    assert_refused(double["api"])
    assert http(double["files"], "/", headers=bearer)[0] == 200  # cached: works without the apiserver
    with pytest.raises((TimeoutError, urllib.error.URLError)):  # uncached: hangs while the apiserver is down
        http(double["files"], "/", headers={"Authorization": f"Bearer {fresh}"}, timeout=0.5)
    api_port = double["api"]
    control(double, "/scenario", {"api": "ok"})
    assert api(double, "debug.ping", auth=None)[0] == 200 and double["api"] == api_port
    assert http(double["files"], "/", headers={"Authorization": f"Bearer {fresh}"})[0] == 200


def test_fileserver_faults(double):
    token = login(double)
    for scenario, code in (("too_large", 413), ("unsupported_encoding", 415), ("storage_readonly", 500),
                           ("token_rejected", 401)):
        control(double, "/scenario", {"files": scenario})
        assert upload(double, {"a.txt": b"x"}, token)[0] == code


def test_an_upload_whose_body_never_comes_is_dropped(double):
    token = login(double)
    body, ctype = multipart({"partial.bin": b"x" * 4096})
    for port_key, path in (("files", "/"), ("web", "/files/")):
        sock = socket.create_connection(("127.0.0.1", double[port_key]), timeout=2)
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: {ctype}\r\n"
                     f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 100")
        sock.sendall(body[:100])  # part of the body, then the client goes away
        sock.close()
    time.sleep(0.3)
    assert [r for r in control(double, "/requests") if r["role"] != "api"] == []
    assert http(double["files"], "/partial.bin", headers={"Authorization": f"Bearer {token}"})[0] == 404


# --- generic scenarios -------------------------------------------------------------------------------------------
def test_hang_slow_garbage_5xx(double):
    control(double, "/scenario", {"api": "hang"})
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        http(double["api"], "/debug.ping", "POST", {}, timeout=0.3)
    control(double, "/scenario", {"api": "slow:300"})
    start = time.monotonic()
    assert http(double["api"], "/debug.ping", "POST", {})[0] == 200 and time.monotonic() - start >= 0.3
    control(double, "/scenario", {"api": "garbage"})
    status, _, raw = http(double["api"], "/debug.ping", "POST", {})
    assert status == 200 and b"meta" not in raw
    control(double, "/scenario", {"api": "5xx"})
    status, _, raw = http(double["api"], "/debug.ping", "POST", {})
    assert status == 500 and raw.startswith(b"Failed processing request")
    assert http(double["control"], "/scenario", "POST", {"api": "nonsense"})[0] == 400


# --- webserver ---------------------------------------------------------------------------------------------------
def test_webserver_and_proxy(double):
    for path in ("/", "/projects/deep/link"):
        status, hdrs, raw = http(double["web"], path)
        assert status == 200 and raw.startswith(b"<!DOCTYPE html>") and b"ClearML" in raw
    status, hdrs, raw = http(double["web"], "/configuration.json")
    assert status == 200 and json.loads(raw) == {}
    status, hdrs, raw = http(double["web"], "/api/debug.ping")
    assert status == 200 and json.loads(raw)["data"]["msg"] == "ClearML server" and hdrs["Server"] == "nginx"
    assert http(double["web"], "/files/")[2] == b"OK"
    assert http(double["web"], "/files")[0] == 401  # not rewritten: the fileserver sees GET /files
    control(double, "/scenario", {"api": "down"})
    status, hdrs, raw = http(double["web"], "/api/debug.ping")
    assert status == 502 and b"<title>502 Bad Gateway</title>" in raw and hdrs["Server"] == "nginx"
    control(double, "/scenario", {"api": "ok", "web": "files_proxy_down"})
    assert http(double["web"], "/files/")[0] == 502 and http(double["web"], "/api/debug.ping")[0] == 200
    control(double, "/scenario", {"web": "down"})
    assert_refused(double["web"])


def test_ui_assets_configuration_and_cors(double):
    page = http(double["web"], "/")[2].decode()
    scripts = [part.split('"')[0] for part in page.split('<script src="')[1:]]
    assert scripts and all(name.endswith(".js") for name in scripts)
    for name in scripts:  # the bundles the page loads are served as scripts, HEAD too
        for method in ("GET", "HEAD"):
            status, hdrs, raw = http(double["web"], "/" + name, method)
            assert status == 200 and hdrs["Content-Type"] == "application/javascript" and (raw == b"") == (method == "HEAD")
    control(double, "/scenario", {"web": "assets_missing"})  # try_files falls back to the page for a missing bundle
    status, hdrs, raw = http(double["web"], "/" + scripts[-1])
    assert status == 200 and hdrs["Content-Type"] == "text/html" and raw.startswith(b"<!DOCTYPE html>")
    control(double, "/scenario", {"web": "configuration_proxies"})
    assert json.loads(http(double["web"], "/configuration.json")[2]) == {"apiBaseUrl": "/api", "fileBaseUrl": "/files"}
    control(double, "/scenario", {"web": "configuration_unreachable"})
    assert set(json.loads(http(double["web"], "/configuration.json")[2])) == {"apiBaseUrl", "fileBaseUrl"}
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    status, hdrs, raw = http(double["api"], "/auth.login", "OPTIONS", headers=preflight)
    assert (status, raw) == (200, b"") and hdrs["Access-Control-Allow-Origin"] == "https://app.example"
    assert hdrs["Access-Control-Allow-Credentials"] == "true"
    status, hdrs, _ = http(double["files"], "/", "OPTIONS", headers=preflight)
    assert status == 200 and hdrs["Access-Control-Allow-Origin"] == "*" and "Access-Control-Allow-Credentials" not in hdrs


def test_tasks_get_all_running_oldest_first(double):
    now = time.time()
    control(double, "/state", {"tasks": [{"id": "t-new", "last_update": now - 10}, {"id": "t-old", "last_update": now - 7200},
                                         {"id": "t-done", "status": "completed", "last_update": now - 99999},
                                         {"id": "t-never", "last_update": None}]})
    token = login(double)
    body = {"status": ["in_progress"], "only_fields": ["id", "last_update"], "order_by": ["last_update"], "page": 0, "page_size": 2}
    status, _, reply = api(double, "tasks.get_all", body, auth=f"Bearer {token}")
    assert status == 200
    assert reply["data"]["tasks"][0] == {"id": "t-never"}  # never updated: no last_update field, sorted first
    assert reply["data"]["tasks"][1]["id"] == "t-old" and set(reply["data"]["tasks"][1]) == {"id", "last_update"}
    assert reply["meta"]["endpoint"]["actual_version"] == "2.20"
    assert api(double, "tasks.get_all", body, auth=None)[0] == 401
    control(double, "/scenario", {"api": "mongo_down:50"})
    status, _, reply = api(double, "tasks.get_all", body, auth=f"Bearer {token}")
    assert status == 500 and reply["meta"]["result_subcode"] == 1


def test_requests_are_recorded_redacted(double):
    token = login(double)
    http(double["files"], "/", headers={"Authorization": f"Bearer {token}"})
    recorded = control(double, "/requests")
    assert [(r["role"], r["source"], r["path"]) for r in recorded] == [
        ("api", "client", "/auth.login"), ("files", "client", "/"), ("api", "fileserver", "/auth.validate_token")]
    assert all(token not in json.dumps(r["headers"]) for r in recorded)
    assert recorded[0]["headers"]["Authorization"] == "Basic"
    assert json.loads(recorded[2]["body"]) == {"token": token}  # bodies are kept: the validated token is visible
    assert recorded[1]["headers"]["Authorization"] == "Bearer"
