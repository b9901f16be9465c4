#!/bin/sh
# One-time setup of the ClearML compose stack: strong secrets, the fixed users, the pinned images and .env.
#
#   ./init.sh [--domain clearml.example.com] [--tls] [--agents] [--server-image IMAGE] [--agent-image IMAGE]
#             [--http-port N] [--https-port N] [--migrate-from /opt/clearml/config [--old-files-url URL]]
#             [--no-pull]
#
# Writes, and never overwrites (delete a file to have it written again):
#   config/secure.conf                   ClearML's secrets: token and session secrets, the system credentials of
#                                        apiserver/fileserver/webserver/tests and the services agent's keys
#   config/apiserver.conf                fixed users "admin" and "clearml-probe", bcrypt-hashed (pass_hashed)
#   secrets/clearml_probe_secret_key     the probe's password (a Docker secret of the clearml-probe service)
#   secrets/clearml_probe_http_token     the token the sidecar's HTTP API (silences) requires
#   .env                                 from .env.example: domain, scheme, ports, CPU limits, pinned images, keys
# The admin password is printed once, here, and stored nowhere in clear ("admin" is an ordinary ClearML user:
# fixed users have no roles; it is only the first login).
#
# --migrate-from DIR (the old installation's /opt/clearml/config): keeps its secrets that are not ClearML's public
# defaults (sessions and tokens stay valid), imports every fixed user of its apiserver.conf (hashing clear-text
# passwords), lists them in config/fixed-users.required (the secrets-check gate refuses to start when one goes
# missing: ClearML would delete that user and its API keys) and turns off ClearML's deletion of users missing from
# the config. It also starts Redis without AOF once, so the old dump.rdb is loaded (README "Moving").
#
# Every run also checks what Docker itself would refuse or get wrong: CPU limits above this host's CPUs (Compose
# creates every container before starting any, so one refused limit fails the whole `up`), a ClearML server image
# older than 2.3 with MongoDB 7, and ports that disagree with the public URLs.
#
# bcrypt comes from the first of: python3 with the bcrypt module, htpasswd -B (apache2-utils), mkpasswd -m bcrypt
# (whois), python3's crypt module (glibc/libxcrypt), or python3 inside the ClearML server image (docker).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

domain=""
tls=0
agents=0
server_image=""
agent_image=""
pull=1
migrate_from=""
old_files_url=""
http_port=""
https_port=""

usage() {
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --domain) domain=${2:?--domain needs a value}; shift 2 ;;
    --domain=*) domain=${1#*=}; shift ;;
    --tls) tls=1; shift ;;
    --agents) agents=1; shift ;;
    --server-image) server_image=${2:?--server-image needs a value}; shift 2 ;;
    --server-image=*) server_image=${1#*=}; shift ;;
    --agent-image) agent_image=${2:?--agent-image needs a value}; shift 2 ;;
    --agent-image=*) agent_image=${1#*=}; shift ;;
    --no-pull) pull=0; shift ;;
    --migrate-from) migrate_from=${2:?--migrate-from needs a directory}; shift 2 ;;
    --migrate-from=*) migrate_from=${1#*=}; shift ;;
    --old-files-url) old_files_url=${2:?--old-files-url needs a URL}; shift 2 ;;
    --old-files-url=*) old_files_url=${1#*=}; shift ;;
    --http-port) http_port=${2:?--http-port needs a value}; shift 2 ;;
    --http-port=*) http_port=${1#*=}; shift ;;
    --https-port) https_port=${2:?--https-port needs a value}; shift 2 ;;
    --https-port=*) https_port=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "init.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

umask 077

say() { printf '%s\n' "$*"; }
die() { printf 'init.sh: %s\n' "$*" >&2; exit 1; }

# random N [alphabet]: N characters from /dev/urandom (alphanumeric: safe inside HOCON, .env and shell).
random() {
  LC_ALL=C tr -dc "${2:-A-Za-z0-9}" </dev/urandom | dd bs=1 count="$1" 2>/dev/null
}

b64() { base64 | tr -d '\n'; }

