#!/usr/bin/env python3
"""ClearML server test double: apiserver, fileserver and webserver roles plus a control port.

Answers as a real ClearML server v2.3.0 does (docs/clearml-api.md). Python 3.11 stdlib only.
Launch, control protocol and scenarios: Tests/doubles/README.md, section "clearml_double.py".
"""

import argparse
import base64
import gzip
import hashlib
import hmac
import http.client
import json
import mimetypes
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler

import double_support
from double_support import run_until_exit

COMPANY = {"id": "d1bd92a3b039400cbafc60a7a5b1e52b", "name": "clearml"}  # default company
API_VERSION_BY_SERVER = {"2.0": "2.31", "2.1": "2.32", "2.2": "2.33", "2.3": "2.34"}
MAX_EXPIRATION_SEC = 31536000
DEFAULT_EXPIRATION_SEC = 2592000
TOKEN_CACHE_TTL = 43200  # Redis db 8
COOKIE = "clearml_token_basic"
PYMONGO_ERR = (
    "mongo:27017: [Errno 111] Connection refused (configured timeouts: socketTimeoutMS: 20000.0ms, "
    "connectTimeoutMS: 20000.0ms), Timeout: 30s, Topology Description: <TopologyDescription id: "
    "000000000000000000000000, topology_type: Unknown, servers: [<ServerDescription ('mongo', 27017) "
    "server_type: Unknown, rtt: None, error=AutoReconnect('mongo:27017: [Errno 111] Connection refused')>]>"
)
REDIS_ERR = "Error 111 connecting to redis:6379. Connection refused."
GARBAGE = b"<html><body><h1>It works!</h1></body></html>\n"
SERVER_HEADER = "Werkzeug/3.1.9 Python/3.11.7"

# Endpoint table: name -> (schema versions, auth). auth: "none" | "required" | "info" (required from server 2.3)
ENDPOINTS = {
    "debug.ping": (["1.0"], "none"),
    "login.supported_modes": (["2.9"], "none"),
    "auth.login": (["2.1"], "required"),
    "auth.logout": (["2.2"], "required"),
    "auth.validate_token": (["2.1"], "required"),
    "server.info": (["2.1", "2.8", "2.12"], "info"),
    "queues.get_all": (["2.4", "2.15", "2.20", "2.21"], "required"),
    "queues.get_num_entries": (["2.15"], "required"),
    "workers.get_all": (["2.4", "2.30"], "required"),
    "events.add": (["2.1"], "required"),
    "tasks.get_all": (["2.1", "2.14", "2.20"], "required"),
}
API_PATH = re.compile(r"^/?(?:v(?P<ver>\d+\.\d+)/)?(?P<ep>[A-Za-z0-9_]+\.[A-Za-z0-9_]+)/?$")

ROLES = ("api", "files", "web")
GENERIC = {"ok", "down", "hang", "slow", "garbage", "5xx"}
FAULTS = {
    "api": {"mongo_down", "redis_down", "es_disk", "bad_credentials", "revoked", "role_forbidden", "fixed_users_off",
            "guest_enabled", "es_connection_error"},
    "files": {"token_rejected", "too_large", "unsupported_encoding", "storage_readonly", "cookie_ignored"},
    "web": {"api_proxy_down", "files_proxy_down", "assets_missing", "configuration_unreachable", "configuration_proxies"},
}


def vtuple(v):
    return tuple(int(x) for x in str(v).split("."))


def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def parse_time(value, now):
    """Epoch seconds or ISO string; None means "now" (a worker that keeps reporting)."""
    if value is None:
        return now
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def werkzeug_page(code, title, text):
    return (
        f"<!doctype html>\n<html lang=en>\n<title>{code} {title}</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
    ).encode()


WZ_400 = werkzeug_page(
    400, "Bad Request", "The browser (or proxy) sent a request that this server could not understand.")
WZ_401 = werkzeug_page(
    401, "Unauthorized",
    "The server could not verify that you are authorized to access the URL requested. You either supplied the "
    "wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials "
    "required.")
WZ_404 = werkzeug_page(
    404, "Not Found",
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling "
    "and try again.")
WZ_405 = werkzeug_page(405, "Method Not Allowed", "The method is not allowed for the requested URL.")
WZ_413 = werkzeug_page(413, "Request Entity Too Large", "The data value transmitted exceeds the capacity limit.")
WZ_500 = werkzeug_page(
    500, "Internal Server Error",
    "The server encountered an internal error and was unable to complete your request. Either the server is "
    "overloaded or there is an error in the application.")


def nginx_page(code, title):
    return (f"<html>\r\n<head><title>{code} {title}</title></head>\r\n<body>\r\n<center><h1>{code} {title}</h1>"
            f"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n").encode()


# The Angular build's index.html: hashed bundles loaded relative to <base href> (clearml-web's build output).
MAIN_JS = "main-4NB3F7QX.js"
INDEX_HTML = (b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>ClearML</title>\n'
              b'<base href="/">\n</head>\n<body>\n<sm-root></sm-root>\n'
              b'<script src="polyfills-FFHMD2TL.js" type="module"></script>'
              b'<script src="' + MAIN_JS.encode() + b'" type="module"></script>\n</body>\n</html>\n')
SCRIPTS = {"/polyfills-FFHMD2TL.js", "/" + MAIN_JS}
JS = "application/javascript"  # nginx's mime.types for .js
# configuration.json as an admin's WEBSERVER__* variables write it (§4); the default is {}.
CONFIGURATIONS = {"configuration_unreachable": {"apiBaseUrl": "http://127.0.0.1:9/api", "fileBaseUrl": "http://127.0.0.1:9/files"},
                  "configuration_proxies": {"apiBaseUrl": "/api", "fileBaseUrl": "/files"}}
HTML = "text/html; charset=utf-8"


class ApiError(Exception):
    """An apiserver error: envelope with result_code/subcode, or plain text when `plain`."""

    def __init__(self, code, subcode, msg, error_data=None, plain=False):
        super().__init__(msg)
        self.code, self.subcode, self.msg = code, subcode, msg
        self.error_data = error_data or {}
        self.plain = plain


