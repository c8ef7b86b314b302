#!/usr/bin/env bash
# TEST INFRASTRUCTURE ONLY. Prepares Podman as the container runtime for the container-runtime tests (and for
# `./dive up --runtime container`) on machines that have no Docker engine and no image registry access:
#   1. installs podman + runc with apt-get when missing,
#   2. writes a containers.conf (runc, pinned ulimits) into <repo>/.dive/podman/ (git-ignored; no system file),
#   3. builds LOCAL STAND-IN images under the exact names and tags the AppHost graph asks for, from this
#      machine's Debian binaries (FROM scratch: the binary, the libraries ldd lists, a /bin/sh).
# Real users pull the official images; these stand-ins exist only so the tests can run without a registry.
# An image that already exists under a name and is not one of our stand-ins (e.g. a pulled official image) is
# left alone. Idempotent: a stand-in is rebuilt only when the binary it was built from changed.
#
# Output: stdout carries only the environment to use, as shell assignments (eval-able):
#   CONTAINERS_CONF=<repo>/.dive/podman/containers.conf
#   ASPIRE_CONTAINER_RUNTIME=podman
# Progress and reasons go to stderr. Exit 0 = ready, 1 = Podman cannot be set up here (reason on stderr).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.dive/podman"
CONF="$STATE/containers.conf"
STANDIN_LABEL="io.diveaspire.standin"

say() { printf 'setup-podman-standins: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}

ensure_packages() {
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || [[ -x /usr/sbin/runc ]] || missing+=(runc)
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and no apt-get here: install them with your package manager."
  say "installing ${missing[*]} (apt-get) ..."
  as_root apt-get update -qq >/dev/null 2>&1 || fail "cannot run apt-get update (not root and no password-less sudo?)."
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || fail "apt-get install ${missing[*]} failed."
}

# crun (Podman's default) refuses this machine's hybrid cgroup layout; the ulimits are pinned because the
# runtime's defaults can exceed what the host allows a container to set.
write_conf() {
  mkdir -p "$STATE"
  local wanted
  wanted=$(cat <<'EOF'
# Written by DiveAspire.Tests/ContainerRuntime/setup-podman-standins.sh (test infrastructure).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
EOF
)
  [[ -f $CONF && $(cat "$CONF") == "$wanted" ]] || printf '%s\n' "$wanted" >"$CONF"
  export CONTAINERS_CONF="$CONF"
}

check_runtime() {
  local out
  out=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1) || fail "podman does not answer: ${out##*$'\n'}"
  [[ $out == runc ]] || fail "podman uses '$out' instead of runc; is CONTAINERS_CONF honoured?"
}

# Copies an executable and every shared library it loads into a root file system folder, at the same paths.
copy_with_libs() {
  local binary=$1 rootfs=$2 target=${3:-$1} lib
  install -D -m 0755 "$(readlink -f "$binary")" "$rootfs$target"
  while read -r lib; do
    [[ -e $rootfs$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done < <(ldd "$binary" | grep -oE '/[^ ]+' | sort -u)
}

# True when <image> needs building: absent, or a stand-in built from other inputs. An image under that name that is
# not a stand-in (an official image someone pulled) is never replaced.
needs_build() {
  local image=$1 print=$2 current
  podman image exists "$image" || return 0
  current=$(podman image inspect --format "{{index .Labels \"$STANDIN_LABEL\"}}" "$image" 2>/dev/null || true)
  if [[ -z $current || $current == "<no value>" ]]; then
    say "$image exists and is not a stand-in (an official image?): left as it is."
    return 1
  fi
  [[ $current != "$print" ]]
}

# build_standin IMAGE INPUTS... -- PREPARE_FUNCTION CONTAINERFILE_LINES
# PREPARE_FUNCTION fills the rootfs folder given as its argument; the image is FROM scratch with that rootfs.
build_standin() {
  local image=$1; shift
  local inputs=()
  while [[ $1 != -- ]]; do inputs+=("$1"); shift; done
  local prepare=$2 body=$3 print dir
  print=$(cat "${inputs[@]}" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
  needs_build "$image" "$print" || return 0
  say "building stand-in $image ..."
  dir=$(mktemp -d "$STATE/build.XXXXXX")
  trap 'rm -rf "$STATE"/build.*' EXIT
  mkdir -p "$dir/rootfs"
  "$prepare" "$dir/rootfs"
  printf 'FROM scratch\nCOPY rootfs/ /\nLABEL %s="%s"\n%s\n' "$STANDIN_LABEL" "$print" "$body" >"$dir/Containerfile"
  podman build --quiet --tag "$image" --file "$dir/Containerfile" "$dir" >/dev/null || fail "podman build of $image failed."
  rm -rf "$dir"
  say "built $image ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
}

# ---- one function per image ------------------------------------------------------------------------------------

# Aspire.Hosting.Redis 13.6.5: RedisContainerImageTags = docker.io / library/redis / 8.6. The graph overrides
# the entrypoint with /bin/sh and DCP passes `-c "redis-server --requirepass $REDIS_PASSWORD <settings>"`; dash
# execs the last command of -c, so redis-server becomes PID 1 and stops cleanly on SIGTERM.
redis_rootfs() {
  copy_with_libs "$(command -v redis-server)" "$1" /usr/local/bin/redis-server
  copy_with_libs /bin/sh "$1" /bin/sh
  mkdir -p "$1/data" "$1/tmp"
}

redis_image() {
  command -v redis-server >/dev/null 2>&1 || fail "redis-server is not installed (apt-get install redis-server)."
  build_standin docker.io/library/redis:8.6 "$(readlink -f "$(command -v redis-server)")" "$(readlink -f /bin/sh)" -- redis_rootfs \
'ENV PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]'
}

# ---- main -------------------------------------------------------------------------------------------------------

ensure_packages
write_conf
check_runtime
redis_image

printf 'CONTAINERS_CONF=%q\nASPIRE_CONTAINER_RUNTIME=podman\n' "$CONF"
