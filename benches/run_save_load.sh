#!/bin/bash
# Measures `kiln save` and `kiln load` of a ~300 MB one-layer image against `cp` of
# the same bytes (the saved archive), warm page cache for all.
#
# Usage: benches/run_save_load.sh [KILN_BINARY] [RUNS]
#   KILN_BINARY defaults to build/cli/kiln; RUNS (default 3) per measurement, median.
# The workload is generated deterministically under /var/tmp/kiln-bench-saveload:
#   260 MB of AES-CTR keystream (incompressible) in 13 files + ~60 MB of text.
set -euo pipefail

KILN=$(readlink -f "${1:-build/cli/kiln}")
RUNS=${2:-3}
WORK=/var/tmp/kiln-bench-saveload
ROOT=$WORK/root

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

make_workload() {
  rm -rf "$WORK"
  mkdir -p "$WORK/rootfs/data/bin" "$WORK/rootfs/data/text"
  for i in $(seq -w 1 13); do
    { openssl enc -aes-128-ctr -nosalt -K "000102030405060708090a0b0c0d0e$i" \
      -iv 00000000000000000000000000000000 </dev/zero 2>/dev/null || true; } |
      head -c $((20 * 1024 * 1024)) >"$WORK/rootfs/data/bin/blob$i"
  done
  for i in $(seq -w 1 30); do
    seq -f "line %g of text file $i: the quick brown fox jumps over the lazy dog" 1 28000 \
      >"$WORK/rootfs/data/text/file$i.txt"
  done
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
  SOURCE_DATE_EPOCH=0 "$KILN" --root "$ROOT" import "$WORK/rootfs.tar" bench/saveload:1 >/dev/null
}

make_workload
"$KILN" --root "$ROOT" save -o "$WORK/ref.tar" bench/saveload:1
bytes=$(stat -c %s "$WORK/ref.tar")

save_times=() load_times=() cp_times=()
for run in $(seq 1 "$RUNS"); do
  rm -f "$WORK/out.tar" "$WORK/copy.tar"
  t=$(now); "$KILN" --root "$ROOT" save -o "$WORK/out.tar" bench/saveload:1; save_times+=("$(elapsed "$t")")
  t=$(now); cp "$WORK/ref.tar" "$WORK/copy.tar"; cp_times+=("$(elapsed "$t")")
  rm -rf "$WORK/fresh"
  t=$(now); "$KILN" --root "$WORK/fresh" load -q -i "$WORK/ref.tar" >/dev/null; load_times+=("$(elapsed "$t")")
  cmp -s "$WORK/ref.tar" "$WORK/out.tar" || { echo "save output differs between runs" >&2; exit 1; }
done

save=$(printf '%s\n' "${save_times[@]}" | median)
load=$(printf '%s\n' "${load_times[@]}" | median)
cp_t=$(printf '%s\n' "${cp_times[@]}" | median)
mb=$(echo "scale=1; $bytes / 1000000" | bc)
printf 'archive: %s MB, %s runs, median seconds\n' "$mb" "$RUNS"
printf '%-6s %8s %10s %14s\n' op seconds "MB/s" "ratio_vs_cp"
for row in "save $save" "load $load" "cp $cp_t"; do
  set -- $row
  printf '%-6s %8.3f %10.1f %14.2f\n' "$1" "$2" "$(echo "$bytes / $2 / 1000000" | bc -l)" \
    "$(echo "$2 / $cp_t" | bc -l)"
done
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