# The literal "$2..." strings below are bcrypt prefixes, not shell expansions.
# shellcheck disable=SC2016
# bcrypt_b64 IMAGE: reads a password on stdin, prints base64(bcrypt hash), the form ClearML's pass_hashed takes.
bcrypt_b64() {
  pw=$(cat)
  hash=""
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import bcrypt' 2>/dev/null; then
    hash=$(printf '%s' "$pw" | python3 -c 'import bcrypt, sys; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(12)).decode())')
  elif command -v htpasswd >/dev/null 2>&1; then
    hash=$(printf '%s\n' "$pw" | htpasswd -niB -C 12 user | cut -d: -f2-)
  elif command -v mkpasswd >/dev/null 2>&1 && mkpasswd -m help 2>/dev/null | grep -q bcrypt; then
    hash=$(printf '%s\n' "$pw" | mkpasswd -m bcrypt -R 12 -s)
  elif command -v python3 >/dev/null 2>&1 && python3 -W ignore -c 'import crypt, sys; sys.exit(0 if crypt.crypt("x", crypt.mksalt(crypt.METHOD_BLOWFISH)).startswith("$2") else 1)' 2>/dev/null; then
    hash=$(printf '%s' "$pw" | python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=4096)))')
  elif [ -n "${1:-}" ] && command -v docker >/dev/null 2>&1; then
    hash=$(printf '%s' "$pw" | docker run --rm -i --network none --entrypoint python3 "$1" -c 'import bcrypt, sys; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(12)).decode())')
  fi
  case "$hash" in
    '$2'[aby]'$'*) ;;
    *) die "no bcrypt implementation found: install python3-bcrypt or apache2-utils (htpasswd), or run with docker" ;;
  esac
  # $2y$ (htpasswd) and $2b$ are the same algorithm; Python's bcrypt, which ClearML uses, expects $2b$.
  printf '%s' "$hash" | sed 's/^\$2y\$/$2b$/' | b64
}

# pin REF: pull REF and print it as repo@sha256:digest, or nothing when docker is not usable here.
pin() {
  [ "$pull" -eq 1 ] || return 0
  command -v docker >/dev/null 2>&1 || return 0
  docker pull -q "$1" >/dev/null 2>&1 || return 0
  docker image inspect --format '{{index .RepoDigests 0}}' "$1" 2>/dev/null || true
}

# hocon ARGS...: secrets_check.py (pyhocon) on the host's python3, or inside the ClearML server image.
hocon() {
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import pyhocon' 2>/dev/null; then
    python3 "$here/secrets_check.py" "$@"
  elif [ -n "${hocon_image:-}" ] && command -v docker >/dev/null 2>&1; then
    if [ -n "$migrate_from" ]; then
      docker run --rm -i --network none --entrypoint python3 -v "$here:$here:ro" -v "$migrate_from:$migrate_from:ro" \
        -w "$here" "$hocon_image" "$here/secrets_check.py" "$@"
    else
      docker run --rm -i --network none --entrypoint python3 -v "$here:$here:ro" -w "$here" "$hocon_image" \
        "$here/secrets_check.py" "$@"
    fi
  else
    die "reading ClearML's HOCON needs python3 with pyhocon (pip install pyhocon), or docker and --server-image"
  fi
}

# env_value KEY: the value of KEY in .env (empty when absent).
env_value() { sed -n "s/^$1=//p" .env 2>/dev/null | tail -n 1; }

# set_env KEY VALUE: sets KEY in .env.new (replacing a KEY= or #KEY= line, else appending).
set_env() {
  if grep -q "^#\{0,1\}$1=" .env.new; then
    sed "s|^#\{0,1\}$1=.*|$1=$2|" .env.new >.env.tmp && mv .env.tmp .env.new
  else
    printf '%s=%s\n' "$1" "$2" >>.env.new
  fi
}

mkdir -p config secrets certs
chmod 700 secrets
hocon_image=$server_image
[ -n "$hocon_image" ] || hocon_image=$(env_value CLEARML_SERVER_IMAGE)

if [ -n "$old_files_url" ] && [ -z "$migrate_from" ]; then
  die "--old-files-url goes with --migrate-from"
fi
if [ -n "$migrate_from" ]; then
  [ -d "$migrate_from" ] || die "--migrate-from $migrate_from is not a directory (the old /opt/clearml/config)"
  migrate_from=$(cd "$migrate_from" && pwd)
fi

# keep PATH DEFAULT: PATH's value in the old installation's config as a HOCON string, unless it is unset or one of
# ClearML's public defaults; otherwise DEFAULT, quoted.
keep() {
  if [ -n "$migrate_from" ]; then
    kept=$(hocon kept "$1" "$migrate_from") || die "cannot read $migrate_from"
    if [ -n "$kept" ]; then printf '%s' "$kept"; return; fi
  fi
  printf '"%s"' "$2"
}

# 1. secure.conf
if [ -e config/secure.conf ]; then
  say "kept     config/secure.conf"
else
  cat >config/secure.conf.new <<EOF
