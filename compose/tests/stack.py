"""Helpers for the compose/ tests: load compose.yaml as Docker Compose would, render the nginx templates as the
official nginx image would, and run real processes that die with the test."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import yaml

COMPOSE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = COMPOSE_DIR.parent
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
TEMPLATES_DIR = COMPOSE_DIR / "nginx" / "templates"
SCHEMA_FILE = Path(__file__).resolve().parent / "compose-spec.json"

# What a user's .env holds after init.sh on a machine where the images were pinned (the values themselves are
# placeholders: the tests never pull).
INIT_VALUES = {
    "CLEARML_SERVER_IMAGE": "clearml/server@sha256:" + "1" * 64,
    "CLEARML_AGENT_SERVICES_IMAGE": "clearml/clearml-agent-services@sha256:" + "0" * 64,
    "CLEARML_AGENT_ACCESS_KEY": "K" * 30,
    "CLEARML_AGENT_SECRET_KEY": "s" * 56,
}


# --- Compose ----------------------------------------------------------------------------------------------------

class MissingVariable(Exception):
    """A ${VAR:?message} / ${VAR?message} whose variable is not set: Compose refuses the file."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as Compose's .env parser reads them (comments, blank lines, optional quotes)."""
    env: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


_VAR = re.compile(r"\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_EXPR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$", re.S)


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}."""

    def repl(m: re.Match) -> str:
        if m.group(1):
            return "$"
        if m.group(3):
            return env.get(m.group(3), "")
        expr = _EXPR.match(m.group(2))
        if not expr:
            raise ValueError(f"invalid interpolation {m.group(0)!r}")
        name, op, arg = expr.groups()
        value = env.get(name)
        if op is None:
            return value or ""
        if op == ":-":
            return value if value else interpolate(arg, env)
        if op == "-":
            return value if value is not None else interpolate(arg, env)
        if op == ":?":
            if not value:
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op == "?":
            if value is None:
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op == ":+":
            return interpolate(arg, env) if value else ""
        return interpolate(arg, env) if value is not None else ""

    return _VAR.sub(repl, text)


def interpolate_tree(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(v, env) for v in node]
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env) for k, v in node.items()}
    return node


def load_raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def example_env(**overrides: str) -> dict[str, str]:
    """.env.example plus what init.sh adds, as the variables Compose interpolates with."""
    env = read_env_file(ENV_EXAMPLE)
    env.update(INIT_VALUES)
    env.update(overrides)
    return env


def load_effective(env: dict[str, str] | None = None) -> dict:
    return interpolate_tree(load_raw(), example_env() if env is None else env)


def environment_of(service: dict) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        out: dict[str, str | None] = {}
        for item in env:
            key, sep, value = item.partition("=")
            out[key] = value if sep else None
        return out
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def size_bytes(text: str) -> int:
    """Compose/Docker byte sizes (512m, 4g, 1.5gb, 768mb) -> bytes."""
    m = re.fullmatch(r"(?i)\s*([0-9.]+)\s*([kmgt]?)(?:i?b)?\s*", str(text))
    if not m:
        raise ValueError(f"not a size: {text!r}")
    factor = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * factor)


def duration_seconds(text: str) -> float:
    """Compose durations (1m30s, 180s, 5m) and the probe's (30s, 5m, 1h)."""
    total = 0.0
    parts = re.findall(r"([0-9.]+)(ms|us|h|m|s)", str(text))
    if not parts or "".join(a + b for a, b in parts) != str(text):
        raise ValueError(f"not a duration: {text!r}")
    for number, unit in parts:
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


# --- nginx templates --------------------------------------------------------------------------------------------

def render_templates(template_dir: Path, output_dir: Path, env: dict[str, str]) -> list[Path]:
    """Render as the official image's /docker-entrypoint.d/20-envsubst-on-templates.sh does: the names of the
    environment variables that exist and match NGINX_ENVSUBST_FILTER (an awk regex) become envsubst's SHELL-FORMAT,
    so only those are substituted; every *.template under the template dir (recursively, symlinks followed) goes
    to the output dir under its relative path without the suffix."""
    filt = env.get("NGINX_ENVSUBST_FILTER", "")
    program = 'END { for (name in ENVIRON) { print ( name ~ /%s/ ) ? name : "" } }' % filt
    names = subprocess.run(["awk", program], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           check=True).stdout.split()
    shell_format = "".join("${%s} " % name for name in names)
    rendered = []
    for template in sorted(template_dir.rglob("*.template")):
        relative = template.relative_to(template_dir)
        output = output_dir / str(relative)[: -len(".template")]
        output.parent.mkdir(parents=True, exist_ok=True)
        with template.open("rb") as src, output.open("wb") as dst:
            subprocess.run(["envsubst", shell_format], stdin=src, stdout=dst, env=env, check=True)
        rendered.append(output)
    return rendered


