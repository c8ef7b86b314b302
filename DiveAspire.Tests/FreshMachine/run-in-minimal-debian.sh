#!/usr/bin/env bash
# TEST INFRASTRUCTURE ONLY (not part of ./dive test: it takes long). Checks that the README's promise holds on a
# fresh machine: in a throwaway minimal Debian 12 root (debootstrap --variant=minbase, plus git, curl,
# ca-certificates and the .NET SDK, nothing else), a clean clone of the repository runs `./dive test` as root, which
# installs what it needs itself. Prints the clone's test summary line ("N passed, N failed, N skipped") last and
# exits with the test run's code. Every mount and the root are removed on exit, also on failure or Ctrl-C.
#
#   sudo DiveAspire.Tests/FreshMachine/run-in-minimal-debian.sh [--ref REF] [--fresh-nuget] [--plain-root] [--base DIR] [-- COMMAND...]
#
#   --ref REF       the commit or branch to clone (default: HEAD of this checkout; must be committed)
#   --fresh-nuget   restore every NuGet package from the registry instead of seeding from this machine's cache
#   --plain-root    the root on this machine's file system instead of on overlayfs
#   --base DIR      reuse DIR, an earlier `debootstrap --variant=minbase --include=git,curl,ca-certificates bookworm DIR`,
#                   as the root's read-only lower layer (it is not modified) instead of bootstrapping again
#   -- COMMAND...   run this in the clone instead of `./dive test` (e.g. -- ./dive test --filter FullyQualifiedName~X)
#
# What is taken from this machine rather than downloaded, and why:
#   - the .NET SDK: bind-mounted read-only from this machine's installation (dirname of the real `dotnet`), because
#     the SDK cannot be downloaded here. Its own dependencies (libicu) are NOT copied: a machine with only the SDK
#     has to get them from ./dive.
#   - NuGet packages: by default ~/.nuget/packages is the read-only lower layer of an overlay (the root's own
#     changes go to the throwaway upper layer), so a restore only downloads what this machine's cache lacks; without
#     it a restore of Aspire's orchestrator and dashboard packages takes long here. --fresh-nuget restores all.
#   - this machine's extra CA certificates (/usr/local/share/ca-certificates) and NUGET_CERT_REVOCATION_MODE: this
#     machine reaches the internet through a TLS-inspecting egress, which the root would otherwise not trust.
#   - the Debian mirror: the first one in this machine's apt sources (DIVE_DEBIAN_MIRROR overrides it).
# The root is on overlayfs by default, as in a container, where Podman's default storage cannot work.
#
# Output: progress on stderr; the clone's full test log and TRX are kept in .dive/fresh-machine/<time>/ (git-ignored).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$REPO/.dive/fresh-machine/$(date -u +%Y%m%dT%H%M%SZ)"
SUITE=bookworm

