"""Tests for webhook_receiver.py (and blackhole.py, the other network-fault listener)."""

import base64
import http.client as httpc
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def launch(script, *args):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = json.loads(proc.stdout.readline())
    assert ready["ready"] is True
    return proc, ready["ports"]


def http(port, path, method="GET", body=None, headers=None, raw=None, timeout=5):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def hook():
    proc, ports = launch("webhook_receiver.py")
    yield ports
    proc.stdin.close()
    proc.wait(timeout=5)


@pytest.fixture(autouse=True)
def _reset(request):
    if "hook" in request.fixturenames:
        hook = request.getfixturevalue("hook")
        http(hook["control"], "/reset", "POST", {})


def ctl(hook, path, body=None):
    status, _, data = http(hook["control"], path, "POST" if body is not None else "GET", body)
    return status, json.loads(data)


def post(hook, path, body, **kw):
    return http(hook["webhook"], path, "POST", body,
                headers={"Content-Type": "application/json", **kw.pop("headers", {})}, **kw)


def test_default_answer_and_recording(hook):
    status, headers, body = post(hook, "/hooks/abc?token=t1&x=2", {"text": "héllo"},
                                 headers={"Authorization": "GenieKey k1"})
    assert (status, body) == (200, b"ok")
    (r,) = ctl(hook, "/requests")[1]
    assert r["method"] == "POST" and r["path"] == "/hooks/abc"
    assert r["query"] == "token=t1&x=2" and r["query_params"] == {"token": ["t1"], "x": ["2"]}
    assert ["Authorization", "GenieKey k1"] in r["headers"]
    assert json.loads(r["body_text"]) == {"text": "héllo"}
    assert base64.b64decode(r["body_base64"]) == json.dumps({"text": "héllo"}).encode()
    assert r["response"]["status"] == 200


def test_script_queue_then_default(hook):
    ctl(hook, "/script", {"path": "/slack/", "responses": [
        {"status": 429, "headers": {"Retry-After": "1"}, "body": "rate limited"},
        {"status": 200, "body": "ok"}]})
    s1, h1, b1 = post(hook, "/slack/T1/B1/X1", {"text": "a"})
    s2, _, b2 = post(hook, "/slack/T1/B1/X1", {"text": "a"})
    s3, _, b3 = post(hook, "/slack/T1/B1/X1", {"text": "a"})
    assert (s1, h1["Retry-After"], b1) == (429, "1", b"rate limited")
    assert (s2, b2) == (200, b"ok") and (s3, b3) == (200, b"ok")
    # other prefixes are unaffected; the longest prefix wins
    ctl(hook, "/script", {"path": "/slack/T2", "responses": [{"preset": "slack_archived"}]})
    assert post(hook, "/slack/T2/B/X", {})[0] == 410
    assert post(hook, "/discord/1/t", {})[0] == 200


def test_times_and_binary_body(hook):
    ctl(hook, "/script", {"path": "/x", "responses": [{"status": 503, "times": 2}],
                          "default": {"status": 201, "json": {"id": 1}}})
    assert [post(hook, "/x", {})[0] for _ in range(3)] == [503, 503, 201]
    status, _, _ = http(hook["webhook"], "/bin", "PUT", raw=b"\xff\x00\x01")
    r = ctl(hook, "/requests?path=/bin")[1][0]
    assert status == 200 and r["body_text"] is None and r["body_base64"] == "/wAB"


@pytest.mark.parametrize("preset,status,check", [
    ("slack_invalid_payload", 400, lambda h, b: b == b"invalid_payload"),
    ("slack_no_service", 404, lambda h, b: b == b"no_service"),
    ("slack_archived", 410, lambda h, b: b == b"channel_is_archived"),
    ("discord_429", 429, lambda h, b: json.loads(b)["retry_after"] == 1.5
        and h["Retry-After"] == "2" and json.loads(b)["global"] is False),
    ("discord_unknown_webhook", 404, lambda h, b: json.loads(b)["code"] == 10015),
    ("telegram_429", 429, lambda h, b: json.loads(b)["parameters"]["retry_after"] == 34
        and json.loads(b)["ok"] is False and json.loads(b)["error_code"] == 429),
    ("telegram_chat_not_found", 400,
     lambda h, b: json.loads(b)["description"] == "Bad Request: chat not found"),
    ("googlechat_429", 429, lambda h, b: json.loads(b)["error"]["status"] == "RESOURCE_EXHAUSTED"),
    ("pagerduty_202", 202, lambda h, b: json.loads(b) == {
        "status": "success", "message": "Event processed", "dedup_key": "mon/api/prod"}),
    ("pagerduty_400", 400, lambda h, b: json.loads(b)["status"] == "invalid event"),
    ("teams_202", 202, lambda h, b: b == b""),
    ("alertmanager_200", 200, lambda h, b: b == b""),
    ("mattermost_ok", 200, lambda h, b: b == b"ok"),
    ("discord_ok", 204, lambda h, b: b == b""),
    ("telegram_ok", 200, lambda h, b: json.loads(b)["ok"] is True
        and json.loads(b)["result"]["chat"]["id"] == 42),
])
def test_presets(hook, preset, status, check):
    ctl(hook, "/script", {"path": "/p", "responses": [{"preset": preset}]})
    s, h, b = post(hook, "/p/x", {"dedup_key": "mon/api/prod", "chat_id": 42, "text": "t"})
    assert s == status and check(h, b), (s, h, b)