# The http{} of the official image's /etc/nginx/nginx.conf (nginx.org packages), with paths moved into a prefix.
# The image's workers run as "nginx"; here nginx's default worker user is used (the prefix is world-readable).
IMAGE_NGINX_CONF = """\
worker_processes  1;
error_log  {prefix}/error.log notice;
pid        {prefix}/nginx.pid;

events {{
    worker_connections  1024;
}}

http {{
    include       {prefix}/etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  {prefix}/access-main.log  main;

    sendfile        on;
    keepalive_timeout  65;

    # The image's compiled-in temp paths (/var/cache/nginx/*), moved into the prefix.
    client_body_temp_path {prefix}/cache/client_temp;
    proxy_temp_path       {prefix}/cache/proxy_temp;
    fastcgi_temp_path     {prefix}/cache/fastcgi_temp;
    uwsgi_temp_path       {prefix}/cache/uwsgi_temp;
    scgi_temp_path        {prefix}/cache/scgi_temp;

    include {prefix}/etc/nginx/conf.d/*.conf;
}}
"""

NGINX_BINARY = os.environ.get("NGINX_BINARY", "/usr/sbin/nginx")


def prepare_nginx_prefix(prefix: Path, env: dict[str, str]) -> Path:
    """An /etc/nginx like the image's, templates rendered into conf.d; returns the nginx.conf path."""
    prefix.chmod(0o755)
    etc = prefix / "etc" / "nginx"
    (etc / "conf.d").mkdir(parents=True, exist_ok=True)
    (prefix / "cache").mkdir(exist_ok=True)
    mime = Path("/etc/nginx/mime.types")
    (etc / "mime.types").write_text(mime.read_text() if mime.exists() else "types { text/html html; }\n")
    conf = etc / "nginx.conf"
    conf.write_text(IMAGE_NGINX_CONF.format(prefix=prefix))
    render_templates(TEMPLATES_DIR, etc / "conf.d", env)
    return conf


def nginx_test_config(conf: Path, prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NGINX_BINARY, "-t", "-q", "-p", str(prefix), "-e", str(prefix / "error.log"),
                           "-c", str(conf)], capture_output=True, text=True, timeout=30)


def start_nginx(prefix: Path, env: dict[str, str]) -> subprocess.Popen:
    """Renders the templates with `env` into an image-like prefix, has `nginx -t` accept them, starts nginx (dying
    with the test) and waits until its HTTP and status listeners (and the HTTPS one in https mode) accept."""
    conf = prepare_nginx_prefix(prefix, env)
    checked = nginx_test_config(conf, prefix)
    assert checked.returncode == 0, checked.stderr
    proc = start_process([NGINX_BINARY, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf),
                          "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ports = ["CLEARML_INGRESS_HTTP_PORT", "CLEARML_INGRESS_STATUS_PORT"]
        if env["CLEARML_INGRESS_MODE"] == "https":
            ports.append("CLEARML_INGRESS_HTTPS_PORT")
        for name in ports:
            wait_for_port(int(env[name]), proc)
    except Exception:
        stop_process(proc)
        raise
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The leader of each server's process group: when the test process dies it gets SIGTERM (pdeathsig) and kills the
# whole group, so the server's own children (nginx's workers) die too, not only the process the test started.
# stdin is passed on through fd 3 (a background job's stdin is /dev/null, also for a `<&0` of its own in dash).
_GROUP_LEADER = 'trap "kill -KILL 0" TERM; exec 3<&0; "$@" <&3 3<&- & child=$!; exec 3<&-; wait "$child"'


def start_process(argv: list[str], **kwargs) -> subprocess.Popen:
    """Start a server in a process group of its own that is killed, whole, when the test process dies or
    stop_process is called."""
    return subprocess.Popen(["setpriv", "--pdeathsig", "TERM", "--", "sh", "-c", _GROUP_LEADER, "sh", *argv],
                            start_new_session=True, **kwargs)


def stop_process(proc: subprocess.Popen) -> None:
    """Kill the server's whole process group (also what is left of it after its leader exited)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
