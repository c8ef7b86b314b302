#!/usr/bin/env bash
# TEST INFRASTRUCTURE ONLY. Prepares Podman as the container runtime for the container-runtime tests (and for
# `./dive up --runtime container`) on machines that have no Docker engine and no image registry access:
#   1. installs podman + runc with apt-get when missing,
#   2. writes a containers.conf (runc, pinned ulimits) into <repo>/.dive/podman/ (git-ignored; no system file),
#   3. picks a storage that works, by trying a build: Podman's default, or where overlay cannot work (a root on
#      overlayfs, as in containers and chroots) overlay with fuse-overlayfs as mount program (installed with apt-get;
#      needs /dev/fuse), else the vfs driver; a fallback is kept in <repo>/.dive/podman/storage.conf with its own
#      storage folder there,
#   4. builds LOCAL STAND-IN images under the exact names and tags the AppHost graph asks for, from this
#      machine's Debian binaries (FROM scratch: the binary, the libraries ldd lists, a /bin/sh).
# Real users pull the official images; these stand-ins exist only so the tests can run without a registry.
# Where a registry answers, the official image is pulled instead; an official image already present is never
# replaced. Idempotent and fast: a stand-in is rebuilt only when a binary it was built from (or this script) changed.
# Adding an image = one function calling standin_image, and one call in main.
#
# Output: stdout carries only the environment to use, as shell assignments (eval-able):
#   CONTAINERS_CONF=<repo>/.dive/podman/containers.conf
#   CONTAINERS_STORAGE_CONF=<repo>/.dive/podman/storage.conf     (only with a fallback storage)
#   ASPIRE_CONTAINER_RUNTIME=podman
# Progress and reasons go to stderr. Exit 0 = ready, 1 = Podman cannot be set up here (reason on stderr and in
# <repo>/.dive/podman/setup-failed, which the container-runtime tests report as their skip reason).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.dive/podman"
CONF="$STATE/containers.conf"
STORAGE_CONF="$STATE/storage.conf"
FAILED="$STATE/setup-failed"
STANDIN_LABEL="io.diveaspire.standin"

say() { printf 'setup-podman-standins: %s\n' "$*" >&2; }
fail() { say "$*"; mkdir -p "$STATE" && printf '%s\n' "$*" >"$FAILED"; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}

# install_packages PACKAGE... (apt-get); fails with the reason.
install_packages() {
  command -v apt-get >/dev/null 2>&1 || fail "missing $* and no apt-get here: install them with your package manager."
  say "installing $* (apt-get) ..."
  as_root apt-get update -qq >/dev/null 2>&1 || fail "cannot run apt-get update (not root and no password-less sudo?)."
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || fail "apt-get install $* failed."
}

