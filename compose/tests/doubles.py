"""Test doubles for the ingress tests: HTTP upstreams that say who they are and what they received, a DNS server
standing in for Docker's embedded resolver (127.0.0.11), and the repository's ClearML double (Tests/doubles) as the
apiserver, webserver and fileserver behind the ingress."""

from __future__ import annotations

import json
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stack import REPO_DIR, start_process, stop_process


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _body_length(self) -> int:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return total
                remaining = size
                while remaining:
                    remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
                total += size
                self.rfile.readline()
        remaining = length = int(self.headers.get("Content-Length") or 0)
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        return length - remaining

    def _answer(self) -> None:
        received = self._body_length()
        body = json.dumps({
            "upstream": self.server.name,  # type: ignore[attr-defined]
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "x_forwarded_for": self.headers.get("X-Forwarded-For"),
            "x_real_ip": self.headers.get("X-Real-IP"),
            "x_forwarded_proto": self.headers.get("X-Forwarded-Proto"),
            "authorization": self.headers.get("Authorization"),
            "body_bytes": received,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        # An upstream's own headers the ingress must not duplicate.
        self.send_header("X-Frame-Options", "DENY")
        if self.path.startswith("/widgets"):
            # What ClearML's webserver sends for its embeddable report widgets.
            self.send_header("Content-Security-Policy", "frame-ancestors *")
        self.send_header("Server", "upstream-double/1.0")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


class Upstream:
    """An HTTP server on host:port (port 0 = any) in a daemon thread, answering every request with JSON."""

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0):
        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self.server.name = name  # type: ignore[attr-defined]
        self.host, self.port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DNSDouble:
    """A UDP DNS server answering A queries from a mutable table (name -> [IPv4]), TTL 1 s; NXDOMAIN otherwise,
    and an empty answer for other types (nginx asks AAAA only with ipv6=on)."""

    def __init__(self):
        self.records: dict[str, list[str]] = {}
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(data), peer)
            except Exception:  # a malformed query: no answer, as a real server might
                continue

    def _answer(self, query: bytes) -> bytes:
        qid, _flags, qdcount = struct.unpack("!HHH", query[:6])
        labels, i = [], 12
        while query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode())
            i += 1 + query[i]
        qtype, _qclass = struct.unpack("!HH", query[i + 1:i + 5])
        question = query[12:i + 5]
        name = ".".join(labels).lower()
        self.queries.append(name)
        addresses = self.records.get(name)
        rcode = 0 if addresses is not None else 3
        answers = b""
        if addresses and qtype == 1:
            for address in addresses:
                answers += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 4) + socket.inet_aton(address)
        count = len(addresses) if addresses and qtype == 1 else 0
        header = struct.pack("!HHHHHH", qid, 0x8180 | rcode, qdcount, count, 0, 0)
        return header + question + answers

    def close(self) -> None:
        self._stop = True
        self.sock.close()


class ClearMLDouble:
    """Tests/doubles/clearml_double.py (apiserver, fileserver and webserver roles on their own loopback ports, plus a
    control port; see Tests/doubles/README.md) in a process that dies with the test and exits when its stdin
    closes."""

    SCRIPT = REPO_DIR / "Tests" / "doubles" / "clearml_double.py"

    def __init__(self, *arguments: str, ready_timeout: float = 20.0):
        # stderr to a file: a pipe nobody reads while the tests run could fill up and stall the double.
        self._stderr = tempfile.TemporaryFile()
        self.proc = start_process([sys.executable, str(self.SCRIPT), *arguments], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self._stderr)
        try:
            readable, _, _ = select.select([self.proc.stdout], [], [], ready_timeout)
            line = self.proc.stdout.readline() if readable else b""
            if not line:
                raise RuntimeError(f"the ClearML double gave no ready line within {ready_timeout} s "
                                   f"(exit status {self.proc.poll()})")
            ready = json.loads(line)
            assert ready["ready"] is True
            self.ports: dict[str, int] = ready["ports"]
        except BaseException:
            stop_process(self.proc)
            raise

    def control(self, path: str, body: dict | None = None, timeout: float = 10.0):
        """A control-port call: POST with a JSON body, or GET without one; the JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.ports['control']}{path}", data=data,
                                         method="GET" if body is None else "POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def close(self) -> tuple[int | None, str]:
        """Stops the double (stdin EOF, then SIGKILL after 5 s); its exit status and what it wrote to stderr."""
        self.proc.stdin.close()
        deadline = time.monotonic() + 5
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        status = self.proc.poll()
        stop_process(self.proc)
        self._stderr.seek(0)
        return status, self._stderr.read().decode(errors="replace")
