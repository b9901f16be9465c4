"""What every test double in this folder does the same way (stdlib only): loopback listeners, the ready line,
exiting on stdin EOF or SIGTERM/SIGINT, and the small JSON control server.

The doubles run as scripts (`python3 Tests/doubles/<name>.py`), so Python puts this folder first on sys.path and a
plain `import double_support` finds this module. The protocol itself is in Tests/doubles/README.md.
"""

import copy
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"

# Set once the double is exiting: hung requests and waits watch it.
SHUTDOWN = threading.Event()


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 whose handler threads do not keep the process alive."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops SYNs when a client opens many connections at once.
    request_queue_size = 64


def serve(port, handler, server_class=LoopbackServer, poll_interval=0.5):
    """Binds `handler` on 127.0.0.1:`port` (0 picks a free port) and serves it from a daemon thread."""
    server = server_class((LOOPBACK, port), handler)
    threading.Thread(target=server.serve_forever, args=(poll_interval,), daemon=True).start()
    return server


def listen(port, backlog):
    """A bare TCP listener on 127.0.0.1:`port` (for doubles that are not HTTP)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen(backlog)
    return sock


def run_until_exit(ports, stdin_watch, cleanup=None):
    """Announces the double and runs until stdin reaches EOF (when `stdin_watch`) or SIGTERM/SIGINT arrives; then
    sets SHUTDOWN, runs `cleanup` (once) and exits with status 0.

    The announcement is the one stdout line a launcher waits for, `{"ready": true, "ports": {...}}`, flushed; it is
    printed once SIGTERM/SIGINT exit cleanly."""
    exiting = threading.Lock()

    def bye(*_):
        if not exiting.acquire(blocking=False):
            return  # another thread is already on its way out
        SHUTDOWN.set()
        if cleanup is not None:
            cleanup()
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    print(json.dumps({"ready": True, "ports": ports}), flush=True)
    if stdin_watch:
        def watch():
            try:
                while sys.stdin.buffer.read1(65536):
                    pass
            except Exception:
                pass
            bye()
        threading.Thread(target=watch, daemon=True).start()
    while True:
        time.sleep(3600)


def hang(handler, released):
    """Holds a request without answering: returns when the client leaves, `released()` turns true (the scenario
    changed, /reset) or the double is exiting. The connection is closed afterwards."""
    handler.close_connection = True
    sock = handler.connection
    sock.settimeout(0.05)
    while not SHUTDOWN.is_set():
        if released():
            break
        try:
            if sock.recv(1, socket.MSG_PEEK) == b"":  # b"" means the client closed
                break
        except (TimeoutError, BlockingIOError):
            continue
        except OSError:
            break
        time.sleep(0.05)


class ControlHandler(BaseHTTPRequestHandler):
    """Base of the control ports: HTTP/1.1, silent, JSON replies."""

    protocol_version = "HTTP/1.1"
    # `json.dumps` default for values JSON has no type for; None: such a value is an error.
    json_default = str

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj, default=self.json_default).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_json(self):
        """The request body as JSON; an empty (or blank) body is `{}`."""
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw.strip() else {}


class ScenarioControlHandler(ControlHandler):
    """The scenario control API (README, "Common launch protocol"): GET /requests, GET /scenario, GET /scenarios,
    POST /scenario, POST /reset, over `state` (with `lock`, `requests`, `describe()`, `set_scenario(body)`,
    `reset()`) and the names in `scenarios`."""

    state = None
    scenarios = ()

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/requests":
            with self.state.lock:
                self.reply(200, copy.deepcopy(self.state.requests))  # a bare array, oldest first
        elif path == "/scenario":
            with self.state.lock:
                self.reply(200, self.state.describe())
        elif path == "/scenarios":
            self.reply(200, {"scenarios": sorted(self.scenarios)})
        else:
            self.reply(404, {"error": "unknown control path"})

    def do_POST(self):
        path = urlsplit(self.path).path
        try:
            body = self.read_json()
            if path == "/scenario":
                self.reply(200, self.state.set_scenario(body))
            elif path == "/reset":
                self.state.reset()
                with self.state.lock:
                    self.reply(200, self.state.describe())
            else:
                self.reply(404, {"error": "unknown control path"})
        except (ValueError, TypeError) as e:
            self.reply(400, {"error": str(e)})
