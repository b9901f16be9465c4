"""init.sh (secrets, fixed users, .env; never overwrites) and secrets-check.sh (the stack's start gate)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import subprocess
import warnings
from pathlib import Path

import pytest

from stack import COMPOSE_DIR, interpolate_tree, load_raw, read_env_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt  # noqa: F401  (removed in Python 3.13; used only to verify bcrypt hashes)
    except ImportError:  # pragma: no cover
        crypt = None


def check_bcrypt(password: str, hashed: str) -> bool:
    try:
        import bcrypt  # type: ignore
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ImportError:
        if crypt is None:
            pytest.skip("neither the bcrypt module nor crypt is available to verify hashes")
        return crypt.crypt(password, hashed) == hashed


@pytest.fixture
def stack_dir(tmp_path):
    """A copy of compose/ as a user has it after cloning (no generated files)."""
    target = tmp_path / "compose"
    target.mkdir()
    for name in ("init.sh", "secrets-check.sh", "secrets_check.py", ".env.example", "compose.yaml"):
        shutil.copy2(COMPOSE_DIR / name, target / name)
    return target


def run_init(directory: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(directory)}
    return subprocess.run(["sh", str(directory / "init.sh"), "--no-pull", *args], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=120)


def secure_values(directory: Path) -> dict[str, str]:
    paths = ["http.session_secret.apiserver", "auth.token_secret"] + [
        f"credentials.{c}.{k}" for c in ("apiserver", "fileserver", "webserver", "tests", "services_agent")
        for k in ("user_key", "user_secret")]
    out = {}
    for path in paths:
        out[path] = subprocess.run(["sh", str(directory / "secrets-check.sh"), "--get", path,
                                    str(directory / "config")], capture_output=True, text=True,
                                   check=True).stdout.strip()
    return out


def test_init_generates_everything_the_stack_needs(stack_dir):
    result = run_init(stack_dir, "--domain", "ml.example.com", "--server-image", "clearml/server:2.3.0-1")
    assert result.returncode == 0, result.stderr
    values = secure_values(stack_dir)
    assert all(values.values()), values
    assert len(set(values.values())) == len(values), "every secret is distinct"
    for path, value in values.items():
        assert re.fullmatch(r"[A-Za-z0-9]+", value), path
        assert len(value) >= (30 if path.endswith("user_key") else 56), path

    env = read_env_file(stack_dir / ".env")
    assert env["CLEARML_DOMAIN"] == "ml.example.com"
    assert env["CLEARML_SERVER_IMAGE"] == "clearml/server:2.3.0-1"
    assert env["CLEARML_AGENT_ACCESS_KEY"] == values["credentials.services_agent.user_key"]
    assert env["CLEARML_AGENT_SECRET_KEY"] == values["credentials.services_agent.user_secret"]
    assert env["CLEARML_SCHEME"] == "http"
    # The .env makes compose.yaml interpolate completely.
    interpolate_tree(load_raw(), env)

    # Fixed users with base64 bcrypt hashes; the admin password is printed once, the probe's is a secret file.
    admin_password = re.search(r"admin / (\S+)", result.stdout).group(1)
    probe_password = (stack_dir / "secrets" / "clearml_probe_secret_key").read_text()
    conf = (stack_dir / "config" / "apiserver.conf").read_text()
    assert "pass_hashed: true" in conf and "enabled: true" in conf
    users = dict(re.findall(r'username: "([^"]+)", password: "([^"]+)"', conf))
    assert set(users) == {"admin", "clearml-probe"}
    assert check_bcrypt(admin_password, base64.b64decode(users["admin"]).decode())
    assert check_bcrypt(probe_password, base64.b64decode(users["clearml-probe"]).decode())
    assert base64.b64decode(users["admin"]).startswith(b"$2b$")
    assert admin_password not in conf and probe_password not in conf
    for path in (stack_dir / ".env", stack_dir / "config" / "secure.conf"):
        assert admin_password not in path.read_text()

    # Private on the host; the probe's secret readable inside its container (secrets/ itself is 0700).
    assert stat.S_IMODE((stack_dir / "secrets").stat().st_mode) == 0o700
    assert stat.S_IMODE((stack_dir / "config" / "secure.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((stack_dir / ".env").stat().st_mode) == 0o600
    assert stat.S_IMODE((stack_dir / "secrets" / "clearml_probe_secret_key").stat().st_mode) == 0o644

    check = subprocess.run(["sh", str(stack_dir / "secrets-check.sh"), str(stack_dir / "config")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_init_never_overwrites(stack_dir):
    assert run_init(stack_dir, "--server-image", "x/server:2.3.0-1").returncode == 0
    before = {p: p.read_bytes() for p in stack_dir.rglob("*") if p.is_file()}
    again = run_init(stack_dir, "--domain", "other.example.com", "--tls")
    assert again.returncode == 0, again.stderr
    assert "admin /" not in again.stdout, "the admin password is shown only when it is created"
    assert "not applied" in again.stdout
    after = {p: p.read_bytes() for p in stack_dir.rglob("*") if p.is_file()}
    assert before == after


def test_init_keeps_env_in_step_with_an_existing_secure_conf(stack_dir):
    assert run_init(stack_dir, "--server-image", "x/server:2.3.0-1").returncode == 0
    values = secure_values(stack_dir)
    (stack_dir / ".env").unlink()
    assert run_init(stack_dir, "--tls", "--server-image", "x/server:2.3.0-1").returncode == 0
    env = read_env_file(stack_dir / ".env")
    assert env["CLEARML_AGENT_ACCESS_KEY"] == values["credentials.services_agent.user_key"]
    assert (env["CLEARML_SCHEME"], env["CLEARML_COOKIE_SECURE"], env["CLEARML_INGRESS_CONNECT_TO"]) == \
        ("https", "true", "nginx:443")


def test_init_refuses_when_the_probe_password_is_lost(stack_dir):
    assert run_init(stack_dir, "--server-image", "x/server:2.3.0-1").returncode == 0
    (stack_dir / "secrets" / "clearml_probe_secret_key").unlink()
    result = run_init(stack_dir)
    assert result.returncode != 0 and "clearml_probe_secret_key is missing" in result.stderr


def test_without_a_pinned_server_image_init_says_what_to_do(stack_dir):
    result = run_init(stack_dir)
    assert result.returncode == 0, result.stderr
    assert "set CLEARML_SERVER_IMAGE" in result.stdout
    assert read_env_file(stack_dir / ".env")["CLEARML_SERVER_IMAGE"] == ""


# --- secrets-check.sh --------------------------------------------------------------------------------------------

def write_secure(directory: Path, body: str) -> Path:
    (directory / "config").mkdir(exist_ok=True)
    (directory / "config" / "secure.conf").write_text(body)
    return directory / "config"


def run_check(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(COMPOSE_DIR / "secrets-check.sh"), str(config)], capture_output=True, text=True)


def test_secrets_check_refuses_a_missing_secure_conf(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode == 1 and "run ./init.sh" in result.stderr


def test_secrets_check_refuses_missing_and_short_values(stack_dir):
    assert run_init(stack_dir, "--server-image", "x/server:2.3.0-1").returncode == 0
    secure = stack_dir / "config" / "secure.conf"
    text = secure.read_text()
    # Drop the fileserver block: ClearML would fall back to its default.
    trimmed = re.sub(r"  fileserver \{.*?\n  \}\n", "", text, flags=re.S)
    secure.write_text(trimmed)
    result = run_check(stack_dir / "config")
    assert result.returncode == 1
    assert "credentials.fileserver.user_key is not set" in result.stderr
    secure.write_text(re.sub(r'token_secret: "[^"]+"', 'token_secret: "short"', text))
    result = run_check(stack_dir / "config")
    assert result.returncode == 1 and "auth.token_secret is shorter" in result.stderr


def test_secrets_check_refuses_clearml_public_defaults(stack_dir):
    """Values are matched by digest; the published token secret is rebuilt here from its parts so that this
    repository never holds it in one piece."""
    assert run_init(stack_dir, "--server-image", "x/server:2.3.0-1").returncode == 0
    secure = stack_dir / "config" / "secure.conf"
    public_token_secret = "".join(["7E1ua3xP9GT2(cIQOfhj", "p+gwN6spBeCAmN-Xuug", "Yle00I=Wc+u"])
    secure.write_text(re.sub(r'token_secret: "[^"]+"', f'token_secret: "{public_token_secret}"',
                             secure.read_text()))
    result = run_check(stack_dir / "config")
    assert result.returncode == 1
    assert "auth.token_secret is ClearML's public default value" in result.stderr
    assert public_token_secret not in result.stderr + result.stdout, "never echo the secret"


def test_secrets_check_refuses_a_stack_without_fixed_users(stack_dir):
    assert run_init(stack_dir, "--server-image", "x/server:2.3.0-1").returncode == 0
    conf = stack_dir / "config" / "apiserver.conf"
    text = conf.read_text()
    conf.write_text(text.replace("enabled: true", "enabled: false"))
    result = run_check(stack_dir / "config")
    assert result.returncode == 1 and "does not enable auth.fixed_users" in result.stderr
    conf.write_text(text.replace("pass_hashed: true", "pass_hashed: false"))
    result = run_check(stack_dir / "config")
    assert result.returncode == 0 and "stored in clear" in result.stderr
    conf.unlink()
    result = run_check(stack_dir / "config")
    assert result.returncode == 1 and "apiserver.conf is missing" in result.stderr


def test_secrets_check_reads_hocon_written_by_hand(tmp_path):
    """ClearML's own layout (an outer {...}, 'name: {' blocks, '=' separators) is read the same way."""
    values = {"session": "S" * 56, "token": "T" * 56}
    body = ["{", "  http: {", "    session_secret {", f'      apiserver = "{values["session"]}"', "    }", "  }",
            "  auth {", f'    token_secret: "{values["token"]}"', "  }", "  credentials {"]
    for name in ("apiserver", "fileserver", "webserver", "tests", "services_agent"):
        body += [f"    {name} {{", f'      user_key: "{name.upper():K<24}"', f'      user_secret: "{"x" * 50}"',
                 "    }"]
    body += ["  }", "}"]
    config = write_secure(tmp_path, "\n".join(body) + "\n")
    (config / "apiserver.conf").write_text("auth {\n  fixed_users {\n    enabled: true\n    pass_hashed: true\n"
                                           "  }\n}\n")
    result = run_check(config)
    assert result.returncode == 0, result.stderr
