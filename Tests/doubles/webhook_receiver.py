#!/usr/bin/env python3
"""Scriptable webhook receiver for clearml-probe notifier tests (stdlib only).

Records every request (method, path, query, headers, raw body) and answers as scripted per
path prefix, with ready-made platform answers from docs/chat-platforms.md as presets.

Launch:  python3 webhook_receiver.py [--port 0] [--control-port 0] [--no-stdin-watch]
Ready:   one stdout line  {"ready":true,"ports":{"webhook":N,"control":N}}
Exit:    when stdin reaches EOF (unless --no-stdin-watch) or on SIGTERM/SIGINT.
Control (separate port):
  POST /script   {"path": "/slack/", "responses": [RESPONSE, ...], "default": RESPONSE?}
  POST /scenario {"scenario": PRESET, "path": "/slack/"?, ...preset params}  (sets the default)
  GET  /requests[?path=PREFIX]   GET /script   GET /presets   POST /reset
RESPONSE = {"status": 200, "headers": {...}, "body": "text" | "json": {...} | "body_base64": "...",
            "preset": NAME, ...preset params, "delay_ms": N, "hang": true, "close": true,
            "times": N}
"""

import argparse
import base64
import copy
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import double_support
from double_support import SHUTDOWN, run_until_exit


def _json_body(req):
    try:
        return json.loads(req["body_text"] or "")
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Presets: platform answers (docs/chat-platforms.md). Each takes (request record, params).
# ---------------------------------------------------------------------------------------------
def _text(status, body, headers=None):
    return {"status": status, "headers": {"Content-Type": "text/plain", **(headers or {})},
            "body": body}


def _json(status, obj, headers=None):
    return {"status": status, "headers": {"Content-Type": "application/json", **(headers or {})},
            "json": obj}


def _empty(status):
    return {"status": status, "headers": {}, "body": ""}


