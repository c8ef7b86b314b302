#!/usr/bin/env bash
# TEST INFRASTRUCTURE ONLY. Builds a LOCAL STAND-IN image of the backend for the `podman kube play` test
# (KubePlayTests), on machines with no image registry: the backend as `dotnet publish` writes it (framework-dependent)
# plus this machine's .NET runtime (the dotnet host, Microsoft.NETCore.App and Microsoft.AspNetCore.App, and the
# libraries they load, ICU and OpenSSL included), FROM scratch, labelled io.diveaspire.standin like the other stand-ins
# (DiveAspire.Tests/ContainerRuntime/setup-podman-standins.sh). A real deployment builds its image with
# `dotnet publish DiveAspire.Backend -t:PublishContainer` and pushes it to its registry (docs/deployment.md).
# Rebuilt only when the published backend, the runtime or this script changed.
#
# Usage: build-backend-standin.sh IMAGE      (needs the solution built; podman with CONTAINERS_CONF set by the caller)
# Prints nothing on stdout; progress and errors on stderr; exit 1 on failure.
set -euo pipefail

IMAGE=${1:?usage: build-backend-standin.sh IMAGE}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.dive/podman"
STANDIN_LABEL="io.diveaspire.standin"
DOTNET_ROOT_DIR=$(dirname "$(readlink -f "$(command -v dotnet)")")
CONFIGURATION=${DIVE_CONFIGURATION:-Debug}

say() { printf 'build-backend-standin: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

mkdir -p "$STATE"
publish="$STATE/backend-publish"
rm -rf "$publish"
dotnet publish "$ROOT/DiveAspire.Backend" --no-build -c "$CONFIGURATION" -o "$publish" -nologo -v q >&2 \
  || fail "dotnet publish of DiveAspire.Backend failed (is the solution built in $CONFIGURATION?)."

frameworks=()
for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
  dir=$(find "$DOTNET_ROOT_DIR/shared/$framework" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n1)
  [[ -n $dir ]] || fail "the .NET runtime $framework is not installed under $DOTNET_ROOT_DIR."
  frameworks+=("$dir")
done
fxr=$(find "$DOTNET_ROOT_DIR/host/fxr" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n1)
# Loaded with dlopen, so ldd does not list them: globalization (ICU) and cryptography (OpenSSL).
dlopened=(/usr/lib/x86_64-linux-gnu/libicu{uc,i18n,data}.so.[0-9]* /usr/lib/x86_64-linux-gnu/lib{ssl,crypto}.so.3)

print=$(find "$publish" "${frameworks[@]}" "$fxr" "${BASH_SOURCE[0]}" -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
if podman image exists "$IMAGE"; then
  current=$(podman image inspect --format "{{index .Labels \"$STANDIN_LABEL\"}}" "$IMAGE" 2>/dev/null || true)
  [[ -n $current && $current != "<no value>" ]] || { say "$IMAGE is present and is not a stand-in: used as it is."; exit 0; }
  [[ $current != "$print" ]] || exit 0
fi

say "building the stand-in $IMAGE (backend + this machine's .NET runtime) ..."
dir=$(mktemp -d "$STATE/backend-build.XXXXXX")
trap 'rm -rf "$dir"' EXIT
rootfs="$dir/rootfs"
mkdir -p "$rootfs/tmp" "$rootfs/app" "$rootfs/dotnet/shared" "$rootfs/dotnet/host/fxr"
chmod 1777 "$rootfs/tmp"
cp -a "$publish/." "$rootfs/app/"
install -m 0755 "$DOTNET_ROOT_DIR/dotnet" "$rootfs/dotnet/dotnet"
cp -a "$fxr" "$rootfs/dotnet/host/fxr/"
for framework in "${frameworks[@]}"; do
  mkdir -p "$rootfs/dotnet/shared/$(basename "$(dirname "$framework")")"
  cp -a "$framework" "$rootfs/dotnet/shared/$(basename "$(dirname "$framework")")/"
done
while read -r lib; do
  [[ -e $rootfs$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
done < <({ printf '%s\n' "${dlopened[@]}"
           for f in "$rootfs/dotnet/dotnet" "$rootfs"/dotnet/host/fxr/*/*.so "$rootfs"/dotnet/shared/*/*/*.so "${dlopened[@]}"; do
             ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true
           done; } | sort -u)

cat >"$dir/Containerfile" <<EOF
FROM scratch
COPY rootfs/ /
LABEL $STANDIN_LABEL="$print"
ENV DOTNET_ROOT=/dotnet DOTNET_RUNNING_IN_CONTAINER=true DOTNET_NOLOGO=1 PATH=/dotnet
WORKDIR /app
USER 64198:64198
EXPOSE 8080
ENTRYPOINT ["/dotnet/dotnet", "/app/DiveAspire.Backend.dll"]
EOF
podman build --quiet --tag "$IMAGE" --file "$dir/Containerfile" "$dir" >/dev/null || fail "podman build of $IMAGE failed."
podman image prune --force --filter "label=$STANDIN_LABEL" >/dev/null 2>&1 || true # the replaced stand-in
say "built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec))."
