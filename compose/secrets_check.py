"""The ClearML stack's start gate, and the HOCON helper init.sh uses.

Reads the config directory the way ClearML's apiserver does (docs/compose-facts.md, "How ClearML reads its
config"): every *.conf file under it is parsed on its own with pyhocon, substitutions resolved against this
process's environment (so `${?VAR}` with VAR unset drops the key and ClearML falls back to its shipped, public
default), stored under the key named by its path (secure.conf -> secure.*), then CLEARML__a__b=value environment
variables merged over it.

  python3 secrets_check.py check DIR          exit 0 when safe, 1 with one line per problem (no secret printed)
  python3 secrets_check.py get PATH DIR       print one value of DIR/secure.conf (e.g. credentials.tests.user_key)
  python3 secrets_check.py kept PATH DIR      PATH's value in DIR as a quoted HOCON string, unless unset or public
  python3 secrets_check.py users FILE         the fixed users of an apiserver.conf, one a line: username and name
                                              as quoted HOCON strings, base64 of the password, the plain username
  python3 secrets_check.py hashed FILE        print "true" when that apiserver.conf sets pass_hashed

Runs inside the clearml/server image (which ships python3 and pyhocon) as the one-shot secrets-check service, and
on the host (pip install pyhocon).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from pathlib import Path

try:
    from pyhocon import ConfigFactory, ConfigTree
except ImportError:  # pragma: no cover - the message is the behaviour
    sys.stderr.write("secrets-check: python3 cannot import pyhocon: install it (pip install pyhocon) or run the check "
                     "inside the clearml/server image (docker compose run --rm secrets-check)\n")
    sys.exit(2)

# sha256 of every value ClearML has shipped in apiserver/config/default/secure.conf and
# fileserver/config/default/secure.conf (public, hence useless as secrets). Sources per release line in
# docs/compose-facts.md ("Public default secrets"). Only digests are kept, so no public secret is copied here.
PUBLIC_DEFAULT_DIGESTS = {
    # trains-server and clearml-server up to 1.15 (server/config/default, then apiserver/config/default)
    "f925bc83644659535cbbbc4d872e9adb0da23b2a83c815c85bff52ebb2c96fcc": "http.session_secret.apiserver",
    "c8102eba105010b19cac3ca2872357e39c445b383ee4bb1e68879053541c706f": "auth.token_secret",
    "243dc384849c2f27b1e4edd40a2e5f54e107c0cdd35f75e0189db26cc47a84b6": "credentials.apiserver.user_key",
    "0941f706432520ed8cc56666fe011450e6fb0c1d06174fc139658ebfce1cda6f": "credentials.apiserver.user_secret",
    "5b5bdac1a0d4cf22022368baa10c1bac2818e80074b149cafbba2be8f8b312b9": "credentials.webserver.user_key",
    "9ef7fe0e43b259b5519ed459bfaf9ac0a8a3fdce9f3b6dfbd01663a644d139bc": "credentials.webserver.user_secret",
    "397d5a1d9bc2b9202cc9c88fe409e9a86e4225e16596e6d8d19bf28d246515c4": "credentials.tests.user_key",
    "4dd30d95c3c0e75a39b13a9bf46c157e59bb744183c7f92ffc2b752d0897df26": "credentials.tests.user_secret",
    # the services agent's keys, added before 1.16
    "14e26ad793f673ee0343b510feab8acc3a9bd46451878b1f5c0c2b8ff2f5ad26": "credentials.services_agent.user_key",
    "88c50f566f3ec5948adc128a6d9cff6f974bc542331383a53364e9480b328414": "credentials.services_agent.user_secret",
    # 1.16 (fileserver token auth) through 2.3: new secrets, a fileserver identity
    "98098dd7eb042c94fbd83e1e3979a9cb3aef3e23a0d94679c0ac3118759bebea": "http.session_secret.apiserver",
    "b6bcb89784ec109857797236fae867027664aa0ae51f5b086ebcfc9409217930": "auth.token_secret",
    "e734a805d77c509f1e3db0e8a0c2d7f87d112d6c9ec505fd2b0a27b29b267e1b": "credentials.apiserver.user_secret",
    "984d287f13525ae89ed2a886fca2580b250bef0a25017f5bdd44ac8bcb7c852b": "credentials.fileserver.user_key",
    "12a64aebc6b32ca86da4e1d346917f43256340530f49940cf863636bd51f723a": "credentials.fileserver.user_secret",
    "a1e4036636b52f2c4b0f7fca7d1af9086efe56dd47dc20ffca867cf3c7378a2f": "credentials.webserver.user_secret",
    "a74d3a70c5fc7540d112701cbd9ec9c5dd5386a538fc61f4821463f87283fd54": "credentials.services_agent.user_secret",
    "de7c1fce12119657e43f4b95961403f8a01c117c18f7d7cb662d2969b9bb4e01": "credentials.tests.user_secret",
}

# Settings that must be present (an absent one falls back to the public default), with a minimum length.
REQUIRED = {
    "http.session_secret.apiserver": 40,
    "auth.token_secret": 40,
    **{f"credentials.{name}.user_key": 20 for name in ("apiserver", "fileserver", "webserver", "tests",
                                                       "services_agent")},
    **{f"credentials.{name}.user_secret": 40 for name in ("apiserver", "fileserver", "webserver", "tests",
                                                          "services_agent")},
}

# Written by `init.sh --migrate-from`: the fixed users of the old installation, one name a line. ClearML deletes,
# at start, every auto-created user missing from the config, with the API keys people made in the UI.
REQUIRED_USERS_FILE = "fixed-users.required"


class ConfigError(Exception):
    pass


def parse_file(path: Path) -> ConfigTree:
    try:
        return ConfigFactory.parse_file(str(path))
    except Exception as ex:  # pyparsing and pyhocon errors: name the file, never the content
        raise ConfigError(f"{path} cannot be parsed as HOCON ({ex.__class__.__name__}: "
                          f"{getattr(ex, 'msg', '') or 'syntax'} at line {getattr(ex, 'lineno', '?')})") from None


def load(directory: Path, environ: dict[str, str] | None = None) -> ConfigTree:
    """The merged configuration ClearML would build from `directory` and the environment."""
    environ = os.environ if environ is None else environ
    merged = ConfigTree()
    for file in sorted(directory.rglob("*.conf")):
        key = ".".join(file.relative_to(directory).with_suffix("").parts)
        tree = ConfigTree()
        tree.put(key, parse_file(file))
        merged = ConfigTree.merge_configs(merged, tree, copy_trees=True)
    for prefix in ("TRAINS__", "CLEARML__"):
        for name in sorted(k for k in environ if k.startswith(prefix)):
            path = name[len(prefix):].replace("__", ".").lower()
            try:
                extra = ConfigFactory.parse_string(f"{path}: {environ[name]}")
            except Exception:
                raise ConfigError(f"environment variable {name} is not a HOCON value") from None
            merged = ConfigTree.merge_configs(merged, extra, copy_trees=True)
    return merged


def value(tree: ConfigTree, path: str):
    try:
        return tree.get(path, None)
    except Exception:
        return None


def fixed_users(apiserver: ConfigTree) -> list[dict]:
    users = value(apiserver, "auth.fixed_users.users") or []
    out = []
    for user in users:
        if isinstance(user, ConfigTree):
            out.append({k: user.get(k) for k in user.keys()})
    return out


def check(directory: Path) -> list[str]:
    problems: list[str] = []
    if not (directory / "secure.conf").is_file():
        return [f"{directory / 'secure.conf'} is missing: run ./init.sh in compose/ first (ClearML would use its "
                "public default secrets)"]
    config = load(directory)
    secure = value(config, "secure") or ConfigTree()
    for path, minimum in REQUIRED.items():
        v = value(secure, path)
        if v is None or str(v) == "":
            problems.append(f"{path} is not set in secure.conf (ClearML would fall back to a public or empty "
                            "default; a ${?VAR} whose variable is unset counts as not set)")
        elif len(str(v)) < minimum:
            problems.append(f"{path} is shorter than {minimum} characters")

    def walk(node, prefix: str) -> None:
        if isinstance(node, ConfigTree):
            for key in node.keys():
                walk(node.get(key), f"{prefix}.{key}" if prefix else key)
        elif isinstance(node, (str, int, float)) and str(node):
            digest = hashlib.sha256(str(node).encode()).hexdigest()
            if digest in PUBLIC_DEFAULT_DIGESTS:
                problems.append(f"{prefix} is ClearML's public default value "
                                f"(published as {PUBLIC_DEFAULT_DIGESTS[digest]}); run ./init.sh or set a new "
                                "random value")

    walk(secure, "")

    apiserver = value(config, "apiserver")
    if not (directory / "apiserver.conf").is_file() or apiserver is None:
        problems.append(f"{directory / 'apiserver.conf'} is missing: run ./init.sh (it creates the fixed users)")
    else:
        if value(apiserver, "auth.fixed_users.enabled") is not True:
            problems.append("apiserver.conf does not enable auth.fixed_users (ClearML would allow anonymous use)")
        elif value(apiserver, "auth.fixed_users.pass_hashed") is not True:
            sys.stderr.write("secrets-check: warning: fixed users' passwords are stored in clear "
                             "(pass_hashed is not true)\n")
        required_file = directory / REQUIRED_USERS_FILE
        if required_file.is_file():
            names = {u.get("username") for u in fixed_users(apiserver)}
            keeps = value(apiserver, "auth.delete_missing_autocreated_users") is False
            for line in required_file.read_text().splitlines():
                name = line.strip()
                if name and not name.startswith("#") and name not in names and not keeps:
                    problems.append(f"fixed user {name!r} of the migrated installation is missing from "
                                    "apiserver.conf: ClearML would delete that user and every API key it made at "
                                    f"start; put it back, or remove it from {REQUIRED_USERS_FILE} on purpose")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "get":
        if len(argv) not in (2, 3):
            sys.stderr.write("usage: secrets_check.py get PATH [CONFIG_DIR]\n")
            return 2
        directory = Path(argv[2] if len(argv) == 3 else "/opt/clearml/config")
        try:
            v = value(load(directory), "secure." + argv[1])
        except ConfigError as ex:
            sys.stderr.write(f"secrets-check: {ex}\n")
            return 1
        if v is not None:
            print(v)
        return 0
    if len(argv) == 3 and argv[0] == "kept":
        # The old installation's config, read without this host's environment (it was not the apiserver's).
        try:
            v = value(load(Path(argv[2]), environ={}), "secure." + argv[1])
        except ConfigError as ex:
            sys.stderr.write(f"secrets-check: {ex}\n")
            return 1
        if v is not None and str(v) and hashlib.sha256(str(v).encode()).hexdigest() not in PUBLIC_DEFAULT_DIGESTS:
            print(json.dumps(str(v)))
        return 0
    if len(argv) == 2 and argv[0] in ("users", "hashed"):
        try:
            tree = parse_file(Path(argv[1]))
        except ConfigError as ex:
            sys.stderr.write(f"secrets-check: {ex}\n")
            return 1
        # Both the file's own layout (auth {...}) and a whole-config one (apiserver.auth {...}) are read.
        root = value(tree, "apiserver") if value(tree, "apiserver.auth") is not None else tree
        if argv[0] == "hashed":
            print("true" if value(root, "auth.fixed_users.pass_hashed") is True else "false")
            return 0
        for user in fixed_users(root):
            username = str(user.get("username", ""))
            if not username or any(c in username for c in "\t\n"):
                sys.stderr.write("secrets-check: skipped a fixed user without a usable username\n")
                continue
            password = base64.b64encode(str(user.get("password", "")).encode()).decode()
            print("\t".join([json.dumps(username), json.dumps(str(user.get("name") or username)), password,
                             username]))
        return 0
    if argv and argv[0] == "check":
        argv = argv[1:]
    directory = Path(argv[0] if argv else "/opt/clearml/config")
    try:
        problems = check(directory)
    except ConfigError as ex:
        problems = [str(ex)]
    if problems:
        for problem in problems:
            sys.stderr.write(f"secrets-check: {problem}\n")
        sys.stderr.write("secrets-check: refusing to start ClearML with these secrets\n")
        return 1
    print("secrets-check: secure.conf sets every ClearML secret to a non-default value; fixed users are on")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
