#!/bin/sh
# Refuses to let the ClearML stack start with ClearML's public default secrets, without init.sh's secure.conf and
# fixed users, or (after `init.sh --migrate-from`) with a user list that would make ClearML delete migrated users.
#
#   sh secrets-check.sh [CONFIG_DIR]          the gate (exit 0 safe, 1 with one line per problem)
#   sh secrets-check.sh --get PATH [DIR]      one value of DIR/secure.conf (init.sh uses it)
#
# The work is done by secrets_check.py beside this file, which parses ClearML's HOCON with pyhocon exactly as the
# apiserver loads it (the clearml/server image ships python3 and pyhocon; on the host: pip install pyhocon).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || {
  echo "secrets-check: python3 is needed (it runs inside the clearml/server image as the secrets-check service)" >&2
  exit 2
}
if [ "${1:-}" = "--get" ]; then
  shift
  exec "$python" "$here/secrets_check.py" get "$@"
fi
exec "$python" "$here/secrets_check.py" check "${1:-/opt/clearml/config}"
