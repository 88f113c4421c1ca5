#!/bin/bash
# Measures issue 16's networks: `kiln run -d` until running on a user network vs
# with --network host (target: at most 1.3x), and 50 containers on one network
# that all resolve (and reach) each other by name.
#
# Usage: benches/network_bench.sh [KILN_BINARY] [RUNS] [CONTAINERS]
#   KILN_BINARY defaults to build/cli/kiln; RUNS (default 20) `run -d` per mode,
#   median and p90; CONTAINERS (default 50) for the name test. Run as root.
# Works in a store under /var/tmp/kiln-bench-network (removed at the end); every
# container it starts is removed with `kiln rm -f`.
set -euo pipefail

KILN=$(readlink -f "${1:-build/cli/kiln}")
RUNS=${2:-20}
COUNT=${3:-50}
WORK=/var/tmp/kiln-bench-network
ROOT=$WORK/root
k() { "$KILN" --root "$ROOT" "$@"; }
now() { date +%s.%N; }
stats() { sort -n | awk 'NF {a[++n]=$1} END {printf "median %.1f ms  p90 %.1f ms", a[int((n+1)/2)]*1000, a[int(n*0.9+0.5)]*1000}'; }

cleanup() {
  if [ -x "$KILN" ] && [ -d "$ROOT" ]; then
    ids=$(k ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && k rm -f $ids >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

rm -rf "$WORK"
mkdir -p "$WORK/bb/bin" "$WORK/bb/etc"
cp /bin/busybox "$WORK/bb/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$WORK/bb/bin/$applet"
done
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK/bb" -cf "$WORK/bb.tar" .
k import "$WORK/bb.tar" bench:1 >/dev/null
k network create benchnet >/dev/null

# One container of each kind first (a warm page cache; the user network's first
# container also makes the network's namespace and bridge).
k run -d --network host bench:1 sleep 600 >/dev/null
k run -d --network benchnet bench:1 sleep 600 >/dev/null

declare -A results
for round in $(seq 1 "$RUNS"); do
  for mode in host benchnet; do
    t0=$(now)
    k run -d --network "$mode" bench:1 sleep 600 >/dev/null
    t1=$(now)
    results[$mode]+="$(echo "$t1 - $t0" | bc) "
  done
done
host_line=$(echo "${results[host]}" | tr ' ' '\n' | stats)
net_line=$(echo "${results[benchnet]}" | tr ' ' '\n' | stats)
host_median=$(echo "${results[host]}" | tr ' ' '\n' | sort -n | awk 'NF {a[++n]=$1} END {print a[int((n+1)/2)]}')
net_median=$(echo "${results[benchnet]}" | tr ' ' '\n' | sort -n | awk 'NF {a[++n]=$1} END {print a[int((n+1)/2)]}')
echo "run -d --network host:      $host_line  ($RUNS runs)"
echo "run -d --network benchnet:  $net_line  ($RUNS runs)"
echo "ratio (median):             $(echo "scale=2; $net_median / $host_median" | bc)x"
k rm -f $(k ps -aq) >/dev/null

# COUNT containers on one network; each then reaches every other by name.
t0=$(now)
for i in $(seq 1 "$COUNT"); do
  k run -d --name "c$i" --network benchnet bench:1 sleep 600 >/dev/null
done
t1=$(now)
names=$(seq -f "c%g" 1 "$COUNT" | tr '\n' ' ')
unresolved=0
first_misses=0
unreachable=0
for i in $(seq 1 "$COUNT"); do
  # ping names its target's address once resolved ("PING c7 (10.89.0.9)"), replies or
  # not; a miss is tried once more before it counts as unreachable.
  out=$(k exec "c$i" sh -c "u=0; m=0; x=0; for n in $names; do
      line=\$(ping -c 1 -W 1 \$n 2>&1); case \"\$line\" in *\"(10.\"*) ;; *) u=\$((u+1)); continue;; esac
      case \"\$line\" in *\" 1 packets received\"*) ;; *) m=\$((m+1)); ping -c 1 -W 2 \$n >/dev/null 2>&1 || x=\$((x+1));; esac
    done; echo \$u \$m \$x")
  read -r u m x <<<"$out"
  unresolved=$((unresolved + u))
  first_misses=$((first_misses + m))
  unreachable=$((unreachable + x))
done
t2=$(now)
k rm -f $(k ps -aq) >/dev/null
t3=$(now)
echo "$COUNT containers started on one network:  $(echo "($t1 - $t0) * 1000 / $COUNT" | bc) ms each, $(echo "$t1 - $t0" | bc | cut -c1-5) s in all"
echo "all-pairs ping by name ($((COUNT * COUNT)) lookups):  $(echo "$t2 - $t1" | bc | cut -c1-5) s; $unresolved not resolved, $first_misses first pings unanswered within 1 s, $unreachable unreachable after a retry"
echo "rm -f of all $COUNT:  $(echo "$t3 - $t2" | bc | cut -c1-5) s"
left=$(grep -c "$ROOT" /proc/mounts || true)
echo "mounts left under the store: $left"