# ClearML secrets, generated by compose/init.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Mounted read-only at
# /opt/clearml/config into apiserver, fileserver and async_delete, so all three share one set of values.
# Keep this file private; back it up with the volumes (tokens and stored credentials depend on it).
http {
  session_secret {
    apiserver: $(keep http.session_secret.apiserver "$(random 56)")
  }
}
auth {
  token_secret: $(keep auth.token_secret "$(random 56)")
}
credentials {
  apiserver {
    role: "system"
    user_key: $(keep credentials.apiserver.user_key "$(random 30 A-Z0-9)")
    user_secret: $(keep credentials.apiserver.user_secret "$(random 56)")
  }
  fileserver {
    role: "system"
    user_key: $(keep credentials.fileserver.user_key "$(random 30 A-Z0-9)")
    user_secret: $(keep credentials.fileserver.user_secret "$(random 56)")
  }
  webserver {
    role: "system"
    user_key: $(keep credentials.webserver.user_key "$(random 30 A-Z0-9)")
    user_secret: $(keep credentials.webserver.user_secret "$(random 56)")
    revoke_in_fixed_mode: true
  }
  tests {
    role: "user"
    display_name: "Default User"
    user_key: $(keep credentials.tests.user_key "$(random 30 A-Z0-9)")
    user_secret: $(keep credentials.tests.user_secret "$(random 56)")
    revoke_in_fixed_mode: true
  }
  services_agent {
    role: "admin"
    user_key: $(keep credentials.services_agent.user_key "$(random 30 A-Z0-9)")
    user_secret: $(keep credentials.services_agent.user_secret "$(random 56)")
  }
}
EOF
  mv config/secure.conf.new config/secure.conf
  if [ -n "$migrate_from" ]; then
    say "wrote    config/secure.conf (kept the old installation's own secrets, replaced its public defaults)"
  else
    say "wrote    config/secure.conf"
  fi
fi

# 2. .env (the agent's keys are read back from secure.conf, so the two always agree)
if [ -e .env ]; then
  say "kept     .env"
  if [ -n "$domain$server_image$agent_image$http_port$https_port" ] || [ "$tls" -eq 1 ]; then
    say "         (.env exists: --domain/--tls/--*-image/--*-port were not applied; edit .env instead)"
  fi
else
  [ -r .env.example ] || die ".env.example is missing"
  cp .env.example .env.new
  set_env CLEARML_DOMAIN "${domain:-clearml.localhost}"
  http_port=${http_port:-80}
  https_port=${https_port:-443}
  set_env CLEARML_HTTP_PORT "$http_port"
  set_env CLEARML_HTTPS_PORT "$https_port"
  if [ "$tls" -eq 1 ]; then
    set_env CLEARML_SCHEME https
    set_env CLEARML_COOKIE_SECURE true
    set_env CLEARML_INGRESS_CONNECT_TO "nginx:$https_port"
    [ "$https_port" = 443 ] || set_env CLEARML_PUBLIC_PORT_SUFFIX ":$https_port"
  else
    set_env CLEARML_INGRESS_CONNECT_TO "nginx:$http_port"
    [ "$http_port" = 80 ] || set_env CLEARML_PUBLIC_PORT_SUFFIX ":$http_port"
  fi
  # CPU limits: the defaults fit one CPU; bigger hosts give the apiserver and Elasticsearch two.
  cpus=$(nproc 2>/dev/null || echo 1)
  if [ "$cpus" -ge 4 ]; then
    set_env CLEARML_APISERVER_CPUS 2.0
    set_env CLEARML_ELASTIC_CPUS 2.0
  fi
  if [ -n "$migrate_from" ]; then
    # Redis with AOF on ignores the migrated dump.rdb; load it once without AOF (README "Moving").
    set_env CLEARML_REDIS_APPENDONLY no
    # Old links (http://<host>:8081/...) stored in tasks, models and debug images keep working (README "Moving").
    set_env CLEARML_LEGACY_FILES_BIND 0.0.0.0
    if [ -n "$old_files_url" ]; then
      # Server-side deletes also match files stored under the old URL (a HOCON list item: quoted, no quotes inside).
      case "$old_files_url" in
        http://*|https://*) ;;
        *) die "--old-files-url $old_files_url: give the old files URL as stored, e.g. http://clearml.example.com:8081" ;;
      esac
      case "$old_files_url" in
        *\"*|*\\*|*" "*|*,*|*"|"*|*"&"*|*"#"*) die "--old-files-url: a URL without quotes, backslashes, spaces, commas, | & or #" ;;
      esac
      set_env CLEARML_ASYNC_DELETE_EXTRA_PREFIXES ", \"${old_files_url%/}\""
    fi
  fi
  if [ -z "$server_image" ]; then
    server_image=$(pin clearml/server:latest)
    [ -n "$server_image" ] && say "pinned   clearml/server:latest as $server_image"
  fi
  [ -n "$server_image" ] && set_env CLEARML_SERVER_IMAGE "$server_image"
  hocon_image=$server_image
  if [ -z "$agent_image" ] && [ "$agents" -eq 1 ]; then
    agent_image=$(pin clearml/clearml-agent-services:latest)
    [ -n "$agent_image" ] && say "pinned   clearml/clearml-agent-services:latest as $agent_image"
  fi
  [ -n "$agent_image" ] && set_env CLEARML_AGENT_SERVICES_IMAGE "$agent_image"
  set_env CLEARML_AGENT_ACCESS_KEY "$(hocon get credentials.services_agent.user_key config)"
  set_env CLEARML_AGENT_SECRET_KEY "$(hocon get credentials.services_agent.user_secret config)"
  mv .env.new .env
  say "wrote    .env"
  grep -q '^CLEARML_SERVER_IMAGE=.' .env ||
    say "NOTE     set CLEARML_SERVER_IMAGE in .env (a pinned clearml/server tag or digest; README \"Images\")"
