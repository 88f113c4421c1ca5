#!/bin/bash
# Measures `kiln save` and `kiln load` of a ~300 MB one-layer image against `cp` of
# the same bytes (the saved archive), and `cp` + fsync, warm page cache for all.
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

median() { sort -n | awk 'NF {a[++n]=$1} END {print a[int((n+1)/2)]}'; }

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

# Each measurement records "wall cpu" (cpu = user + sys), through /usr/bin/time.
measure() {
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" >/dev/null
  awk '{printf "%s %.3f\n", $1, $2 + $3}' "$WORK/time"
}
declare -A wall cpu
for op in save load cp cp+sync; do wall[$op]=""; cpu[$op]=""; done
record() {
  local op=$1 w c
  read -r w c
  wall[$op]+="$w"$'\n'; cpu[$op]+="$c"$'\n'
}
for run in $(seq 1 "$RUNS"); do
  rm -f "$WORK/out.tar" "$WORK/copy.tar"
  record save < <(measure "$KILN" --root "$ROOT" save -o "$WORK/out.tar" bench/saveload:1)
  record cp < <(measure cp "$WORK/ref.tar" "$WORK/copy.tar")
  rm -f "$WORK/copy.tar"
  # load fsyncs every blob it stores (crash safety); this is the like-for-like copy.
  record cp+sync < <(measure sh -c "cp '$WORK/ref.tar' '$WORK/copy.tar' && sync '$WORK/copy.tar'")
  rm -rf "$WORK/fresh"
  record load < <(measure "$KILN" --root "$WORK/fresh" load -i "$WORK/ref.tar")
  cmp -s "$WORK/ref.tar" "$WORK/out.tar" || { echo "save output differs between runs" >&2; exit 1; }
done

mb=$(echo "scale=1; $bytes / 1000000" | bc)
cp_wall=$(printf '%s' "${wall[cp]}" | median)
printf 'archive: %s MB, %s runs, medians; load average %s\n' "$mb" "$RUNS" \
  "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-8s %8s %8s %10s %12s\n' op wall_s cpu_s "MB/s" "wall/cp"
for op in save load cp cp+sync; do
  w=$(printf '%s' "${wall[$op]}" | median)
  c=$(printf '%s' "${cpu[$op]}" | median)
  printf '%-8s %8.3f %8.3f %10.1f %12.2f\n' "$op" "$w" "$c" \
    "$(echo "$bytes / $w / 1000000" | bc -l)" "$(echo "$w / $cp_wall" | bc -l)"
done
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