class Reply(Exception):
    """A finished HTTP reply raised from deep inside a handler."""

    def __init__(self, status, body=b"", ctype=HTML, headers=None):
        super().__init__(status)
        self.status, self.body, self.ctype, self.headers = status, body, ctype, headers or {}


class Double:
    """Shared state of the three roles; every mutation under `lock`."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.token_secret = os.urandom(32)
        self.server_version = args.server_version
        major_minor = ".".join(args.server_version.split(".")[:2])
        self.max_api = API_VERSION_BY_SERVER.get(major_minor, "2.34")
        self.credentials = {
            args.access_key: {"secret": args.secret_key, "user": "probe-user-id", "user_name": "probe", "role": "user"},
            args.fs_access_key: {"secret": args.fs_secret_key, "user": "__fileserver__", "user_name": "fileserver",
                                 "role": "system"},
        }
        self.own_storage = args.storage is None
        self.storage = os.path.realpath(args.storage or tempfile.mkdtemp(prefix="clearml-double-"))
        os.makedirs(self.storage, exist_ok=True)
        self.servers = {}
        self.fs_service_token = None
        self._reset_locked()

    # --- state -----------------------------------------------------------------------------------------------
    def _reset_locked(self):
        self.scenarios = {role: "ok" for role in ROLES}
        self.release = {role: threading.Event() for role in ROLES}
        self.revoked = set()
        self.token_cache = {}
        self.requests = []
        self.counters = {"api": {}, "api_from_fileserver": {}, "files": {}, "web": {}}
        self.seq = 0
        self.tasks = []
        self.set_state({"queues": [{"name": "default", "system_tags": ["default"]}, {"name": "services"}],
                        "workers": [{"id": "clearml-services", "queues": ["services"], "last_activity_time": None},
                                    {"id": "clearml-services:service:5a3e5f0bd2c44e7b9d1f3c0a7e8b2c41", "queues": [],
                                     "task": {"id": "5a3e5f0bd2c44e7b9d1f3c0a7e8b2c41", "name": "service task"},
                                     "last_activity_time": None}]})

    def reset(self):
        with self.lock:
            for event in self.release.values():
                event.set()
            self._reset_locked()
            for entry in os.listdir(self.storage):
                path = os.path.join(self.storage, entry)
                shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
        for role in ROLES:
            self.servers[role].ensure(listening=True)

    def set_state(self, state):
        now = time.time()
        if "queues" in state:
            queues = []
            for q in state["queues"]:
                qid = q.get("id") or hashlib.md5(q["name"].encode()).hexdigest()
                entries = [{"task": e["task"], "added": parse_time(e.get("added"), now)} for e in q.get("entries", [])]
                queues.append({"id": qid, "name": q["name"], "display_name": q.get("display_name"),
                               "tags": q.get("tags", []), "system_tags": q.get("system_tags", []),
                               "created": parse_time(q.get("created"), now - 86400), "entries": entries,
                               "metadata": q.get("metadata", {})})
            self.queues = queues
        if "workers" in state:
            self.workers = [dict(w) for w in state["workers"]]
        if "tasks" in state:
            self.tasks = [{"id": t["id"], "name": t.get("name", t["id"]), "status": t.get("status", "in_progress"),
                           "last_update": parse_time(t.get("last_update"), now) if t.get("last_update", 0) is not None else None}
                          for t in state["tasks"]]

    def set_scenarios(self, wanted):
        for role, scenario in wanted.items():
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            name, sep, arg = str(scenario).partition(":")
            if sep:  # slow:<ms> and mongo_down:<ms> take a duration
                valid = name in ("slow", "mongo_down") and name in (GENERIC | FAULTS[role]) and arg.isdigit()
            else:
                valid = name != "slow" and name in (GENERIC | FAULTS[role])
            if not valid:
                raise ValueError(f"unknown scenario {scenario!r} for role {role}")
        for role, scenario in wanted.items():
            with self.lock:
                self.scenarios[role] = str(scenario)
                self.release[role].set()  # hung requests end when the scenario changes
                self.release[role] = threading.Event()
            self.servers[role].ensure(listening=scenario != "down")

    def scenario(self, role):
        with self.lock:
            return self.scenarios[role], self.release[role]

    def count(self, role, key):
        with self.lock:
            bucket = self.counters[role]
            bucket[key] = bucket.get(key, 0) + 1

    def record(self, role, handler, body):
        headers = {}
        for name, value in handler.headers.items():
            if name.lower() == "authorization":
                value = value.split(" ", 1)[0]
            elif name.lower() == "cookie":
                value = "; ".join(c.split("=", 1)[0].strip() + "=<redacted>" for c in value.split(";"))
            headers[name] = value
        with self.lock:
            self.seq += 1
            source = "fileserver" if handler.headers.get("X-ClearML-Agent") == "fileserver" else "client"
            self.requests.append({"seq": self.seq, "time": time.time(), "role": role, "source": source,
                                  "method": handler.command,
                                  "path": handler.path, "headers": headers,
                                  "body": body[:1024].decode("utf-8", "replace")})
            del self.requests[:-5000]

    # --- tokens (auth.login) --------------------------------------------------------------------------------
    def make_token(self, cred, expiration_sec=None):
        now = int(time.time())
        payload = {"identity": {"user": cred["user"], "company": COMPANY["id"], "role": cred["role"],
                                "user_name": cred["user_name"], "company_name": COMPANY["name"]},
                   "iat": now, "session_id": uuid.uuid4().hex, "env": "<unknown>", "api_version": self.max_api,
                   "server_version": self.server_version, "server_build": self.args.server_build,
                   "feature_set": "basic"}
        if expiration_sec is None and cred["role"] != "system":
            expiration_sec = DEFAULT_EXPIRATION_SEC
        if expiration_sec is not None:
            payload["exp"] = now + int(expiration_sec)
        signing = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64url(
            json.dumps(payload).encode())
        sig = hmac.new(self.token_secret, signing.encode(), hashlib.sha256).digest()
        return signing + "." + b64url(sig)

    def decode_token(self, token):
        """Returns the payload or raises ApiError 401/30 as the real apiserver does."""
        parts = token.split(".")
        if len(parts) != 3:
            raise ApiError(401, 30, "Invalid token (invalid jwt token): reason=Not enough segments",
                           {"reason": "Not enough segments"})
        try:
            sig = b64url_decode(parts[2])
            payload = json.loads(b64url_decode(parts[1]))
        except ValueError:
            raise ApiError(401, 30, "Invalid token (invalid jwt token): reason=Invalid header padding",
                           {"reason": "Invalid header padding"})
        good = hmac.new(self.token_secret, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(sig, good):
            raise ApiError(401, 30, "Invalid token (invalid jwt token): reason=Signature verification failed",
                           {"reason": "Signature verification failed"})
        if "exp" in payload and payload["exp"] <= time.time():
            raise ApiError(401, 30, "Invalid token (invalid jwt token): reason=Signature has expired",
                           {"reason": "Signature has expired"})
        with self.lock:
            revoked = payload.get("session_id") in self.revoked or (
                self.scenarios["api"] == "revoked" and payload["identity"]["role"] != "system")
        if revoked:
            raise ApiError(401, 30, "Invalid token (revoked token)")
        return payload

    # --- roles' listening sockets --------------------------------------------------------------------------------
    def start(self, ports):
        for role, handler in (("api", ApiHandler), ("files", FilesHandler), ("web", WebHandler),
                              ("control", ControlHandler)):
            self.servers[role] = RoleServer(role, ports[role], handler, self)
            self.servers[role].ensure(listening=True)

    def port(self, role):
        return self.servers[role].port


class RoleServer:
    """One role's listener; `down` closes the socket (connections refused), `ok` re-binds the same port."""

    def __init__(self, role, port, handler, double):
        self.role, self.port, self.double = role, port, double
        self.handler = type(handler.__name__, (handler,), {"double": double, "role": role})
        self.httpd = None
        self.lock = threading.Lock()

    def ensure(self, listening):
        with self.lock:
            if listening and self.httpd is None:
                self.httpd = double_support.serve(self.port, self.handler, QuietServer, poll_interval=0.05)
                self.port = self.httpd.server_address[1]
            elif not listening and self.httpd is not None:
                self.httpd.shutdown()
                self.httpd.server_close()
                self.httpd = None


