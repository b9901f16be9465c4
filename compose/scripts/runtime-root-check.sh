#!/bin/sh
# Runs the release binary of clearml-probe in a Debian bookworm root holding exactly the runtime packages of the
# repository's Dockerfile (its last stage's `apt-get install`), the way the image would run it, without Docker.
#
#   compose/scripts/runtime-root-check.sh /path/to/release/clearml-probe [args...]     (default args: --help)
#
# Needs root and debootstrap. The minbase root is cached in $CLEARML_PROBE_ROOTFS_CACHE
# (default /var/cache/clearml-probe-rootfs) and rebuilt when the package list changes; each run works on a copy.
set -eu

binary=${1:?usage: runtime-root-check.sh BINARY [ARGS...]}
shift
[ $# -gt 0 ] || set -- --help
[ -x "$binary" ] || { echo "runtime-root-check: $binary is not an executable file" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "runtime-root-check: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null 2>&1 || { echo "runtime-root-check: debootstrap is not installed" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
dockerfile=${DOCKERFILE:-$here/../../Dockerfile}
cache=${CLEARML_PROBE_ROOTFS_CACHE:-/var/cache/clearml-probe-rootfs}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The packages of the last stage's apt-get install: the words after --no-install-recommends up to the next &&.
packages=$(awk '
  /^FROM / { stage = ""; collecting = 0 }
  { line = $0; sub(/\\$/, "", line); stage = stage " " line }
  END {
    n = split(stage, words, /[ \t]+/)
    for (i = 1; i <= n; i++) {
      if (words[i] == "--no-install-recommends") { collecting = 1; continue }
      if (collecting && (words[i] == "&&" || words[i] == ";")) break
      if (collecting && words[i] != "") printf "%s ", words[i]
    }
  }
' "$dockerfile")
packages=$(printf '%s' "$packages" | sed 's/ *$//')
[ -n "$packages" ] || { echo "runtime-root-check: no runtime packages found in $dockerfile" >&2; exit 2; }
echo "runtime-root-check: runtime packages from $(basename "$dockerfile"): $packages"

stamp=$(printf '%s' "bookworm minbase $packages" | sha256sum | cut -c1-16)
root="$cache/bookworm-$stamp"
if [ ! -x "$root/usr/bin/apt-get" ] || [ ! -f "$root/.clearml-probe-ready" ]; then
  rm -rf "$root.tmp"
  mkdir -p "$cache"
  echo "runtime-root-check: debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  # shellcheck disable=SC2086  # a list of package names
  chroot "$root.tmp" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null && rm -rf /var/lib/apt/lists/*"
  touch "$root.tmp/.clearml-probe-ready"
  rm -rf "$root"
  mv "$root.tmp" "$root"
fi

work=$(mktemp -d)
cleanup() {
  umount "$work/root/dev/shm" 2>/dev/null || true
  umount "$work/root/proc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
cp -a "$root" "$work/root"
install -m 0755 "$binary" "$work/root/usr/local/bin/clearml-probe"
# What a container has: /proc (the Swift runtime reads /proc/self) and a /dev/shm.
mount -t proc proc "$work/root/proc"
mkdir -p "$work/root/dev/shm"
mount -t tmpfs -o size=16m tmpfs "$work/root/dev/shm"

echo "runtime-root-check: libraries the binary needs that the root does not have:"
missing=$(chroot "$work/root" sh -c 'ldd /usr/local/bin/clearml-probe 2>&1 | grep "not found" || true')
if [ -n "$missing" ]; then
  printf '%s\n' "$missing" >&2
  exit 1
fi
echo "  none"
# As the image runs it: a non-root user, no HOME to write to.
chroot --userspec=10001:10001 "$work/root" /usr/local/bin/clearml-probe "$@"
