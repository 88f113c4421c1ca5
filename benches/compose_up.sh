#!/bin/sh
# `kiln compose up -d --wait` of a 5-service project (busybox images already in the
# store; a healthcheck on one, depends_on service_healthy on it, a named volume, a
# bind and a published port), then `compose down -v`, RUNS times; and a no-op
# second `up -d` on the running project.
# Usage: benches/compose_up.sh [KILN_BINARY] [RUNS] (default build/cli/kiln, 5).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KILN=${1:-$ROOT/build/cli/kiln}
RUNS=${2:-5}
WORK=$(mktemp -d /tmp/kiln-compose-bench-XXXXXX)
trap '"$KILN" --root "$WORK/root" compose -f "$WORK/p/compose.yaml" down -v -t 0 >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bb/bin" "$WORK/p"
cp "$(command -v busybox)" "$WORK/bb/bin/busybox"
for a in sh sleep touch test httpd; do ln -s busybox "$WORK/bb/bin/$a"; done
tar -C "$WORK/bb" -cf "$WORK/bb.tar" .
"$KILN" --root "$WORK/root" import "$WORK/bb.tar" base:1 >/dev/null
cat > "$WORK/p/compose.yaml" <<'YAML'
services:
  db:
    image: base:1
    command: sh -c 'touch /ready; exec sleep 3600'
    stop_signal: SIGKILL
    healthcheck:
      test: test -f /ready
      interval: 100ms
      start_interval: 20ms
      start_period: 10s
    volumes:
      - data:/data
  cache:
    image: base:1
    command: sleep 3600
    stop_signal: SIGKILL
  api:
    image: base:1
    command: sleep 3600
    stop_signal: SIGKILL
    depends_on:
      db:
        condition: service_healthy
      cache:
        condition: service_started
  worker:
    image: base:1
    command: sleep 3600
    stop_signal: SIGKILL
    depends_on: [db]
    volumes:
      - ./work:/work
  web:
    image: base:1
    command: httpd -f -p 8080
    stop_signal: SIGKILL
    ports:
      - "127.0.0.1:18480:8080"
    depends_on: [api]
volumes:
  data:
YAML
C="$KILN --root $WORK/root compose -f $WORK/p/compose.yaml"
timed() {
  label=$1
  shift
  /usr/bin/time -o "$WORK/time" -f "%e" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  echo "$label: $(cat "$WORK/time") s wall"
}
for i in $(seq "$RUNS"); do
  timed "up -d --wait (5 services), run $i" $C up -d --wait
  timed "up -d again (no-op), run $i" $C up -d
  timed "down -v, run $i" $C down -v -t 0
done
