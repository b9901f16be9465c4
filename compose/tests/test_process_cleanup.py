"""Every server a test starts ends with the test: nginx's workers included, when the test process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from stack import COMPOSE_DIR, NGINX_BINARY, environment_of, free_port, load_effective

pytestmark = pytest.mark.skipif(not Path(NGINX_BINARY).exists(), reason="nginx is not installed")

STARTER = """
import os, sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from stack import start_nginx
env = {env!r}
start_nginx(Path({prefix!r}), env)
print("up", flush=True)
time.sleep(600)
"""


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if text in cmdline and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found


def children_of(pids: list[int]) -> list[int]:
    """Processes whose parent is one of `pids` (nginx's workers: their command line names no path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in pids:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_nginx_and_its_workers_die_with_a_killed_test_process():
    prefix = tempfile.mkdtemp(prefix="clearml-cleanup-")
    env = {"PATH": os.environ["PATH"]}
    env.update({k: v for k, v in environment_of(load_effective()["services"]["nginx"]).items() if v is not None})
    env.update({"CLEARML_INGRESS_MODE": "http", "CLEARML_INGRESS_HTTP_PORT": str(free_port()),
                "CLEARML_INGRESS_HTTPS_PORT": str(free_port()), "CLEARML_INGRESS_STATUS_PORT": str(free_port()),
                "CLEARML_INGRESS_LEGACY_FILES_PORT": str(free_port()), "CLEARML_INGRESS_RESOLVER": "127.0.0.1",
                "CLEARML_INGRESS_ACCESS_LOG": f"{prefix}/access.json"})
    script = STARTER.format(tests=str(COMPOSE_DIR / "tests"), env=env, prefix=prefix)
    starter = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert starter.stdout.readline().strip() == "up"
        masters = [pid for pid in processes_mentioning(prefix) if "nginx" in Path(f"/proc/{pid}/cmdline").read_text()]
        workers = children_of(masters)
        assert masters and workers, "a master and at least one worker run"
        started = masters + workers
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [pid for pid in started if alive(pid)]
        assert left == [], "nginx processes (workers whose master is gone) outlived the test that started them"
    finally:
        for pid in processes_mentioning(prefix) + [p for p in locals().get("started", []) if alive(p)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