fi

# 3. fixed users and the probe's password
if [ -e config/apiserver.conf ]; then
  say "kept     config/apiserver.conf"
  [ -e secrets/clearml_probe_secret_key ] ||
    die "secrets/clearml_probe_secret_key is missing but config/apiserver.conf exists: restore it from a backup, or move config/apiserver.conf away and run ./init.sh again (new passwords)"
else
  image=$(env_value CLEARML_SERVER_IMAGE)
  probe_password=$(random 48)
  probe_hash=$(printf '%s' "$probe_password" | bcrypt_b64 "$image")
  users=""
  imported=""
  tab=$(printf '\t')
  if [ -n "$migrate_from" ] && [ -r "$migrate_from/apiserver.conf" ]; then
    old_hashed=$(hocon hashed "$migrate_from/apiserver.conf") || die "cannot parse $migrate_from/apiserver.conf"
    hocon users "$migrate_from/apiserver.conf" >config/.users.tmp || die "cannot parse $migrate_from/apiserver.conf"
    while IFS="$tab" read -r name_json display_json password_b64 plain_name; do
      [ -n "$plain_name" ] || continue
      [ "$plain_name" != "clearml-probe" ] || continue
      password=$(printf '%s' "$password_b64" | base64 -d)
      if [ "$old_hashed" = true ]; then
        hash=$password
      else
        hash=$(printf '%s' "$password" | bcrypt_b64 "$image")
      fi
      users="$users      { username: $name_json, password: \"$hash\", name: $display_json }
"
      imported="$imported$plain_name
"
    done <config/.users.tmp
    rm -f config/.users.tmp
  fi
  admin_password=""
  if ! printf '%s' "$imported" | grep -qx admin; then
    admin_password=$(random 24)
    admin_hash=$(printf '%s' "$admin_password" | bcrypt_b64 "$image")
    users="      { username: \"admin\", password: \"$admin_hash\", name: \"Administrator\" }
$users"
  fi
  users="$users      { username: \"clearml-probe\", password: \"$probe_hash\", name: \"clearml-probe (health probe)\" }
"
  keep_users=""
  if [ -n "$migrate_from" ]; then
    keep_users='  # Migrated installation: ClearML must never delete users missing from this file (with their API keys).
  delete_missing_autocreated_users: false