def test_preset_params_and_scenario_default(hook):
    ctl(hook, "/script", {"path": "/d", "responses": [{"preset": "discord_429", "retry_after": 0.2}]})
    s, h, b = post(hook, "/d", {})
    assert s == 429 and json.loads(b)["retry_after"] == 0.2 and h["Retry-After"] == "1"
    ctl(hook, "/scenario", {"scenario": "telegram_429", "path": "/bot", "retry_after": 3})
    for _ in range(2):  # a scenario is the lasting default for the prefix
        s, _, b = post(hook, "/botTOKEN/sendMessage", {"chat_id": 1, "text": "x"})
        assert s == 429 and json.loads(b)["parameters"]["retry_after"] == 3
    assert ctl(hook, "/scenario", {"scenario": "nope"})[0] == 400
    assert ctl(hook, "/script", {"path": "/x", "responses": [{"stauts": 1}]})[0] == 400


def test_discord_wait_true_returns_message(hook):
    ctl(hook, "/scenario", {"scenario": "discord_ok", "path": "/api/webhooks/"})
    s, _, b = post(hook, "/api/webhooks/1/tok?wait=true", {"content": "FIRING"})
    assert s == 200 and json.loads(b)["content"] == "FIRING" and json.loads(b)["id"]


def test_hang_and_close(hook):
    ctl(hook, "/script", {"path": "/h", "responses": [{"hang": True}, {"close": True}]})
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, urllib.error.URLError)):
        post(hook, "/h", {}, timeout=0.4)
    assert time.monotonic() - t0 >= 0.35
    conn = httpc.HTTPConnection("127.0.0.1", hook["webhook"], timeout=2)
    with pytest.raises((httpc.RemoteDisconnected, ConnectionResetError)):
        conn.request("POST", "/h", body=b"{}")
        conn.getresponse()
    recs = ctl(hook, "/requests?path=/h")[1]
    assert [r["response"] for r in recs] == [{"hang": True}, {"close": True}]


def test_delay_and_chunked_body(hook):
    ctl(hook, "/script", {"path": "/slow", "responses": [{"delay_ms": 300, "status": 200}]})
    t0 = time.monotonic()
    assert post(hook, "/slow", {})[0] == 200
    assert time.monotonic() - t0 >= 0.3
    conn = httpc.HTTPConnection("127.0.0.1", hook["webhook"], timeout=2)
    conn.request("POST", "/chunked", body=iter([b'{"a":', b'1}']),
                 headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
    assert conn.getresponse().status == 200
    r = ctl(hook, "/requests?path=/chunked")[1][0]
    assert r["body_text"] == '{"a":1}'


def test_exits_when_stdin_closes():
    proc, _ = launch("webhook_receiver.py")
    proc.stdin.close()
    assert proc.wait(timeout=5) == 0


# ------------------------------------------------------------------ blackhole.py
def test_blackhole_accepts_and_never_answers():
    proc, ports = launch("blackhole.py", "--syndrop")
    try:
        s = socket.create_connection(("127.0.0.1", ports["blackhole"]), timeout=0.3)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(socket.timeout):
            s.recv(1)
        s.close()
        t0 = time.monotonic()
        with pytest.raises(socket.timeout):  # SYN dropped: connect itself times out
            socket.create_connection(("127.0.0.1", ports["syndrop"]), timeout=0.3)
        assert time.monotonic() - t0 >= 0.25
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=5) == 0
