#!/bin/sh
# `kiln compose build` of a 3-service project (one build context per service,
# each Dockerfile FROM the same busybox base with the same first RUN step, then
# a COPY and a RUN of its own) in ONE solve, against the per-service way
# compose built before: one `kiln build` process per service, all at once (the
# store's step locks make the shared step run once there too). Cold (a fresh
# store holding only the base) and no-op (everything built), RUNS times each;
# prints each time and the median ratios per-service / one-solve.
# Usage: benches/compose_build.sh [KILN_BINARY] [RUNS] (default build/cli/kiln, 5).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KILN=${1:-$ROOT/build/cli/kiln}
RUNS=${2:-5}
WORK=$(mktemp -d /tmp/kiln-compose-build-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bb/bin" "$WORK/p"
cp "$(command -v busybox)" "$WORK/bb/bin/busybox"
for a in sh sleep cat echo; do ln -s busybox "$WORK/bb/bin/$a"; done
tar -C "$WORK/bb" -cf "$WORK/bb.tar" .
for s in a b c; do
  mkdir -p "$WORK/p/$s"
  head -c 65536 /dev/zero | tr '\0' "$s" > "$WORK/p/$s/data.txt"
  cat > "$WORK/p/$s/Dockerfile" <<DF
FROM base:1
RUN sleep 1 && echo shared > /shared
COPY data.txt /data.txt
RUN sleep 1 && echo $s > /name
DF
done
cat > "$WORK/p/compose.yaml" <<'YAML'
services:
  a:
    build: ./a
  b:
    build: ./b
  c:
    build: ./c
YAML
fresh() {
  rm -rf "$WORK/root"
  "$KILN" --root "$WORK/root" import "$WORK/bb.tar" base:1 >/dev/null
}
one_solve() {
  "$KILN" --root "$WORK/root" compose -f "$WORK/p/compose.yaml" -p p build
}
per_service() {
  pids=""
  for s in a b c; do
    "$KILN" --root "$WORK/root" build --progress plain -t "p-$s" "$WORK/p/$s" &
    pids="$pids $!"
  done
  rc=0
  for p in $pids; do wait "$p" || rc=1; done
  return $rc
}
# timed LABEL FUNCTION: runs it, prints and returns its wall time in seconds.
timed() {
  start=$(date +%s.%N)
  "$2" >"$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc)
  echo "$1: $t s wall" >&2
  echo "$t"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$WORK/t"
for i in $(seq "$RUNS"); do
  fresh
  echo "one-cold $(timed "compose build, one solve, cold, run $i" one_solve)" >>"$WORK/t"
  echo "one-noop $(timed "compose build, one solve, no-op, run $i" one_solve)" >>"$WORK/t"
  fresh
  echo "per-cold $(timed "kiln build per service in parallel, cold, run $i" per_service)" >>"$WORK/t"
  echo "per-noop $(timed "kiln build per service in parallel, no-op, run $i" per_service)" >>"$WORK/t"
done
for k in one-cold per-cold one-noop per-noop; do
  eval "m_$(echo $k | tr - _)=$(grep "^$k " "$WORK/t" | cut -d' ' -f2 | median)"
done
echo "median cold: one solve $m_one_cold s, per service $m_per_cold s, ratio per/one $(echo "scale=2; $m_per_cold / $m_one_cold" | bc)"
echo "median no-op: one solve $m_one_noop s, per service $m_per_noop s, ratio per/one $(echo "scale=2; $m_per_noop / $m_one_noop" | bc)"