'
  fi
  {
    cat <<EOF
# ClearML apiserver settings, generated by compose/init.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ).
# Fixed users: the UI's logins and the API identities (username = access key, password = secret key).
# Passwords are base64-encoded bcrypt hashes (pass_hashed). Add users the same way (README "Users").
# Fixed users have no roles: "admin" is an ordinary user, named for being the first login.
auth {
EOF
    printf '%s' "$keep_users"
    cat <<EOF
  fixed_users {
    enabled: true
    pass_hashed: true
    users: [
$users    ]
  }
}
EOF
  } >config/apiserver.conf.new
  if [ -n "$imported" ]; then
    {
      echo "# Fixed users of the migrated installation ($migrate_from/apiserver.conf). secrets-check refuses to start"
      echo "# ClearML while one of them is missing from apiserver.conf. Remove a name only to delete that user."
      printf '%s' "$imported"
    } >config/fixed-users.required
    say "imported $(printf '%s' "$imported" | grep -c .) fixed user(s) from $migrate_from/apiserver.conf (listed in config/fixed-users.required)"
  fi
  printf '%s' "$probe_password" >secrets/clearml_probe_secret_key.new
  # Readable by the sidecar's non-root user inside the container; secrets/ (0700) keeps it private on the host.
  chmod 644 secrets/clearml_probe_secret_key.new
  mv secrets/clearml_probe_secret_key.new secrets/clearml_probe_secret_key
  mv config/apiserver.conf.new config/apiserver.conf
  say "wrote    config/apiserver.conf (users: $(grep -o 'username: "[^"]*"' config/apiserver.conf | sed 's/username: //; s/"//g' | tr '\n' ' ' | sed 's/ $//'))"
  say "wrote    secrets/clearml_probe_secret_key"
  if [ -n "$admin_password" ]; then
    say ""
    say "  ClearML web login:  admin / $admin_password"
    say "  (shown once: store it in your password manager now)"
    say ""
  fi
fi

# 4. the sidecar's HTTP token (its silence API refuses changes without it)
if [ -e secrets/clearml_probe_http_token ]; then
  say "kept     secrets/clearml_probe_http_token"
else
  random 48 >secrets/clearml_probe_http_token.new
  # Readable by the sidecar's non-root user inside the container, like the probe's password.
  chmod 644 secrets/clearml_probe_http_token.new
  mv secrets/clearml_probe_http_token.new secrets/clearml_probe_http_token
  say "wrote    secrets/clearml_probe_http_token"
fi

chmod 600 config/secure.conf config/apiserver.conf .env

# 5. What Docker decides at `up`, checked now.
problems=0
cpus=$(nproc 2>/dev/null || echo 1)
for key in CLEARML_APISERVER_CPUS CLEARML_ELASTIC_CPUS; do
  limit=$(env_value "$key")
  [ -n "$limit" ] || continue
  if awk -v l="$limit" -v c="$cpus" 'BEGIN { exit !(l + 0 > c + 0 || l + 0 <= 0) }'; then
    say "ERROR    $key=$limit in .env, but this host has $cpus CPU(s): Docker refuses a container whose CPU limit exceeds the host's, and Compose creates every container before starting any, so the whole 'docker compose up' would fail. Set it to at most $cpus."
    problems=1
  fi
done
image=$(env_value CLEARML_SERVER_IMAGE)
mongo=$(env_value CLEARML_MONGO_IMAGE)
case "$image" in
  *:1.*|*:2.0.*|*:2.1.*|*:2.2.*)
    case "${mongo:-mongo:7.0.22}" in
      *:7.*|*:8.*)
        say "ERROR    CLEARML_SERVER_IMAGE=$image expects MongoDB 6.0, the stack runs ${mongo:-mongo:7.0.22}: set CLEARML_MONGO_IMAGE=mongo:6.0.19 in .env, or use a ClearML 2.3+ image (README \"Images\")"
        problems=1 ;;
    esac ;;
esac
scheme=$(env_value CLEARML_SCHEME)
suffix=$(env_value CLEARML_PUBLIC_PORT_SUFFIX)
if [ "${scheme:-http}" = https ]; then
  port=$(env_value CLEARML_HTTPS_PORT); default=443
else
  port=$(env_value CLEARML_HTTP_PORT); default=80
fi
port=${port:-$default}
if [ "$port" = "$default" ]; then want=""; else want=":$port"; fi
if [ "$suffix" != "$want" ]; then
  say "ERROR    the ingress is published on port $port but CLEARML_PUBLIC_PORT_SUFFIX='$suffix' in .env: set CLEARML_PUBLIC_PORT_SUFFIX=$want (the public URLs and the async-delete prefix must carry the port)"
  problems=1
fi
if [ "$(env_value COMPOSE_PROJECT_NAME)" = clearml ]; then
  official=${CLEARML_OFFICIAL_COMPOSE_FILE:-/opt/clearml/docker-compose.yml}
  if [ -n "$migrate_from" ] || [ -e "$official" ]; then
    say "ERROR    COMPOSE_PROJECT_NAME=clearml is the project name of ClearML's own compose file ($official): the two stacks would share containers and volumes. Use another name (README \"Backup\")."
    problems=1
  else
    # An existing stack of this repository's older versions: its volumes are clearml_*; renaming would hide them.
    say "NOTE     COMPOSE_PROJECT_NAME=clearml is also the project name of ClearML's own compose file: never run that one on this host (README \"Backup\")."
  fi
fi
[ "$problems" -eq 0 ] || die "fix the errors above in .env, then run ./init.sh again"

sh ./secrets-check.sh config >/dev/null
say "next     docker compose up -d      (first: sysctl vm.max_map_count=262144, README \"First start\")"
say "WARNING  'docker compose down -v' deletes every volume, that is all of ClearML's data; stop with 'docker compose down'."