say() { printf 'run-in-minimal-debian: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

ref=HEAD fresh_nuget=false plain_root=false base="" command=(./dive test)
while (($#)); do
  case $1 in
    --ref) ref=${2:?--ref needs a commit or branch}; shift 2 ;;
    --fresh-nuget) fresh_nuget=true; shift ;;
    --plain-root) plain_root=true; shift ;;
    --base) base=$(readlink -f "${2:?--base needs a directory}"); shift 2 ;;
    --) shift; (($#)) || die "-- needs a command"; command=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $1 (valid: --ref, --fresh-nuget, --plain-root, --base DIR, -- COMMAND...)" ;;
  esac
done
[[ -z $base || -x $base/bin/bash ]] || die "--base $base is not a debootstrapped root"
! $plain_root || [[ -z $base ]] || die "--plain-root would modify --base: use one or the other"

[[ $(id -u) -eq 0 ]] || die "must run as root (it mounts and chroots): sudo $0 $*"
commit=$(git -C "$REPO" rev-parse --verify "$ref^{commit}") || die "no such commit: $ref"
git_dir=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir)
command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH here: the root borrows this machine's SDK."
dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")

mirror=${DIVE_DEBIAN_MIRROR:-$(sed -nE 's#^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?://[^[:space:]]+/debian)/?([[:space:]].*)?$#\3#p' \
  /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap (apt-get) ..."
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
    || die "cannot install debootstrap"
fi

WORK=$(mktemp -d /var/tmp/dive-fresh-machine.XXXXXX)
ROOT="$WORK/root"

# Ends every process still running inside the root, then unmounts everything under it (deepest first) and deletes it.
cleanup() {
  local rc=$? pid target round
  set +e
  trap - EXIT INT TERM
  for round in TERM KILL; do
    for pid in /proc/[0-9]*; do
      target=$(readlink "$pid/root" 2>/dev/null) || continue
      [[ $target == "$ROOT" || $target == "$ROOT"/* ]] && kill "-$round" "${pid#/proc/}" 2>/dev/null
    done
    [[ $round == TERM ]] && sleep 5
  done
  if findmnt -rno TARGET | grep -qF "$WORK/"; then
    findmnt -rno TARGET | grep -F "$WORK/" | sort -r | while read -r target; do
      umount "$target" 2>/dev/null || umount -l "$target"
    done
  fi
  if findmnt -rno TARGET | grep -qF "$WORK/"; then
    say "some mounts under $WORK are still busy; left in place: $(findmnt -rno TARGET | grep -F "$WORK/" | tr '\n' ' ')"
  else
    rm -rf --one-file-system "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n $base ]]; then
  say "reusing the debootstrapped $base (read-only lower layer)"
  ln -s "$base" "$WORK/base"
else
  say "debootstrap $SUITE (minbase + git curl ca-certificates) from $mirror into $WORK ..."
  debootstrap --variant=minbase --include=git,curl,ca-certificates "$SUITE" "$WORK/base" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
fi

mkdir -p "$ROOT"
if $plain_root; then
  mount --bind "$WORK/base" "$ROOT"
else
  mkdir -p "$WORK/upper" "$WORK/overlay-work"
  mount -t overlay overlay -o "lowerdir=$WORK/base,upperdir=$WORK/upper,workdir=$WORK/overlay-work" "$ROOT"
fi
mount --make-private "$ROOT"

# The kernel file systems, private to the root: its own /run, /tmp and /dev/shm (Podman keeps its locks in /dev/shm,
# and this machine's Podman must not see the root's), this machine's devices (incl. /dev/fuse) and cgroups.
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys"
mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev"
mount -t tmpfs -o mode=1777 shm "$ROOT/dev/shm"
mount -t tmpfs -o mode=0755 run "$ROOT/run"
mount -t tmpfs -o mode=1777,size=8g tmp "$ROOT/tmp"

# What a Debian installation has and debootstrap leaves out: a hosts file (with ::1, so localhost may be IPv6).
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the root"
fi

mkdir -p "$ROOT/usr/share/dotnet" "$ROOT/mnt/source.git"
mount --bind -o ro "$dotnet_dir" "$ROOT/usr/share/dotnet"
ln -s /usr/share/dotnet/dotnet "$ROOT/usr/bin/dotnet"
mount --bind -o ro "$git_dir" "$ROOT/mnt/source.git"
if ! $fresh_nuget && [[ -d $HOME/.nuget/packages ]]; then
  mkdir -p "$ROOT/root/.nuget/packages" "$WORK/nuget-upper" "$WORK/nuget-work"
  mount -t overlay nuget -o "lowerdir=$HOME/.nuget/packages,upperdir=$WORK/nuget-upper,workdir=$WORK/nuget-work" "$ROOT/root/.nuget/packages"
fi

say "root ready ($(du -sh --one-file-system "$WORK/base/" | cut -f1)); cloning $commit and running: ${command[*]}"
mkdir -p "$OUT"
env_passed=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb)
[[ -n ${NUGET_CERT_REVOCATION_MODE:-} ]] && env_passed+=("NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE")
# In the background and waited for, so that a TERM to this script runs the cleanup at once.
chroot "$ROOT" /usr/bin/env -i "${env_passed[@]}" /bin/bash -c '
  set -e
  git -c safe.directory="*" clone --quiet --no-local /mnt/source.git /root/DiveAspire
  cd /root/DiveAspire
  git -c advice.detachedHead=false checkout --quiet "$1"
  shift
  "$@"' bash "$commit" "${command[@]}" > >(tee "$OUT/test.log") 2>&1 &
rc=0
wait $! || rc=$?
wait # the tee, so the log is complete
[[ -f $ROOT/root/DiveAspire/.dive/test-results/results.trx ]] && cp "$ROOT/root/DiveAspire/.dive/test-results/results.trx" "$OUT/results.trx"
say "done (exit $rc); log: ${OUT#"$REPO"/}/test.log"
grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/test.log" | tail -n1 || echo "no test summary line (see ${OUT#"$REPO"/}/test.log)"
exit "$rc"
