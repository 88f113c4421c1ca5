#!/bin/sh
# A build whose context has 10,000 files and a .dockerignore of 10,000
# patterns (5,000 plain paths, 5,000 with a wildcard, spread over 100
# directories): the first build, then no-op rebuilds (the context walk with the
# ignore filter is most of their time).
# Usage: benches/dockerignore_walk.sh [KILN_BINARY] (default build/cli/kiln).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KILN=${1:-$ROOT/build/cli/kiln}
WORK=$(mktemp -d /tmp/kiln-ignore-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK/ctx" <<'PY'
import os, sys
ctx = sys.argv[1]
for d in range(100):
    os.makedirs(f"{ctx}/d{d}")
    for i in range(100):
        with open(f"{ctx}/d{d}/f{i}.txt", "w") as f:
            f.write(f"{d} {i}\n")
pats = [f"d{i % 100}/f{i}.skip" for i in range(5000)]
pats += [f"d{i % 100}/*.x{i}" for i in range(5000)]
with open(f"{ctx}/.dockerignore", "w") as f:
    f.write("\n".join(pats) + "\n")
with open(f"{ctx}/Dockerfile", "w") as f:
    f.write("FROM scratch\nCOPY . /ctx/\n")
PY
run() {
  /usr/bin/time -f "$1: %e s wall, %U s user, %S s sys" \
    "$KILN" --root "$WORK/root" build -q -t ignore-bench:1 "$WORK/ctx" >/dev/null
}
run "first build"
for n in 1 2 3; do run "no-op rebuild $n"; done
