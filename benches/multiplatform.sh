#!/bin/bash
# Multi-platform builds: kiln's time for a two-platform build (linux/amd64 native,
# linux/arm64 under Debian's qemu-user-static through binfmt_misc), the slowdown of
# an emulated RUN against the same RUN native, and the cross-compilation pattern
# (the heavy step in a `FROM --platform=$BUILDPLATFORM` stage, run natively once per
# target) against running it emulated.
#
# Usage: benches/multiplatform.sh [KILN_BINARY] [RUNS]
#   KILN_BINARY defaults to build/cli/kiln; RUNS (default 3) per measurement, median.
# Needs root (kiln setup binfmt) and scripts/test-bases (arm64 busybox-static).
# No peer: docker buildx is not in Debian 12 (docker.io 20.10 has no multi-platform
# build without it), and buildah's --platform needs images per platform from a
# registry; kiln is measured alone.
set -euo pipefail

KILN=$(readlink -f "${1:-build/cli/kiln}")
RUNS=${2:-3}
CACHE=${KILN_TEST_CACHE:-/var/cache/kiln-test}
WORK=/var/tmp/kiln-bench-multiplatform
ROOT=$WORK/root

median() { sort -n | awk 'NF {a[++n]=$1} END {print a[int((n+1)/2)]}'; }

"$KILN" setup binfmt >/dev/null
[[ -x $CACHE/busybox-arm64/bin/busybox ]] || { echo "run scripts/test-bases first" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK/ctx"
rootfs() {  # rootfs DIR BUSYBOX
  mkdir -p "$1/bin" "$1/etc" "$1/tmp"
  cp "$2" "$1/bin/busybox"
  for n in $(/bin/busybox --list); do [[ $n == busybox ]] || ln -s busybox "$1/bin/$n"; done
  echo "root:x:0:0:root:/root:/bin/sh" >"$1/etc/passwd"
}
rootfs "$WORK/ctx/rootfs-amd64" /bin/busybox
rootfs "$WORK/ctx/rootfs-arm64" "$CACHE/busybox-arm64/bin/busybox"
printf 'FROM scratch\nARG TARGETARCH\nCOPY rootfs-${TARGETARCH}/ /\n' >"$WORK/ctx/Dockerfile"
"$KILN" --root "$ROOT" build -q --platform linux/amd64,linux/arm64 -t base:multi "$WORK/ctx" >/dev/null
echo 'rootfs-*' >"$WORK/ctx/.dockerignore"

# The RUN: a shell loop (interpreter work) and gzip of 64 MB (a compressor).
WORKLOAD='i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; head -c 67108864 /dev/zero | gzip -1 | wc -c > /size'
printf 'FROM base:multi\nRUN %s\n' "$WORKLOAD" >"$WORK/ctx/Dockerfile.run"
printf 'FROM --platform=$BUILDPLATFORM base:multi AS build\nARG TARGETARCH\nRUN %s; echo $TARGETARCH >> /size\nFROM base:multi\nCOPY --from=build /size /size\n' \
  "$WORKLOAD" >"$WORK/ctx/Dockerfile.cross"

# time_build DOCKERFILE PLATFORMS: seconds of a --no-cache build (median of RUNS)
time_build() {
  for _ in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    "$KILN" --root "$ROOT" build -q --no-cache -f "$WORK/ctx/$1" --platform "$2" -t "bench:$RANDOM" \
      "$WORK/ctx" >/dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b - a}'
  done | median
}

amd=$(time_build Dockerfile.run linux/amd64)
arm=$(time_build Dockerfile.run linux/arm64)
both=$(time_build Dockerfile.run linux/amd64,linux/arm64)
cross=$(time_build Dockerfile.cross linux/amd64,linux/arm64)
echo "kiln $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'), $RUNS runs, median seconds, --no-cache"
printf '%-52s %8.2f s\n' "one RUN, linux/amd64 (native)" "$amd"
printf '%-52s %8.2f s\n' "one RUN, linux/arm64 (qemu-user-static)" "$arm"
printf '%-52s %8.2f s\n' "two platforms, one build (amd64 + arm64)" "$both"
printf '%-52s %8.2f s\n' "two platforms, heavy step in \$BUILDPLATFORM stage" "$cross"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '%-52s %7sx\n' "emulated RUN slowdown (arm64 / amd64)" "$(ratio "$arm" "$amd")"
printf '%-52s %7sx\n' "two-platform build / (amd64 + arm64 builds)" \
  "$(ratio "$both" "$(awk -v a="$amd" -v b="$arm" 'BEGIN {print a + b}')")"
printf '%-52s %7sx\n' "cross pattern / two-platform emulated build" "$(ratio "$cross" "$both")"
rm -rf "$WORK"
