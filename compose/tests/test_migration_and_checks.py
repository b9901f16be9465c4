"""Moving from ClearML's own layout keeps users, their keys' secrets and Redis' data; the secrets gate knows every
public default and ClearML's `${?VAR}`; init.sh refuses what Docker would refuse (or get wrong) at `up`."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path

import pytest

from stack import COMPOSE_DIR, load_effective, example_env, environment_of, read_env_file
from test_init import check_bcrypt, run_init, stack_dir  # noqa: F401  (stack_dir is a fixture)

SERVER = "clearml/server:2.3.0-1"


def run_check(config: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(COMPOSE_DIR / "secrets-check.sh"), str(config)], capture_output=True,
                          text=True, env={"PATH": os.environ["PATH"], **env}, timeout=60)


@pytest.fixture
def old_install(tmp_path):
    """/opt/clearml/config of an installation with fixed users in clear text and one secret of its own."""
    old = tmp_path / "old-config"
    old.mkdir()
    (old / "apiserver.conf").write_text("""
auth {
    fixed_users {
        enabled: true
        pass_hashed: false
        users: [
            { username: "jane", password: "janes secret pw", name: "Jane Doe" }
            { username: "ci-bot", password: "bot-pw-1", name: "CI" }
        ]
    }
}
""")
    (old / "secure.conf").write_text("""
{
    auth { token_secret: "their-own-token-secret-0123456789-0123456789-0123456789" }
}
""")
    return old


def users_of(conf: Path) -> dict[str, str]:
    return dict(re.findall(r'username: "([^"]+)", password: "([^"]+)"', conf.read_text()))


# --- Migration -----------------------------------------------------------------------------------------------------

def test_migration_keeps_the_old_fixed_users_and_own_secrets(stack_dir, old_install):
    result = run_init(stack_dir, "--server-image", SERVER, "--migrate-from", str(old_install))
    assert result.returncode == 0, result.stdout + result.stderr
    conf = stack_dir / "config" / "apiserver.conf"
    users = users_of(conf)
    assert set(users) == {"admin", "jane", "ci-bot", "clearml-probe"}
    # Clear-text passwords of the old file become bcrypt hashes (the new file sets pass_hashed: true).
    assert check_bcrypt("janes secret pw", base64.b64decode(users["jane"]).decode())
    assert check_bcrypt("bot-pw-1", base64.b64decode(users["ci-bot"]).decode())
    assert "janes secret pw" not in conf.read_text()
    # ClearML must never delete a user (and its API keys) missing from the config of a migrated install.
    assert "delete_missing_autocreated_users: false" in conf.read_text()
    required = (stack_dir / "config" / "fixed-users.required").read_text().split()
    assert {"jane", "ci-bot"} <= set(required)
    # Its own token secret is kept (tokens stay valid); everything it left at ClearML's defaults is new.
    token = subprocess.run(["sh", str(stack_dir / "secrets-check.sh"), "--get", "auth.token_secret",
                            str(stack_dir / "config")], capture_output=True, text=True, check=True).stdout.strip()
    assert token == "their-own-token-secret-0123456789-0123456789-0123456789"
    env = read_env_file(stack_dir / ".env")
    assert env["CLEARML_REDIS_APPENDONLY"] == "no", "Redis must load the migrated dump.rdb once"
    assert env["CLEARML_LEGACY_FILES_BIND"] == "0.0.0.0", "old http://<host>:8081/ links keep working"
    assert run_check(stack_dir / "config").returncode == 0


def test_an_old_files_url_must_be_a_plain_url(stack_dir, old_install):
    for bad in ("clearml.old:8081", 'http://x"]', "http://a b"):
        result = run_init(stack_dir, "--server-image", SERVER, "--migrate-from", str(old_install),
                          "--old-files-url", bad)
        assert result.returncode != 0 and "--old-files-url" in result.stderr, bad
        for leftover in (".env", ".env.new"):
            (stack_dir / leftover).unlink(missing_ok=True)


def test_migration_keeps_an_existing_admin_user(stack_dir, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    hashed = base64.b64encode(b"$2b$12$" + b"a" * 53).decode()
    (old / "apiserver.conf").write_text('auth.fixed_users { enabled: true, pass_hashed: true, users: [ '
                                        f'{{ username: "admin", password: "{hashed}", name: "Boss" }} ] }}\n')
    result = run_init(stack_dir, "--server-image", SERVER, "--migrate-from", str(old))
    assert result.returncode == 0, result.stderr
    assert "admin /" not in result.stdout, "no new password for a user that already exists"
    assert users_of(stack_dir / "config" / "apiserver.conf")["admin"] == hashed


def test_the_gate_refuses_a_migrated_install_that_would_drop_a_user(stack_dir, old_install):
    assert run_init(stack_dir, "--server-image", SERVER, "--migrate-from", str(old_install)).returncode == 0
    conf = stack_dir / "config" / "apiserver.conf"
    text = conf.read_text()
    without_jane = "\n".join(line for line in text.splitlines() if '"jane"' not in line)
    # With ClearML's deletion of missing users on again, dropping jane would delete her and her API keys.
    conf.write_text(without_jane.replace("delete_missing_autocreated_users: false", ""))
    result = run_check(stack_dir / "config")
    assert result.returncode == 1
    assert "fixed user 'jane' of the migrated installation is missing" in result.stderr
    # Kept when deletion is off: nothing would be deleted.
    conf.write_text(without_jane)
    assert run_check(stack_dir / "config").returncode == 0


# --- The secrets gate ----------------------------------------------------------------------------------------------

# Every value ClearML shipped in apiserver/ and fileserver/config/default/secure.conf, kept here in two halves so
# that no file of this repository holds a public secret in one piece (docs/compose-facts.md lists the sources).
PUBLIC_DEFAULTS = [
    ("http.session_secret.apiserver", "Gx*gB-L2U8!Naqzd#8=7A", "4&+=In4H(da424H33ZTDQRGF6=FWw"),
    ("http.session_secret.apiserver", "V8gcW3EneNDcNfO7G_TSU", "sWe7uLozyacc9_I33o7bxUo8rCN31VLRg"),
    ("auth.token_secret", "7E1ua3xP9GT2(cIQOfhj", "p+gwN6spBeCAmN-XuugYle00I=Wc+u"),
    ("auth.token_secret", "Rq8FW84sSqVgq7WvBB_4", "EzNl9y8z8IGiDXX3C345_a5AZfcwZcwCIA"),
    ("credentials.apiserver.user_key", "62T8CP7HGBC664", "7XF9314C2VY67RJO"),
    ("credentials.apiserver.user_secret", "FhS8VZv_I4%6Mo$8S1BWc$n$=o1", "dMYSivuiWU-Vguq7qGOKskG-d+b@tn_Iq"),
    ("credentials.apiserver.user_secret", "gaOfhDX2-bpkeI7-cwEcaMuGijxaG2U", "G3jbIvg4DxmVGF0LNI7rgvCb1-ne38IlBo1w"),
    ("credentials.fileserver.user_key", "GSQWPEKSKNKF354", "LC9V6BHXKTYFD5I"),
    ("credentials.fileserver.user_secret", "tuBXcGQBECsEhcNiK2kiWi750", "z9r8Z85XrQ9V0c24huTuCb2xf2X1nKG"),
    ("credentials.webserver.user_key", "EYVQ385RW7Y2QQ", "UH88CZ7DWIQ1WUHP"),
    ("credentials.webserver.user_secret", "yfc8KQo*GMXb*9p((qcYC7By", "FIpF7I&4VH3BfUYXH%o9vX1ZUZQEEw1Inc)S"),
    ("credentials.webserver.user_secret", "XhkH6a6ds9JBnM_MrahYyYdO-w", "S2bqFSm8gl-V0UZXH26Ydd6Eyi28TeBEoSr6Z3Bes"),
    ("credentials.services_agent.user_key", "P4BMJA7RK3TKBX", "GSY8OAA1FA8TOD11"),
    ("credentials.services_agent.user_secret", "9LsgSfa0SYz0zli1_c500ZcLqanr", "e2xkWOpepyt1w-BKK3_DKPHrtoj3JSHvyy8bIi0"),
    ("credentials.services_agent.user_secret", "OjxF-nxfMMZ-pzFNQpLqHKBlca9Ox", "mD8C-ZbQqTx5Ill1kwCVFj2CR2HQGjLlFGvYTc"),
    ("credentials.tests.user_key", "EGRTCO8JMSIGI6", "S39GTP43NFWXDQOW"),
    ("credentials.tests.user_secret", "x!XTov_G-#vspE*Y(h$Anm", "&DIc5Ou-F)jsl$PdOyj5wG1&E!Z8"),
    ("credentials.tests.user_secret", "LPEJbGJ6bK4tujQcmrD3i1d", "bMBDdwUwelVa-LG0K0FFmY9bzH_H0Sw"),
]


@pytest.fixture(scope="module")
def initialised_config(tmp_path_factory):
    directory = tmp_path_factory.mktemp("gate") / "compose"
    directory.mkdir()
    for name in ("init.sh", "secrets-check.sh", "secrets_check.py", ".env.example", "compose.yaml"):
        (directory / name).write_bytes((COMPOSE_DIR / name).read_bytes())
    assert run_init(directory, "--server-image", SERVER).returncode == 0
    return directory / "config"


def with_value(config: Path, tmp_path: Path, path: str, hocon_value: str) -> Path:
    """A copy of `config` whose secure.conf sets `path` to `hocon_value` (a HOCON value, as written)."""
    target = tmp_path / "config"
    target.mkdir()
    for file in config.iterdir():
        (target / file.name).write_bytes(file.read_bytes())
    leaf = path.rsplit(".", 1)[1]
    secure = target / "secure.conf"
    # secure.conf as init.sh writes it holds each leaf once per block; override with a dotted path at the end.
    secure.write_text(secure.read_text() + f"\n{path}: {hocon_value}\n")
    assert leaf in secure.read_text()
    return target


@pytest.mark.parametrize("path,first,second", PUBLIC_DEFAULTS, ids=[f"{p}#{i}" for i, (p, _, _) in
                                                                      enumerate(PUBLIC_DEFAULTS)])
def test_the_gate_refuses_every_public_default(initialised_config, tmp_path, path, first, second):
    secret = first + second
    config = with_value(initialised_config, tmp_path, path, '"' + secret.replace("\\", "\\\\") + '"')
    result = run_check(config)
    assert result.returncode == 1, f"{path}: a public default passed the gate"
    assert f"{path} is ClearML's public default value" in result.stderr
    assert secret not in result.stdout + result.stderr, "never echo the secret"


def test_an_unset_optional_substitution_is_the_public_default(initialised_config, tmp_path):
    """ClearML parses `${?VAR}` with pyhocon: with VAR unset the key disappears and ClearML's shipped (public)
    token secret applies; with VAR set it is that value."""
    config = with_value(initialised_config, tmp_path, "auth.token_secret", '"placeholder"')
    secure = config / "secure.conf"
    # The substitution replaces the generated value (a later `${?VAR}` would keep an earlier value, as in HOCON).
    text = re.sub(r'token_secret: "[^"]+"', "token_secret: ${?CLEARML_TEST_TOKEN_SECRET}", secure.read_text())
    secure.write_text(text.replace('auth.token_secret: "placeholder"', ""))
    result = run_check(config)
    assert result.returncode == 1
    assert "auth.token_secret is not set in secure.conf" in result.stderr
    result = run_check(config, CLEARML_TEST_TOKEN_SECRET="t" * 48)
    assert result.returncode == 0, result.stderr


def test_an_environment_override_is_checked_too(initialised_config):
    """CLEARML__secure__... variables override the file in ClearML, so they are checked like it."""
    secret = PUBLIC_DEFAULTS[3][1] + PUBLIC_DEFAULTS[3][2]
    result = run_check(initialised_config, CLEARML__secure__auth__token_secret=f'"{secret}"')
    assert result.returncode == 1 and "auth.token_secret is ClearML's public default value" in result.stderr


def test_unparseable_hocon_is_named_without_its_content(initialised_config, tmp_path):
    config = with_value(initialised_config, tmp_path, "auth.token_secret", '"unterminated-secret-value')
    result = run_check(config)
    assert result.returncode == 1 and "secure.conf cannot be parsed as HOCON" in result.stderr
    assert "unterminated-secret-value" not in result.stderr


# --- What Docker decides at `up`, checked by init.sh -------------------------------------------------------------

def rerun_with(stack_dir: Path, **values: str) -> subprocess.CompletedProcess:
    env_file = stack_dir / ".env"
    text = env_file.read_text()
    for key, value in values.items():
        text = re.sub(rf"^#?{key}=.*$", f"{key}={value}", text, flags=re.M) if re.search(
            rf"^#?{key}=", text, re.M) else text + f"{key}={value}\n"
    env_file.write_text(text)
    return run_init(stack_dir)


def test_init_refuses_a_cpu_limit_above_this_hosts_cpus(stack_dir):
    assert run_init(stack_dir, "--server-image", SERVER).returncode == 0
    too_many = str(os.cpu_count() * 4)
    result = rerun_with(stack_dir, CLEARML_APISERVER_CPUS=too_many)
    assert result.returncode != 0
    assert f"CLEARML_APISERVER_CPUS={too_many}" in result.stdout and "whole 'docker compose up' would fail" in \
        result.stdout


def test_cpu_defaults_start_on_one_cpu_and_bigger_hosts_get_more():
    services = load_effective()["services"]
    for name, service in services.items():
        cpus = ((service.get("deploy") or {}).get("resources") or {}).get("limits", {}).get("cpus")
        if cpus is not None:
            assert float(cpus) <= 1.0, f"{name}: {cpus}"
    init = (COMPOSE_DIR / "init.sh").read_text()
    assert 'if [ "$cpus" -ge 4 ]; then' in init and "set_env CLEARML_APISERVER_CPUS 2.0" in init


def test_init_refuses_a_server_image_that_expects_another_mongo(stack_dir):
    assert run_init(stack_dir, "--server-image", "allegroai/clearml:2.0.0-613").returncode != 0
    result = rerun_with(stack_dir, CLEARML_MONGO_IMAGE="mongo:6.0.19")
    assert result.returncode == 0, result.stdout
    assert load_effective(example_env(CLEARML_MONGO_IMAGE="mongo:6.0.19"))["services"]["mongo"]["image"] == \
        "mongo:6.0.19"


def test_init_refuses_ports_that_disagree_with_the_public_urls(stack_dir):
    result = run_init(stack_dir, "--server-image", SERVER, "--http-port", "8080")
    assert result.returncode == 0, result.stdout
    env = read_env_file(stack_dir / ".env")
    assert (env["CLEARML_HTTP_PORT"], env["CLEARML_PUBLIC_PORT_SUFFIX"], env["CLEARML_INGRESS_CONNECT_TO"]) == \
        ("8080", ":8080", "nginx:8080")
    result = rerun_with(stack_dir, CLEARML_PUBLIC_PORT_SUFFIX="")
    assert result.returncode != 0 and "CLEARML_PUBLIC_PORT_SUFFIX=:8080" in result.stdout


def test_the_project_name_is_not_the_official_layouts(stack_dir, tmp_path):
    assert read_env_file(COMPOSE_DIR / ".env.example")["COMPOSE_PROJECT_NAME"] != "clearml"
    assert run_init(stack_dir, "--server-image", SERVER).returncode == 0
    # An older stack of this repository named "clearml" keeps its name (its volumes are clearml_*), with a note.
    result = rerun_with(stack_dir, COMPOSE_PROJECT_NAME="clearml")
    assert result.returncode == 0 and "NOTE     COMPOSE_PROJECT_NAME=clearml" in result.stdout
    # Refused where ClearML's own compose file is on this host: both stacks would share containers and volumes.
    official = tmp_path / "docker-compose.yml"
    official.write_text("services: {}\n")
    result = subprocess.run(["sh", str(stack_dir / "init.sh"), "--no-pull"], cwd=stack_dir, capture_output=True,
                            text=True, timeout=120, env={"PATH": os.environ["PATH"], "HOME": str(stack_dir),
                                                         "CLEARML_OFFICIAL_COMPOSE_FILE": str(official)})
    assert result.returncode != 0 and "ERROR    COMPOSE_PROJECT_NAME=clearml" in result.stdout


def test_init_and_readme_warn_that_down_v_deletes_the_data(stack_dir):
    result = run_init(stack_dir, "--server-image", SERVER)
    assert "'docker compose down -v' deletes every volume" in result.stdout
    assert "docker compose down -v" in (COMPOSE_DIR / "README.md").read_text()


# --- Services as Docker runs them ----------------------------------------------------------------------------------

def test_redis_aof_can_be_off_for_a_migrated_dump():
    command = load_effective(example_env(CLEARML_REDIS_APPENDONLY="no"))["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "no"
    command = load_effective()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_the_webserver_starts_after_the_fileserver_and_without_ipv6():
    web = load_effective()["services"]["webserver"]
    assert web["depends_on"]["fileserver"] == {"condition": "service_healthy"}, \
        "its nginx aborts when fileserver does not resolve at start"
    assert environment_of(web)["DISABLE_NGINX_IPV6"] == "true", "its nginx aborts on hosts without IPv6"


def test_admin_is_documented_as_an_ordinary_user(stack_dir):
    assert run_init(stack_dir, "--server-image", SERVER).returncode == 0
    assert '"admin" is an ordinary user' in (stack_dir / "config" / "apiserver.conf").read_text()
    assert re.search(r"`admin`[^.]*ordinary", (COMPOSE_DIR / "README.md").read_text())
