"""What the doubles' own tests do the same way: start a double as the Swift tests do (stdin piped, ready line read)
and make plain HTTP requests to it."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def launch(script, *args):
    """Start a double, read its ready line; the pipe on stdin keeps it alive (close it to stop the double)."""
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = json.loads(proc.stdout.readline())
    assert ready["ready"] is True
    return proc, ready["ports"]


def http(port, path, method="GET", body=None, headers=None, raw=None, timeout=5):
    """(status, headers as a dict, body bytes); `body` is sent as JSON, `raw` as it is."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