ensure_packages() {
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || [[ -x /usr/sbin/runc ]] || missing+=(runc)
  # Aspire's containers find each other by name (redis-usa.dev.internal, ...): with the CNI network backend of
  # Debian's Podman 4.3 that needs the dnsname plugin.
  [[ -x /usr/lib/cni/dnsname ]] || missing+=(golang-github-containernetworking-plugin-dnsname)
  # `podman kube play` (KubePlayTests) builds its pause image from catatonit.
  command -v catatonit >/dev/null 2>&1 || missing+=(catatonit)
  ((${#missing[@]})) || return 0
  install_packages "${missing[@]}"
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

# ---- storage: the default where it works, else fuse-overlayfs, else vfs (each tried with a real build) -------------

# True when Podman answers, a one-file FROM scratch image builds and is removed again, with the current environment;
# else false with the last line of Podman's error in PROBE_ERROR. Several commands, because on a fresh store over
# overlayfs the first one works (the default driver falls back to vfs) and leaves an overlay folder that makes every
# later one fail ("prior storage driver overlay failed").
PROBE_ERROR=""
probe_storage() {
  local dir tag="localhost/dive-storage-probe:$$" out rc=0
  dir=$(mktemp -d "$STATE/probe.XXXXXX")
  echo probe >"$dir/probe"
  printf 'FROM scratch\nCOPY probe /probe\n' >"$dir/Containerfile"
  out=$({ timeout 60 podman info --format '{{.Store.GraphDriverName}}' \
    && timeout 120 podman build --quiet --tag "$tag" --file "$dir/Containerfile" "$dir" \
    && timeout 60 podman rmi --force "$tag" && timeout 60 podman info --format '{{.Store.GraphDriverName}}'; } 2>&1) || rc=$?
  rm -rf "$dir"
  PROBE_ERROR=${out##*$'\n'}
  return "$rc"
}

# write_storage_conf DRIVER [MOUNT_PROGRAM]: a storage.conf with a storage folder of its own under .dive/podman
# (a store keeps the driver that first used it) and a run folder under /run (cleared at boot, as Podman expects).
write_storage_conf() {
  local driver=$1 program=${2:-} name id
  name=${program:+fuse-overlayfs}; name=${name:-$driver}
  id=$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
  mkdir -p "$STATE/storage-$name"
  {
    echo "# Written by DiveAspire.Tests/ContainerRuntime/setup-podman-standins.sh (test infrastructure):"
    echo "# Podman's default storage does not work on this machine."
    echo "[storage]"
    echo "driver = \"$driver\""
    echo "graphroot = \"$STATE/storage-$name\""
    echo "runroot = \"/run/dive-podman-$id/$name\""
    if [[ -n $program ]]; then
      printf '\n[storage.options.overlay]\nmount_program = "%s"\n' "$program"
    fi
  } >"$STORAGE_CONF"
  export CONTAINERS_STORAGE_CONF="$STORAGE_CONF"
}

# fuse-overlayfs needs a usable /dev/fuse; the package is installed only then. Prints why not, otherwise its path.
fuse_overlayfs() {
  [[ -c /dev/fuse && -r /dev/fuse && -w /dev/fuse ]] || { echo "no usable /dev/fuse"; return 1; }
  if ! command -v fuse-overlayfs >/dev/null 2>&1; then
    (install_packages fuse-overlayfs) >&2 || { echo "fuse-overlayfs could not be installed"; return 1; }
  fi
  command -v fuse-overlayfs
}

choose_storage() {
  local reasons=() program
  if [[ -f $STORAGE_CONF ]]; then
    export CONTAINERS_STORAGE_CONF="$STORAGE_CONF"
    probe_storage && return 0
    say "the storage chosen earlier ($(sed -n 's/^driver = //p' "$STORAGE_CONF")) fails now ($PROBE_ERROR): choosing again."
    unset CONTAINERS_STORAGE_CONF
    rm -f "$STORAGE_CONF"
  fi
  probe_storage && return 0
  reasons+=("default: $PROBE_ERROR")
  say "Podman's default storage does not work here ($PROBE_ERROR): trying fuse-overlayfs, then vfs ..."
  if program=$(fuse_overlayfs); then
    write_storage_conf overlay "$program"
    if probe_storage; then
      say "storage: overlay with fuse-overlayfs, in ${STATE#"$ROOT"/}/storage-fuse-overlayfs ($STORAGE_CONF)."
      return 0
    fi
    reasons+=("fuse-overlayfs: $PROBE_ERROR")
  else
    reasons+=("fuse-overlayfs: $program")
  fi
  write_storage_conf vfs
  if probe_storage; then
    say "storage: vfs (every layer a full copy), in ${STATE#"$ROOT"/}/storage-vfs ($STORAGE_CONF)."
    return 0
  fi
  reasons+=("vfs: $PROBE_ERROR")
  rm -f "$STORAGE_CONF"
  fail "no Podman storage works here: $(printf '%s; ' "${reasons[@]}")"
}

check_runtime() {
  local out
  out=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1) || fail "podman does not answer: ${out##*$'\n'}"
  [[ $out == runc ]] || fail "podman uses '$out' instead of runc; is CONTAINERS_CONF honoured?"
}

# Copies an executable and every shared library it loads into a root file system folder (libraries at their own paths).
copy_with_libs() {
  local binary=$1 rootfs=$2 target=$3 lib
  install -D -m 0755 "$(readlink -f "$binary")" "$rootfs$target"
  while read -r lib; do
    [[ -e $rootfs$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done < <(ldd "$binary" 2>/dev/null | grep -oE '/[^ ]+' | sort -u)
}

# True when <image> needs building: absent, or a stand-in built from other inputs. An image under that name that is
# not a stand-in (an official image someone pulled) is never replaced.
needs_build() {
  local image=$1 print=$2 current
  podman image exists "$image" || return 0
  current=$(podman image inspect --format "{{index .Labels \"$STANDIN_LABEL\"}}" "$image" 2>/dev/null || true)
  if [[ -z $current || $current == "<no value>" ]]; then
    say "$image is present and is not a stand-in (an official image): used as it is."
    return 1
  fi
  [[ $current != "$print" ]]
}

# standin_image IMAGE "HOST_PATH:IMAGE_PATH ..." CONTAINERFILE_LINES   (a HOST_PATH folder is copied as it is)
# (CONTAINERFILE_LINES may use `COPY --chown=UID:GID empty/ /some/dir/` for a folder the image's user must own.)
# With registry access the official image is pulled and used. Otherwise: a FROM scratch image holding each binary at
# IMAGE_PATH with the libraries it links, plus CONTAINERFILE_LINES (ENV/WORKDIR/ENTRYPOINT ...). The label records a
# fingerprint of the binaries and of this script, so an unchanged stand-in is not rebuilt.
standin_image() {
  local image=$1 pairs=$2 body=$3 pair host print dir
  local hosts=()
  for pair in $pairs; do
    host=${pair%%:*}
    [[ -e $host ]] || fail "$host is missing: it is needed for the stand-in $image."
    hosts+=("$(readlink -f "$host")")
  done
  print=$(find "${hosts[@]}" "${BASH_SOURCE[0]}" -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
  needs_build "$image" "$print" || return 0
  if ! podman image exists "$image" && [[ -z ${DIVE_STANDIN_NO_PULL:-} ]] \
    && timeout 300 podman pull --quiet "$image" >/dev/null 2>&1; then
    say "pulled the official $image."
    return 0
  fi
  say "no registry: building the stand-in $image from this machine's binaries ..."
  dir=$(mktemp -d "$STATE/build.XXXXXX")
  trap 'rm -rf "$STATE"/build.*' EXIT
  mkdir -p "$dir/rootfs/tmp" "$dir/empty"
  chmod 1777 "$dir/rootfs/tmp"
  for pair in $pairs; do
    if [[ -d ${pair%%:*} ]]; then
      mkdir -p "$dir/rootfs${pair#*:}" && cp -a "${pair%%:*}/." "$dir/rootfs${pair#*:}/"
    else
      copy_with_libs "${pair%%:*}" "$dir/rootfs" "${pair#*:}"
    fi
  done
  printf 'FROM scratch\nCOPY rootfs/ /\nLABEL %s="%s"\n%s\n' "$STANDIN_LABEL" "$print" "$body" >"$dir/Containerfile"
  podman build --quiet --tag "$image" --file "$dir/Containerfile" "$dir" >/dev/null || fail "podman build of $image failed."
  rm -rf "$dir"
  podman image prune --force --filter "label=$STANDIN_LABEL" >/dev/null 2>&1 || true # the replaced stand-in
  say "built $image ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))."
}

# ---- one function per image the graph asks for -------------------------------------------------------------------

# Aspire.Hosting.Redis 13.6.5 asks for docker.io/library/redis:8.6 (RedisContainerImageTags). The graph replaces the
# entrypoint with /bin/sh and DCP runs `/bin/sh -c "exec redis-server --requirepass $REDIS_PASSWORD <settings>"` in
# /data (the named volume), so the image needs a /bin/sh, redis-server on PATH and WORKDIR /data. The "exec" comes
# from the graph: redis-server becomes PID 1 and stops on SIGTERM, with this image and with the official one.
redis_image() {
  command -v redis-server >/dev/null 2>&1 || fail "redis-server is not installed (apt-get install redis-server)."
  standin_image docker.io/library/redis:8.6 "$(command -v redis-server):/usr/local/bin/redis-server /bin/sh:/bin/sh" \
'ENV PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]'
}

# The monitoring stack's images (DiveAspire.AppHost/Monitoring/MonitoringImageTags.cs). Aspire passes only arguments,
# so each stand-in keeps the official image's ENTRYPOINT path, USER and writable folders. Debian's Go binaries exit
# on SIGTERM even as PID 1. Grafana has no Debian package: no stand-in (its container cannot start without a registry).
optional_binary() {
  [[ -x $1 ]] && return 0
  say "$1 is missing (apt-get install $2): no stand-in for $3."
  return 1
}

redis_exporter_image() {
  optional_binary /usr/bin/prometheus-redis-exporter prometheus-redis-exporter oliver006/redis_exporter || return 0
  standin_image docker.io/oliver006/redis_exporter:v1.67.0 "/usr/bin/prometheus-redis-exporter:/redis_exporter" \
'USER 59000:59000
EXPOSE 9121
ENTRYPOINT ["/redis_exporter"]'
}

prometheus_image() {
  optional_binary /usr/bin/prometheus prometheus prom/prometheus || return 0
  standin_image docker.io/prom/prometheus:v2.55.1 "/usr/bin/prometheus:/bin/prometheus" \
'COPY --chown=65534:65534 empty/ /prometheus/
COPY --chown=65534:65534 empty/ /etc/prometheus/
USER 65534
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
}

alertmanager_image() {
  optional_binary /usr/bin/prometheus-alertmanager prometheus-alertmanager prom/alertmanager || return 0
  # Debian's alertmanager reads its notification templates from /usr/share/prometheus/alertmanager.
  standin_image docker.io/prom/alertmanager:v0.27.0 \
    "/usr/bin/prometheus-alertmanager:/bin/alertmanager /usr/share/prometheus/alertmanager:/usr/share/prometheus/alertmanager" \
'COPY --chown=65534:65534 empty/ /alertmanager/
COPY --chown=65534:65534 empty/ /etc/alertmanager/
USER 65534
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]'
}

# ---- main -------------------------------------------------------------------------------------------------------

rm -f "$FAILED"
ensure_packages
write_conf
choose_storage
check_runtime
redis_image
redis_exporter_image
prometheus_image
alertmanager_image

rm -f "$FAILED" # a fallback that failed on the way (e.g. fuse-overlayfs) left it
printf 'CONTAINERS_CONF=%q\n' "$CONF"
[[ -z ${CONTAINERS_STORAGE_CONF:-} ]] || printf 'CONTAINERS_STORAGE_CONF=%q\n' "$CONTAINERS_STORAGE_CONF"
printf 'ASPIRE_CONTAINER_RUNTIME=podman\n'
