#!/bin/sh
# Refuses to let the ClearML stack start with ClearML's public default secrets, or without init.sh's secure.conf.
#
# Runs as the one-shot "secrets-check" service (inside the clearml/server image: POSIX sh, awk, sha256sum) before
# apiserver, fileserver and async_delete, and works the same on the host:  sh secrets-check.sh compose/config
#
# Checks <config dir>/secure.conf, the file ClearML merges over its shipped defaults: every secret ClearML ships a
# public default for must be set there (an absent key falls back to the public default), long enough, and not one of
# the published values. The published values are listed only as SHA-256 digests, so no public secret is copied here.
# Also <config dir>/apiserver.conf must enable fixed users (init.sh's admin and clearml-probe): without them ClearML
# runs in its no-login mode.
# Exit 0 when the configuration is safe, 1 with one line per problem otherwise.
# `secrets-check.sh --get PATH DIR` prints one value instead (for init.sh).
set -eu

get=
if [ "${1:-}" = "--get" ]; then
  # --get PATH DIR: print one value of DIR/secure.conf (init.sh uses it to keep .env in step with secure.conf).
  get=${2:?usage: secrets-check.sh --get PATH [CONFIG_DIR]}
  shift 2
fi
dir=${1:-/opt/clearml/config}
secure="$dir/secure.conf"

# sha256 of the values in clearml-server apiserver/config/default/secure.conf (published, hence public).
PUBLIC_DEFAULT_DIGESTS='
f925bc83644659535cbbbc4d872e9adb0da23b2a83c815c85bff52ebb2c96fcc http.session_secret.apiserver
c8102eba105010b19cac3ca2872357e39c445b383ee4bb1e68879053541c706f auth.token_secret
243dc384849c2f27b1e4edd40a2e5f54e107c0cdd35f75e0189db26cc47a84b6 credentials.apiserver.user_key
0941f706432520ed8cc56666fe011450e6fb0c1d06174fc139658ebfce1cda6f credentials.apiserver.user_secret
5b5bdac1a0d4cf22022368baa10c1bac2818e80074b149cafbba2be8f8b312b9 credentials.webserver.user_key
9ef7fe0e43b259b5519ed459bfaf9ac0a8a3fdce9f3b6dfbd01663a644d139bc credentials.webserver.user_secret
397d5a1d9bc2b9202cc9c88fe409e9a86e4225e16596e6d8d19bf28d246515c4 credentials.tests.user_key
4dd30d95c3c0e75a39b13a9bf46c157e59bb744183c7f92ffc2b752d0897df26 credentials.tests.user_secret
'

# Settings that must be present, with the minimum length of their value.
REQUIRED='
http.session_secret.apiserver 40
auth.token_secret 40
credentials.apiserver.user_key 20
credentials.apiserver.user_secret 40
credentials.fileserver.user_key 20
credentials.fileserver.user_secret 40
credentials.webserver.user_key 20
credentials.webserver.user_secret 40
credentials.tests.user_key 20
credentials.tests.user_secret 40
credentials.services_agent.user_key 20
credentials.services_agent.user_secret 40
'

fail=0
if [ ! -r "$secure" ]; then
  echo "secrets-check: $secure is missing: run ./init.sh in compose/ first (ClearML would use its public default secrets)" >&2
  exit 1
fi

# Flatten the HOCON subset init.sh writes ('name {' ... '}' blocks, also 'name: {'; 'key: "value"' lines) to
# 'path<TAB>value' lines.
flatten() {
  awk '
    { sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "") }
    /^#/ || /^\/\// || $0 == "" { next }
    /^[A-Za-z0-9_.-]+[ \t]*[:=]?[ \t]*\{$/ {
      name = $0; sub(/[ \t]*[:=]?[ \t]*\{$/, "", name); stack[++depth] = name; next
    }
    /^\}$/ { if (depth > 0) depth--; next }
    /^[A-Za-z0-9_.-]+[ \t]*[:=][ \t]*/ {
      key = $0; sub(/[ \t]*[:=].*$/, "", key)
      value = $0; sub(/^[A-Za-z0-9_.-]+[ \t]*[:=][ \t]*/, "", value)
      if (value ~ /^".*"$/) value = substr(value, 2, length(value) - 2)
      path = ""
      for (i = 1; i <= depth; i++) path = path stack[i] "."
      printf "%s%s\t%s\n", path, key, value
    }
  ' "$1"
}
flat=$(flatten "$secure")

value_of() {
  printf '%s\n' "$flat" | awk -F '\t' -v want="$1" '$1 == want { v = $2 } END { if (v != "") print v }'
}

if [ -n "$get" ]; then
  value_of "$get"
  exit 0
fi

echo "$REQUIRED" | while read -r path min; do
  [ -n "$path" ] || continue
  value=$(value_of "$path")
  if [ -z "$value" ]; then
    echo "secrets-check: $path is not set in secure.conf (ClearML would fall back to a public or empty default)" >&2
    echo fail
  elif [ "${#value}" -lt "$min" ]; then
    echo "secrets-check: $path is shorter than $min characters" >&2
    echo fail
  fi
done | grep -q fail && fail=1

# Any value in secure.conf equal to a published default, wherever it sits.
printf '%s\n' "$flat" | while IFS="$(printf '\t')" read -r path value; do
  [ -n "$value" ] || continue
  digest=$(printf '%s' "$value" | sha256sum | cut -d ' ' -f 1)
  if echo "$PUBLIC_DEFAULT_DIGESTS" | grep -q "^$digest "; then
    echo "secrets-check: $path is ClearML's public default value; run ./init.sh (or set a new random value)" >&2
    echo fail
  fi
done | grep -q fail && fail=1

# Without fixed users ClearML falls back to its no-login mode; init.sh's users are in apiserver.conf.
apiserver_conf="$dir/apiserver.conf"
if [ ! -r "$apiserver_conf" ]; then
  echo "secrets-check: $apiserver_conf is missing: run ./init.sh (it creates the fixed users)" >&2
  fail=1
else
  users=$(flatten "$apiserver_conf")
  if ! printf '%s\n' "$users" | grep -q "^auth\.fixed_users\.enabled$(printf '\t')true$"; then
    echo "secrets-check: apiserver.conf does not enable auth.fixed_users (ClearML would allow anonymous use)" >&2
    fail=1
  elif ! printf '%s\n' "$users" | grep -q "^auth\.fixed_users\.pass_hashed$(printf '\t')true$"; then
    echo "secrets-check: warning: fixed users' passwords are stored in clear (pass_hashed is not true)" >&2
  fi
fi

if [ "$fail" -ne 0 ]; then
  echo "secrets-check: refusing to start ClearML with these secrets" >&2
  exit 1
fi
echo "secrets-check: secure.conf sets every ClearML secret to a non-default value; fixed users are on"