def _discord_429(req, p):
    ra = float(p.get("retry_after", 1.5))
    return _json(429, {"message": "You are being rate limited.", "retry_after": ra,
                       "global": bool(p.get("global", False))},
                 {"Retry-After": str(max(1, int(-(-ra // 1)))), "X-RateLimit-Limit": "5",
                  "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(ra),
                  "X-RateLimit-Bucket": "d1bd92a3b0", "X-RateLimit-Scope": "user"})


def _discord_ok(req, p):
    if "true" in req["query_params"].get("wait", []):
        body = _json_body(req) or {}
        return _json(200, {"id": "1300000000000000001", "type": 0, "channel_id": "1200000000000000001",
                           "content": body.get("content", ""), "embeds": body.get("embeds", []),
                           "webhook_id": "1100000000000000001"})
    return _empty(204)


def _telegram_ok(req, p):
    body = _json_body(req) or {}
    return _json(200, {"ok": True, "result": {
        "message_id": 100 + req["seq"], "date": int(time.time()),
        "chat": {"id": body.get("chat_id", -1001234567890), "type": "supergroup", "title": "ops"},
        "text": body.get("text", "")}})


def _telegram_429(req, p):
    ra = int(p.get("retry_after", 34))
    return _json(429, {"ok": False, "error_code": 429,
                       "description": f"Too Many Requests: retry after {ra}",
                       "parameters": {"retry_after": ra}})


def _googlechat_ok(req, p):
    body = _json_body(req) or {}
    thread = (body.get("thread") or {}).get("threadKey", "t1")
    return _json(200, {"name": f"spaces/AAAA/messages/m{req['seq']}.m{req['seq']}",
                       "sender": {"name": "users/1", "type": "BOT"},
                       "text": body.get("text", ""),
                       "thread": {"name": f"spaces/AAAA/threads/{thread}"},
                       "space": {"name": "spaces/AAAA"},
                       "createTime": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())})


def _pagerduty_202(req, p):
    body = _json_body(req) or {}
    return _json(202, {"status": "success", "message": "Event processed",
                       "dedup_key": body.get("dedup_key") or uuid.uuid4().hex})


PRESETS = {
    "ok": lambda r, p: _text(200, "ok"),
    "slack_ok": lambda r, p: _text(200, "ok"),
    "slack_invalid_payload": lambda r, p: _text(400, "invalid_payload"),
    "slack_no_service": lambda r, p: _text(404, "no_service"),
    "slack_archived": lambda r, p: _text(410, "channel_is_archived"),
    "discord_ok": _discord_ok,
    "discord_429": _discord_429,
    "discord_unknown_webhook": lambda r, p: _json(404, {"message": "Unknown Webhook",
                                                        "code": 10015}),
    "telegram_ok": _telegram_ok,
    "telegram_429": _telegram_429,
    "telegram_chat_not_found": lambda r, p: _json(400, {"ok": False, "error_code": 400,
                                                        "description": "Bad Request: chat not found"}),
    "googlechat_ok": _googlechat_ok,
    "googlechat_429": lambda r, p: _json(429, {"error": {
        "code": 429, "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED"}}),
    "pagerduty_202": _pagerduty_202,
    "pagerduty_400": lambda r, p: _json(400, {"status": "invalid event",
                                              "message": "Event object is invalid",
                                              "errors": ["'payload.summary' is missing or blank"]}),
    "teams_202": lambda r, p: _empty(202),
    "alertmanager_200": lambda r, p: _empty(200),
    "mattermost_ok": lambda r, p: _text(200, "ok"),
}
DEFAULT_RESPONSE = {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}
RESPONSE_KEYS = {"status", "headers", "body", "json", "body_base64", "preset", "delay_ms", "hang",
                 "close", "times", "retry_after", "global"}


def validate_response(r):
    if not isinstance(r, dict):
        raise ValueError("a response must be an object")
    unknown = set(r) - RESPONSE_KEYS
    if unknown:
        raise ValueError(f"unknown response keys {sorted(unknown)}; known: {sorted(RESPONSE_KEYS)}")
    if "preset" in r and r["preset"] not in PRESETS:
        raise ValueError(f"unknown preset {r['preset']!r}; known: {sorted(PRESETS)}")
    return r


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.generation = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = []
            self.scripts = {}  # prefix -> {"queue": [...], "default": response or None}
            self.generation += 1  # releases hanging requests

    def script_for(self, path):
        best = None
        for prefix in self.scripts:
            if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return best

    def next_response(self, path):
        prefix = self.script_for(path)
        if prefix is None:
            return DEFAULT_RESPONSE, None
        s = self.scripts[prefix]
        while s["queue"]:
            head = s["queue"][0]
            remaining = head.get("_left", head.get("times", 1))
            if remaining <= 0:
                s["queue"].pop(0)
                continue
            head["_left"] = remaining - 1
            if head["_left"] <= 0:
                s["queue"].pop(0)
            return head, prefix
        return (s["default"] or DEFAULT_RESPONSE), prefix


STATE = State()


def render(resp, record):
    """(status, headers, body bytes) for a response spec."""
    if "preset" in resp:
        base = PRESETS[resp["preset"]](record, resp)
        merged = {**base, **{k: v for k, v in resp.items() if k in ("status",)}}
        headers = {**base.get("headers", {}), **resp.get("headers", {})}
        merged["headers"] = headers
        resp = merged
    headers = dict(resp.get("headers", {}))
    if "json" in resp:
        body = json.dumps(resp["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "body_base64" in resp:
        body = base64.b64decode(resp["body_base64"])
    else:
        body = str(resp.get("body", "")).encode()
        if body:
            headers.setdefault("Content-Type", "text/plain")
    return int(resp.get("status", 200)), headers, body


class WebhookHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webhook-receiver"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _handle(self):
        body = self._read_body()
        parts = urlsplit(self.path)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        with STATE.lock:
            record = {
                "seq": len(STATE.requests), "time": time.time(), "method": self.command,
                "path": parts.path, "query": parts.query,
                "query_params": parse_qs(parts.query, keep_blank_values=True),
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_base64": base64.b64encode(body).decode(), "body_text": text,
                "response": None,
            }
            STATE.requests.append(record)
            resp, prefix = STATE.next_response(parts.path)
            resp = copy.deepcopy(resp)
            generation = STATE.generation
        record["script"] = prefix
        if resp.get("delay_ms"):
            if SHUTDOWN.wait(float(resp["delay_ms"]) / 1000.0):
                return
        if resp.get("hang"):
            record["response"] = {"hang": True}
            self._hang(generation)
            return
        if resp.get("close"):
            record["response"] = {"close": True}
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, headers, data = render(resp, record)
        record["response"] = {"status": status, "headers": headers,
                              "body": data.decode("utf-8", "replace")}
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def _hang(self, generation):
        def released():
            with STATE.lock:
                return STATE.generation != generation

        double_support.hang(self, released)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class ControlHandler(double_support.ControlHandler):
    def do_GET(self):
        parts = urlsplit(self.path)
        q = parse_qs(parts.query)
        if parts.path == "/requests":
            prefix = q.get("path", [""])[0]
            with STATE.lock:
                reqs = [r for r in STATE.requests if r["path"].startswith(prefix)]
                self.reply(200, copy.deepcopy(reqs))  # a bare array, oldest first
        elif parts.path == "/script":
            with STATE.lock:
                self.reply(200, {"scripts": copy.deepcopy(STATE.scripts)})
        elif parts.path == "/presets":
            self.reply(200, {"presets": sorted(PRESETS)})
        else:
            self.reply(404, {"error": "unknown control path"})

    def do_POST(self):
        path = urlsplit(self.path).path
        try:
            body = self.read_json()
            if path == "/script":
                prefix = body.get("path")
                if not isinstance(prefix, str) or not prefix.startswith("/"):
                    raise ValueError("path must be a string starting with /")
                responses = [validate_response(r) for r in body.get("responses", [])]
                default = body.get("default")
                if default is not None:
                    validate_response(default)
                with STATE.lock:
                    STATE.scripts[prefix] = {"queue": copy.deepcopy(responses), "default": default}
                self.reply(200, {"path": prefix, "queued": len(responses)})
            elif path == "/scenario":
                name = body.get("scenario")
                prefix = body.get("path", "/")
                params = {k: v for k, v in body.items() if k not in ("scenario", "path")}
                default = validate_response({"preset": name, **params})
                with STATE.lock:
                    s = STATE.scripts.setdefault(prefix, {"queue": [], "default": None})
                    s["default"] = default
                self.reply(200, {"path": prefix, "default": default})
            elif path == "/reset":
                STATE.reset()
                self.reply(200, {"reset": True})
            else:
                self.reply(404, {"error": "unknown control path"})
        except (ValueError, TypeError, AttributeError) as e:
            self.reply(400, {"error": str(e)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--no-stdin-watch", action="store_true")
    a = ap.parse_args()

    hook = double_support.serve(a.port, WebhookHandler)
    ctl = double_support.serve(a.control_port, ControlHandler)
    run_until_exit({"webhook": hook.server_address[1], "control": ctl.server_address[1]}, not a.no_stdin_watch)


if __name__ == "__main__":
    main()