class QuietServer(double_support.LoopbackServer):
    # socketserver's default backlog of 5 drops SYNs when a probe pass opens a dozen connections at once (the client
    # then waits ~1 s to retransmit: a fake "stuck at connect").
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double: Double = None
    role = ""

    def log_message(self, fmt, *args):
        if self.double and self.double.args.verbose:
            sys.stderr.write(f"[{self.role}] " + (fmt % args) + "\n")

    def version_string(self):
        return SERVER_HEADER

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            # The client closed before the whole declared body (as after a 100 Continue it did not follow):
            # a real server drops the request, it never handles or stores part of it.
            raise ConnectionError(f"{len(body)} of {length} body bytes before the connection closed")
        return body

    def send(self, status, body=b"", ctype=HTML, headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in self.base_headers():
            self.send_header(name, value)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            for v in value if isinstance(value, list) else [value]:
                self.send_header(name, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def base_headers(self):
        return [("server", "clearml")]

    def handle_request(self):
        try:
            self.body = self.read_body()
        except (ValueError, ConnectionError):
            self.close_connection = True
            return
        self.double.record(self.role, self, self.body)
        scenario, release = self.double.scenario(self.role)
        if scenario == "hang":
            release.wait()  # never answers; the connection is dropped on reset or scenario change
            self.close_connection = True
            return
        if scenario.startswith("slow:"):
            release.wait(int(scenario.split(":")[1]) / 1000.0)
        if scenario == "garbage":
            return self.send(200, GARBAGE, HTML)
        if scenario == "5xx":
            return self.send_5xx()
        try:
            self.route(scenario)
        except Reply as r:
            self.send(r.status, r.body, r.ctype, r.headers)

    def send_5xx(self):
        self.send(500, WZ_500)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = handle_request


# ---------------------------------------------------------------------------------------------------------------
# apiserver
# ---------------------------------------------------------------------------------------------------------------
class ApiHandler(BaseHandler):
    def send_5xx(self):
        self.send(500, f"Failed processing request {self.path}", "text/plain; charset=utf-8")

    def base_headers(self):
        headers = [("server", "clearml")]
        origin = self.headers.get("Origin")
        if origin:
            headers += [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
        return headers

    def route(self, scenario):
        url = urllib.parse.urlsplit(self.path)
        match = API_PATH.match(url.path)
        name = match["ep"] if match else ""
        requested = (match["ver"] if match else None) or self.double.max_api
        self.endpoint = {"name": name, "requested_version": requested, "actual_version": None}
        self.trx = self.headers.get("X-ClearML-Trx") or self.headers.get("X-Trains-Trx")
        self.cookies = {}
        try:
            if self.command == "OPTIONS":
                return self.send(200, b"", None)
            if self.headers.get("Content-Encoding"):
                raise ApiError(415, 0, f"Content encoding is not supported ({self.headers['Content-Encoding']})")
            if not match:
                raise ApiError(400, 0, f"Invalid request path {url.path}")
            source = "api_from_fileserver" if self.headers.get("X-ClearML-Agent") == "fileserver" else "api"
            self.double.count(source, name)
            versions = [v for v in ENDPOINTS.get(name, ([], None))[0] if vtuple(v) <= vtuple(requested)]
            if not versions:
                raise ApiError(404, 0, f"Unable to find endpoint for name {name} and version {requested}",
                               {"endpoint": name, "version": requested})
            self.endpoint["actual_version"] = versions[-1]
            params = self.parse_params(url.query)
            data = self.call(name, params, scenario)
            self.envelope(200, 0, "OK", data)
        except ApiError as e:
            if e.plain:
                return self.send(e.code, e.msg, "text/plain; charset=utf-8")
            self.envelope(e.code, e.subcode, e.msg, None, e.error_data)

    def parse_params(self, query):
        params = {}
        if self.body.strip():
            try:
                params = json.loads(self.body)
            except ValueError as e:
                raise ApiError(400, 0, f"Bad request (invalid JSON in request body): {e}")
            if not isinstance(params, dict):
                raise ApiError(400, 0, "Bad request (request body must be a JSON object)")
        for key, values in urllib.parse.parse_qs(query).items():
            params.setdefault(key, values[0] if len(values) == 1 else values)
        return params

    def envelope(self, code, subcode, msg, data, error_data=None):
        call_id = uuid.uuid4().hex
        meta = {"id": call_id, "trx": self.trx or call_id, "endpoint": self.endpoint, "result_code": code,
                "result_subcode": subcode, "result_msg": msg, "error_stack": None, "error_data": error_data or {}}
        body = json.dumps({"meta": meta, "data": data}).encode()
        headers = {}
        if self.cookies:
            headers["Set-Cookie"] = [f"{k}={v}" for k, v in self.cookies.items()]
        if 200 <= code < 300 and len(body) >= 500 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        self.send(code, body, "application/json", headers)

    # --- auth -------------------------------------------------------------------------------------
    def authenticate(self, scenario, name):
        header = self.headers.get("Authorization")
        cookie = self.cookie_token()
        if header:
            scheme, _, value = header.partition(" ")
            if scheme == "Basic":
                return None, self.basic(value.strip(), scenario, name)
            if scheme == "Bearer":
                return value.strip(), self.bearer(value.strip(), scenario)
            raise ApiError(401, 10, "Unauthorized (bad authentication header type)")
        if cookie:
            return cookie, self.bearer(cookie, scenario)
        raise ApiError(401, 20, "Unauthorized (missing credentials)")

    def cookie_token(self):
        for part in self.headers.get("Cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == COOKIE and value:
                return value
        return None

    def basic(self, value, scenario, name):
        try:
            key, sep, secret = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            if not sep:
                raise ValueError("missing ':'")
        except ValueError as e:
            raise ApiError(401, 21, f"Unauthorized (malformed credentials) ({e})")
        if scenario.startswith("mongo_down"):
            self.mongo_wait(scenario)
            raise ApiError(500, 1, f"Internal server error (while authorizing request): err={PYMONGO_ERR}",
                           {"err": PYMONGO_ERR})
        cred = self.double.credentials.get(key)
        if scenario in ("bad_credentials", "fixed_users_off") or cred is None or not hmac.compare_digest(cred["secret"], secret):
            raise ApiError(401, 22, "Unauthorized (invalid credentials) (failed to locate provided credentials)")
        return cred

    def bearer(self, token, scenario):
        if scenario == "redis_down":  # the revocation lookup in Redis db 0 raises outside the call wrapper
            raise ApiError(500, 0, f"Failed processing request {self.path}", plain=True)
        identity = self.double.decode_token(token)["identity"]
        return {"user": identity["user"], "role": identity["role"], "user_name": identity["user_name"]}

    def mongo_wait(self, scenario):
        ms = int(scenario.split(":")[1]) if ":" in scenario else 30000
        self.double.scenario("api")[1].wait(ms / 1000.0)

    def require_role(self, cred, allowed):
        if cred["role"] not in allowed:
            raise ApiError(403, 20, f"Forbidden (not allowed for role): role={cred['role']}, "
                                    f"allowed=({', '.join(allowed)})", {"role": cred["role"], "allowed": allowed})

    # --- endpoints ------------------------------------------------------------------------------------------------
    def supported_modes(self, scenario):
        """login.supported_modes (services/login.py): basic.enabled is the fixed-users mode; jsonmodels drops unset
        guest fields. fixed_users_off: the apiserver started without its auth.fixed_users config."""
        guest = {"enabled": False}
        if scenario == "guest_enabled":
            guest = {"enabled": True, "name": "Guest", "username": "guest", "password": "guest"}
        return {"basic": {"enabled": scenario != "fixed_users_off", "guest": guest},
                "server_errors": {"missed_es_upgrade": False, "es_connection_error": scenario == "es_connection_error"},
                "sso": {}, "sso_providers": [], "authenticated": self.headers.get("Authorization") is not None}

    def call(self, name, params, scenario):
        auth = ENDPOINTS[name][1]
        if auth == "info":
            auth = "required" if vtuple(self.double.server_version) >= (2, 3) else "none"
        token, cred = (None, None) if auth == "none" else self.authenticate(scenario, name)
        if cred and scenario == "role_forbidden" and name != "auth.login" and cred["role"] != "system":
            self.require_role(dict(cred, role="guest"), ["admin", "root", "system", "user"])
        if name == "debug.ping":
            return dict(params, msg="ClearML server")
        if name == "login.supported_modes":
            return self.supported_modes(scenario)
        if name == "server.info":
            data = {"version": self.double.server_version, "build": self.double.args.server_build,
                    "commit": self.double.args.server_commit}
            if vtuple(self.endpoint["requested_version"]) >= (2, 12):
                data["api_version"] = self.double.max_api
            return data
        if name == "auth.login":
            if scenario.startswith("mongo_down"):  # a Bearer refresh still loads the user from Mongo
                self.mongo_wait(scenario)
                raise ApiError(500, 1, f"Internal server error: err={PYMONGO_ERR}", {"err": PYMONGO_ERR})
            return self.login(cred, params)
        if name == "auth.logout":
            if token:
                session_id = self.double.decode_token(token)["session_id"]
                with self.double.lock:
                    self.double.revoked.add(session_id)
            sys.stderr.write("clearml_double: auth.logout called (a session was revoked)\n")
            self.cookies[COOKIE] = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
            return {}
        if name == "auth.validate_token":
            self.require_role(cred, ["system", "root"])
            if not params.get("token"):
                raise ApiError(400, 11, "Missing required fields: field=token", {"field": "token"})
            try:
                payload = self.double.decode_token(params["token"])
            except ApiError as e:
                return {"valid": False, "msg": e.msg}
            return {"valid": True, "user": payload["identity"]["user"], "company": payload["identity"]["company"]}
        if name == "events.add":
            if scenario == "es_disk":
                raise ApiError(500, 4, "Critical server error! Server reports low or insufficient disk space. "
                                       "Please resolve immediately by allocating additional disk space or freeing "
                                       "up storage space.")
            return {}
        # queues.* and workers.* read Mongo
        if scenario.startswith("mongo_down"):
            self.mongo_wait(scenario)
            raise ApiError(500, 1, f"Internal server error: err={PYMONGO_ERR}", {"err": PYMONGO_ERR})
        if name == "queues.get_all":
            return {"queues": self.queues(params)}
        if name == "tasks.get_all":
            return {"tasks": self.tasks(params)}
        if name == "queues.get_num_entries":
            if not params.get("queue"):
                raise ApiError(400, 11, "Missing required fields: field=queue", {"field": "queue"})
            with self.double.lock:
                queue = next((q for q in self.double.queues if q["id"] == params["queue"]), None)
            if queue is None:
                raise ApiError(400, 701, f"Invalid queue id: id={params['queue']}", {"id": params["queue"]})
            return {"num": len(queue["entries"])}
        if name == "workers.get_all":
            if scenario == "redis_down":
                raise ApiError(500, 100, f"General data error (failed loading worker entries): err={REDIS_ERR}",
                               {"err": REDIS_ERR})
            return {"workers": self.workers(params)}
        raise ApiError(500, 9999, "Action is not yet implemented")

    def login(self, cred, params):
        exp = params.get("expiration_sec")
        if exp is not None:
            try:
                exp = int(exp)
            except (TypeError, ValueError):
                raise ApiError(400, 12, "Validation error (expiration_sec must be an integer)")
            if exp > MAX_EXPIRATION_SEC:
                raise ApiError(400, 12, f"Validation error (Expiration time exceeds the maximum allowed): "
                                        f"max_expiration_sec={MAX_EXPIRATION_SEC}",
                               {"max_expiration_sec": MAX_EXPIRATION_SEC})
        token = self.double.make_token(cred, exp)
        self.cookies[COOKIE] = f"{token}; HttpOnly; Path=/; SameSite=Lax"
        return {"token": token}

    def queues(self, params):
        with self.double.lock:
            queues = [dict(q) for q in self.double.queues]
        if params.get("name"):
            queues = [q for q in queues if re.search(str(params["name"]), q["name"])]
        if params.get("id"):
            ids = params["id"] if isinstance(params["id"], list) else [params["id"]]
            queues = [q for q in queues if q["id"] in ids]
        if not (params.get("search_hidden") or params.get("id") or params.get("name")):
            queues = [q for q in queues if "k8s-glue" not in q["tags"]]
        queues = page_of_queues(queues, params)
        out = []
        for q in queues:
            entries = [{"task": e["task"], "added": iso(e["added"])} for e in q["entries"]]
            if params.get("max_task_entries") is not None:
                entries = entries[:int(params["max_task_entries"])]
            # the fields a real v2.3.0 queue has (no user; display_name only when one was set), last_update moving
            # with its entries
            updated = max([q["created"]] + [e["added"] for e in q["entries"]])
            full = {"id": q["id"], "name": q["name"], "company": COMPANY["id"], "created": iso(q["created"]),
                    "tags": q["tags"], "system_tags": q["system_tags"], "entries": entries, "last_update": iso(updated),
                    "metadata": q["metadata"]}
            if q["display_name"]:
                full["display_name"] = q["display_name"]
            only = params.get("only_fields")
            if only:
                keep = {"id"} | {str(f).split(".")[0] for f in only}
                full = {k: v for k, v in full.items() if k in keep}
            out.append(full)
        return out

    def tasks(self, params):
        with self.double.lock:
            tasks = [dict(t) for t in self.double.tasks]
        statuses = params.get("status")
        if statuses:
            statuses = statuses if isinstance(statuses, list) else [statuses]
            tasks = [t for t in tasks if t["status"] in statuses]
        order = params.get("order_by") or []
        for field in reversed(order if isinstance(order, list) else [order]):
            name = str(field).lstrip("-")  # Mongo order: a missing value sorts before every value
            tasks = sorted(tasks, key=lambda t: (t.get(name) is not None, t.get(name) or 0), reverse=str(field).startswith("-"))
        size = min(int(params.get("page_size") or MAX_PAGE_SIZE), MAX_PAGE_SIZE)
        page = int(params.get("page") or 0)
        tasks = tasks[page * size:(page + 1) * size]
        out = []
        for t in tasks:
            full = {"id": t["id"], "name": t["name"], "status": t["status"], "company": COMPANY["id"],
                    "user": "probe-user-id", "type": "training", "system_tags": [], "tags": []}
            if t["last_update"] is not None:  # a task never updated has no last_update field
                full["last_update"] = iso(t["last_update"])
            only = params.get("only_fields")
            if only:
                keep = {"id"} | {str(f).split(".")[0] for f in only}
                full = {k: v for k, v in full.items() if k in keep}
            out.append(full)
        return out

    def workers(self, params):
        now = time.time()
        last_seen = int(params.get("last_seen", 3600))
        with self.double.lock:
            workers, queues = [dict(w) for w in self.double.workers], {q["name"]: q for q in self.double.queues}
        out = []
        for w in workers:
            seen = parse_time(w.get("last_activity_time"), now)
            timeout = int(w.get("register_timeout", 600))
            if seen + timeout < now or (last_seen and seen < now - last_seen):
                continue  # expired from Redis db 4, or filtered by last_seen
            wq = []
            for qname in w.get("queues", []):
                q = queues.get(qname, {"id": hashlib.md5(qname.encode()).hexdigest(), "name": qname, "entries": []})
                first = q["entries"][0]["task"] if q["entries"] else None
                entry = {"id": q["id"], "name": q["name"], "num_tasks": len(q["entries"])}
                if q.get("display_name"):
                    entry["display_name"] = q["display_name"]
                if first:
                    entry["next_task"] = {"id": first}
                wq.append(entry)
            registered = parse_time(w.get("register_time"), seen - 60)
            entry = {"company": COMPANY, "id": w["id"], "ip": w.get("ip", "172.18.0.9"),
                     "key": f"worker_{COMPANY['id']}_probe-user-id_{w['id']}", "last_activity_time": iso(seen),
                     "last_report_time": iso(seen), "queues": wq, "register_time": iso(registered),
                     "register_timeout": timeout, "system_tags": w.get("system_tags", []), "tags": w.get("tags", []),
                     "user": {"id": "__services_agent__", "name": "services_agent"}}
            # a busy worker adds its task, project and current queue; an idle one omits them (not null)
            for field in ("task", "project"):
                if w.get(field):
                    entry[field] = w[field]
            if w.get("queue"):
                q = queues.get(w["queue"], {"id": hashlib.md5(w["queue"].encode()).hexdigest(), "name": w["queue"]})
                entry["queue"] = {"id": q["id"], "name": q["name"]}
            out.append(entry)
        return out


def fleet_state(workers, queues, waiting_every=10, waiting=100, busy_every=3, now=None):
    """A real-size fleet for benchmarks: `queues` queues (100 waiting tasks on every tenth, the oldest 5 min old) and
    `workers` workers spread over them, each listening to one queue (every 50th also to `services`), every third busy.
    Entries follow the real v2.3.0 workers.get_all shape (user, company, ip, times, key, register_timeout, queues
    with num_tasks; a busy worker adds task, project and queue) via `workers()` below."""
    now = time.time() if now is None else now
    names = ["services", "default"] + [f"fleet-queue-{i:04d}" for i in range(max(0, queues - 2))]
    qs = []
    for i, name in enumerate(names[:queues]):
        entries = []
        if i % waiting_every == waiting_every - 1:
            entries = [{"task": hashlib.md5(f"{name}-{j}".encode()).hexdigest(), "added": now - 300 + j}
                       for j in range(waiting)]
        qs.append({"name": name, "entries": entries, "system_tags": ["default"] if name == "default" else []})
    ws = []
    for i in range(workers):
        listen = [names[(i % max(1, queues - 1)) + 1 if queues > 1 else 0]]
        if i % 50 == 0:
            listen.append("services")
        w = {"id": f"gpu-node-{i:05d}:gpu{i % 8}", "queues": listen, "last_activity_time": now - (i % 30),
             "ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", "tags": ["gpu", "a100"]}
        if i % busy_every == 0:
            task = hashlib.md5(f"task-{i}".encode()).hexdigest()
            w["task"] = {"id": task, "name": f"train resnet50 sweep {i}", "running_time": 3600 + i, "last_iteration": i}
            w["project"] = {"id": hashlib.md5(f"p{i % 40}".encode()).hexdigest(), "name": f"team-{i % 40}/vision"}
            w["queue"] = listen[0]
        ws.append(w)
    return {"queues": qs, "workers": ws}


MAX_PAGE_SIZE = 500  # apiserver mongo.max_page_size default: get_all returns at most this many, asked or not


def page_of_queues(queues, params):
    """queues.get_all paging as the real server does it: order_by, then page/page_size capped at MAX_PAGE_SIZE
    (page_size defaults to it, so an unpaged call also gets only the first 500)."""
    order = params.get("order_by") or []
    for field in reversed(order if isinstance(order, list) else [order]):
        name = str(field).lstrip("-")
        queues = sorted(queues, key=lambda q: str(q.get(name, "")), reverse=str(field).startswith("-"))
    size = min(int(params.get("page_size") or MAX_PAGE_SIZE), MAX_PAGE_SIZE)
    page = int(params.get("page") or 0)
    return queues[page * size:(page + 1) * size]


# ---------------------------------------------------------------------------------------------------------------
# fileserver
# ---------------------------------------------------------------------------------------------------------------
def file_parts(ctype, body):
    """(field name, content) of each multipart/form-data part that carries a filename (Werkzeug's "files")."""
    match = re.search(r'boundary="?([^";]+)"?', ctype) if ctype.startswith("multipart/form-data") else None
    if not match:
        return []
    out = []
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        disposition = next((line.split(b":", 1)[1].decode("utf-8", "replace") for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-disposition:")), "")
        name = re.search(r'(?:^|;)\s*name="((?:[^"\\]|\\.)*)"', disposition)
        if name and re.search(r";\s*filename\*?=", disposition):
            out.append((name.group(1).replace('\\"', '"'), content))
    return out


class FilesHandler(BaseHandler):
    def base_headers(self):
        return [("server", "clearml"), ("Access-Control-Allow-Origin", "*")]

    def route(self, scenario):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        if self.headers.get("Content-Encoding"):
            raise Reply(415, f"Content encoding is not supported ({self.headers['Content-Encoding']})")
        if self.command in ("OPTIONS", "HEAD") and path == "/":
            self.check_token(scenario, required=False)
            raise Reply(200, b"" if self.command == "OPTIONS" else b"OK",
                        headers={"Allow": "HEAD, POST, OPTIONS, GET"} if self.command == "OPTIONS" else None)
        if self.command == "GET" and path == "/":
            self.check_token(scenario, required=False)
            self.double.count("files", "root")
            raise Reply(200, b"OK")
        if self.command == "POST" and path == "/":
            return self.upload(scenario)
        if self.command == "POST" and path == "/delete_many":
            return self.delete_many(scenario)
        if self.command in ("GET", "HEAD", "OPTIONS") and path != "/":
            if self.command == "OPTIONS":
                raise Reply(200, b"", headers={"Allow": "DELETE, GET, HEAD, OPTIONS"})
            return self.download(scenario, path.lstrip("/"), url.query)
        if self.command == "DELETE" and path != "/":
            return self.delete(scenario, path.lstrip("/"))
        raise Reply(405, WZ_405)

    # --- auth -------------------------------------------------------------------------------------------
    def check_token(self, scenario, required=True):
        header = self.headers.get("Authorization")
        token = None
        if header:
            scheme, _, value = header.partition(" ")
            if scheme != "Bearer":
                raise Reply(401, "Only bearer token authorization is supported")
            token = value.strip()
        else:
            # cookie_ignored: fileserver.auth.cookie_names does not list the apiserver's session cookie
            for part in self.headers.get("Cookie", "").split(";"):
                key, _, value = part.strip().partition("=")
                if key == COOKIE and value and scenario != "cookie_ignored":
                    token = value
        if not token:
            if required:
                raise Reply(401, WZ_401)
            return
        if self.double.scenario("api")[0] == "redis_down":  # the token cache lives in the same Redis (db 8)
            raise Reply(500, WZ_500)
        if scenario == "token_rejected":
            raise Reply(401, "Invalid token (invalid jwt token): reason=Signature verification failed")
        key = "token_" + (hashlib.sha256(token.encode()).hexdigest() if len(token) > 256 else token)
        with self.double.lock:
            cached = self.double.token_cache.get(key)
        if cached and cached[0] > time.time():
            self.double.count("files", "token_cache_hit")
            return
        self.double.count("files", "token_cache_miss")
        data = self.validate_with_apiserver(token)
        with self.double.lock:
            self.double.token_cache[key] = (time.time() + TOKEN_CACHE_TTL,
                                            {"company": data.get("company"), "user": data.get("user")})

    def validate_with_apiserver(self, token):
        """GET /auth.validate_token with a JSON body; retries while the apiserver is unreachable."""
        deadline = time.monotonic() + self.double.args.validate_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Reply(500, WZ_500)
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.double.port('api')}/auth.validate_token", method="GET",
                data=json.dumps({"token": token}).encode(),
                headers={"Authorization": f"Bearer {self.double.fs_service_token}", "Content-Type": "application/json",
                         "X-ClearML-Worker": "clearml-double-fileserver", "X-ClearML-Agent": "fileserver"})
            try:
                with urllib.request.urlopen(request, timeout=min(remaining, 10)) as resp:
                    raw = resp.read()
                break
            except urllib.error.HTTPError as e:
                if e.code == 500:
                    raise Reply(500, "Internal error (status=500)")
                try:
                    msg = json.loads(e.read())["meta"]["result_msg"]
                except (ValueError, KeyError, TypeError):
                    msg = f"Internal error (status={e.code})"
                raise Reply(e.code, msg)
            except OSError:  # refused, reset or timed out: the real fileserver keeps retrying
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        try:
            data = json.loads(raw).get("data") or {}
        except (ValueError, AttributeError):
            raise Reply(500, WZ_500)
        if not data.get("valid"):
            raise Reply(401, data.get("msg") or "Invalid token")
        return data

    # --- routes -----------------------------------------------------------------------------------------
    def safe_path(self, rel):
        full = os.path.realpath(os.path.join(self.double.storage, rel))
        if not rel or (full != self.double.storage and not full.startswith(self.double.storage + os.sep)):
            return None
        if ".." in rel.replace("\\", "/").split("/"):
            return None
        return full

    def upload(self, scenario):
        self.check_token(scenario)
        self.double.count("files", "upload")
        limit = self.double.args.max_upload_mb * 1024 * 1024
        if scenario == "too_large" or (limit and len(self.body) > limit):
            raise Reply(413, WZ_413)
        if scenario == "unsupported_encoding":
            raise Reply(415, "Content encoding is not supported (gzip)")
        if scenario == "storage_readonly":
            raise Reply(500, WZ_500)
        targets = []
        for field, content in file_parts(self.headers.get("Content-Type", ""), self.body):
            target = self.safe_path(field.lstrip("/"))
            if target is None:
                raise Reply(404, WZ_404)
            targets.append((field.lstrip("/"), target, content))
        saved = []
        for rel, target, content in targets:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(content)
            saved.append(rel)
        raise Reply(200, json.dumps(saved))

    def download(self, scenario, rel, query):
        self.check_token(scenario)
        self.double.count("files", "download")
        full = self.safe_path(rel)
        if full is None or not os.path.isfile(full):
            raise Reply(404, WZ_404)
        with open(full, "rb") as f:
            content = f.read()
        stat = os.stat(full)
        name = os.path.basename(full)
        ctype, encoding = mimetypes.guess_type(name)
        if encoding == "gzip" or ctype is None:
            ctype = "application/octet-stream"
        elif ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        disposition = "attachment" if "download" in urllib.parse.parse_qs(query, keep_blank_values=True) else "inline"
        raise Reply(200, content, ctype, {
            "Content-Disposition": f"{disposition}; filename={name}", "Cache-Control": "public, max-age=300",
            "Expires": formatdate(time.time() + 300, usegmt=True),
            "ETag": f'"{stat.st_mtime}-{stat.st_size}-{hashlib.md5(full.encode()).hexdigest()[:8]}"',
            "Last-Modified": formatdate(stat.st_mtime, usegmt=True), "Accept-Ranges": "bytes"})

    def delete(self, scenario, rel):
        self.check_token(scenario)
        self.double.count("files", "delete")
        full = self.safe_path(rel)
        if full is None or not os.path.isfile(full):
            raise Reply(404, f"File {rel} not found")
        os.remove(full)
        raise Reply(200, json.dumps(rel))

    def delete_many(self, scenario):
        self.check_token(scenario)
        self.double.count("files", "delete_many")
        sys.stderr.write(f"clearml_double: WARNING POST /delete_many called (recursive delete): {self.body[:500]!r}\n")
        try:
            files = json.loads(self.body)["files"] if self.body.strip() else None
        except (ValueError, KeyError, TypeError):
            files = None
        if files is None and not self.body.strip():
            raise Reply(400, WZ_400)
        if not files:
            raise Reply(400, "files are missing")
        deleted, errors = {}, {}
        for orig in files:
            rel = urllib.parse.unquote(str(orig)).strip("/")
            full = self.safe_path(rel) if rel else None
            if not rel:
                errors.setdefault("Empty path not allowed", []).append(orig)
            elif full is None or not os.path.exists(full):
                errors.setdefault("Not found", []).append(orig)
            elif os.path.isdir(full):
                shutil.rmtree(full)
                deleted[orig] = rel
            elif os.path.isfile(full):
                os.remove(full)
                deleted[orig] = rel
            else:
                errors.setdefault("Not a file or folder", []).append(orig)
        raise Reply(200, json.dumps({"deleted": deleted, "errors": errors}), "application/json")


# ---------------------------------------------------------------------------------------------------------------
# webserver: nginx serving the UI and proxying /api and /files
# ---------------------------------------------------------------------------------------------------------------
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
               "proxy-connection", "host", "content-length"}
HIDDEN_UPSTREAM = {"server", "date", "x-pad", "x-accel-redirect", "x-accel-expires", "x-accel-limit-rate",
                   "x-accel-buffering", "x-accel-charset", "connection", "transfer-encoding", "content-length"}
SECURITY_HEADERS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
                    "Content-Security-Policy": "frame-ancestors 'self'", "X-Content-Type-Options": "nosniff"}


class WebHandler(BaseHandler):
    def version_string(self):
        return "nginx"

    def base_headers(self):
        return []

    def send_5xx(self):
        self.send(500, nginx_page(500, "Internal Server Error"))

    def route(self, scenario):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/api"):
            self.double.count("web", "api_proxy")
            return self.proxy("api", scenario == "api_proxy_down", "/api")
        if path.startswith("/files"):
            self.double.count("web", "files_proxy")
            return self.proxy("files", scenario == "files_proxy_down", "/files")
        if self.command not in ("GET", "HEAD"):
            raise Reply(405, nginx_page(405, "Not Allowed"))
        if path == "/configuration.json":
            self.double.count("web", "configuration.json")
            raise Reply(200, json.dumps(CONFIGURATIONS.get(scenario, {})).encode(), "application/json")
        if path in SCRIPTS and scenario != "assets_missing":
            self.double.count("web", "asset")
            raise Reply(200, b"export {};\n", JS)
        # try_files $uri /index.html: every other path (a missing bundle too) gets the page itself.
        self.double.count("web", "index")
        raise Reply(200, INDEX_HTML, "text/html", SECURITY_HEADERS)

    def proxy(self, role, forced_down, prefix):
        if forced_down:
            raise Reply(502, nginx_page(502, "Bad Gateway"))
        target = self.path[len(prefix):] if self.path.startswith(prefix + "/") else self.path  # bare prefix kept
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        headers["Host"] = f"127.0.0.1:{self.double.port(role)}"
        headers["X-Forwarded-For"] = self.client_address[0]
        conn = http.client.HTTPConnection("127.0.0.1", self.double.port(role), timeout=self.double.args.proxy_timeout)
        try:
            conn.request(self.command, target, body=self.body if self.body or self.command in ("POST", "PUT") else None,
                         headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except TimeoutError:
            raise Reply(504, nginx_page(504, "Gateway Time-out"))
        except (OSError, http.client.HTTPException):
            raise Reply(502, nginx_page(502, "Bad Gateway"))
        finally:
            conn.close()
        passed = {}
        for k, v in resp.getheaders():
            if k.lower() not in HIDDEN_UPSTREAM and k.lower() != "content-type":
                passed.setdefault(k, []).append(v)
        raise Reply(resp.status, body, resp.getheader("Content-Type"), passed)


# ---------------------------------------------------------------------------------------------------------------
# control port
# ---------------------------------------------------------------------------------------------------------------
class ControlHandler(double_support.ControlHandler):
    double: Double = None
    role = "control"
    json_default = None

    def do_GET(self):
        d = self.double
        with d.lock:
            views = {"/requests": lambda: list(d.requests), "/counters": lambda: json.loads(json.dumps(d.counters)),
                     "/scenario": lambda: dict(d.scenarios),
                     "/state": lambda: {"queues": d.queues, "workers": d.workers, "tasks": d.tasks, "revoked_sessions": len(d.revoked),
                                        "cached_tokens": len(d.token_cache), "storage": d.storage},
                     "/ports": lambda: {role: d.port(role) for role in (*ROLES, "control")}}
            view = views.get(self.path)
            result = view() if view else None
        self.reply(200, result) if view else self.reply(404, {"error": f"no such control path {self.path}"})

    def do_POST(self):
        d = self.double
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/scenario":
                d.set_scenarios(body)
                return self.reply(200, dict(d.scenarios))
            if self.path == "/state":
                with d.lock:
                    d.set_state(body)
                return self.reply(200, {"ok": True})
            if self.path == "/fleet":
                state = fleet_state(int(body.get("workers", 1000)), int(body.get("queues", 200)))
                with d.lock:
                    d.set_state(state)
                return self.reply(200, {"workers": len(state["workers"]), "queues": len(state["queues"])})
            if self.path == "/reset":
                d.reset()
                return self.reply(200, {"ok": True})
            if self.path == "/flush_token_cache":
                with d.lock:
                    d.token_cache.clear()
                return self.reply(200, {"ok": True})
            if self.path == "/token":
                cred = d.credentials[body.get("access_key", d.args.access_key)]
                return self.reply(200, {"token": d.make_token(cred, body.get("expiration_sec"))})
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"error": str(e)})
        self.reply(404, {"error": f"no such control path {self.path}"})


def main():
    p = argparse.ArgumentParser(description=__doc__)
    for role in (*ROLES, "control"):
        p.add_argument(f"--{role}-port", type=int, default=0)
    p.add_argument("--access-key", default="probe-key")
    p.add_argument("--secret-key", default="probe-secret")
    p.add_argument("--fs-access-key", default="fs-key", help="the fileserver's system credentials")
    p.add_argument("--fs-secret-key", default="fs-secret")
    p.add_argument("--server-version", default="2.3.0")
    p.add_argument("--server-build", default="613")
    p.add_argument("--server-commit", default="b3960966045f4c856c061f28644d0da075db0f67")
    p.add_argument("--storage", default=None, help="fileserver storage dir (default: a temp dir, removed at exit)")
    p.add_argument("--max-upload-mb", type=int, default=0, help="fileserver max_upload_size_mb (0 = unlimited)")
    p.add_argument("--validate-timeout", type=float, default=60.0, help="bound on an uncached token check")
    p.add_argument("--proxy-timeout", type=float, default=60.0, help="webserver proxy_read_timeout")
    p.add_argument("--ignore-stdin", action="store_true", help="do not exit when stdin closes")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    double = Double(args)
    double.start({role: getattr(args, f"{role}_port") for role in (*ROLES, "control")})
    # the fileserver logs in at startup as its system user
    login = urllib.request.Request(
        f"http://127.0.0.1:{double.port('api')}/auth.login", method="GET",
        headers={"Authorization": "Basic " + base64.b64encode(f"{args.fs_access_key}:{args.fs_secret_key}".encode())
                 .decode(), "X-ClearML-Worker": "clearml-double-fileserver", "X-ClearML-Agent": "fileserver"})
    with urllib.request.urlopen(login, timeout=10) as resp:
        double.fs_service_token = json.loads(resp.read())["data"]["token"]
    with double.lock:  # the startup login is not the test's business
        double.requests.clear()
        double.counters["api_from_fileserver"].clear()

    def cleanup():
        if double.own_storage:
            shutil.rmtree(double.storage, ignore_errors=True)

    run_until_exit({role: double.port(role) for role in (*ROLES, "control")}, not args.ignore_stdin, cleanup)


if __name__ == "__main__":
    main()
