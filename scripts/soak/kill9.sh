#!/bin/bash
# kill -9 soak: SIGKILLs kiln at random moments of builds, loads, pulls and runs in
# one store, then checks that the next kiln leaves no mount, runc container,
# container process or temp file of the store, that the store is as big as a clean
# build's (+-5%), and that every image rebuilds to the same ID. Not in the default
# suite (it takes minutes); run as root:
#
#   scripts/soak/kill9.sh [KILN_BINARY] [KILLS]
#
# KILN_BINARY defaults to build/cli/kiln, KILLS (SIGKILLs that hit a live kiln) to 50.
# Uses /var/tmp/kiln-soak, a docker-registry on 127.0.0.1 and Debian's busybox.
set -euo pipefail

KILN=$(readlink -f "${1:-build/cli/kiln}")
KILLS=${2:-50}
WORK=/var/tmp/kiln-soak
export SOURCE_DATE_EPOCH=0

log() { echo "soak: $*" >&2; }

setup_work() {
  # What an interrupted earlier soak may have left mounted.
  { grep "$WORK/" /proc/self/mountinfo || true; } | awk '{ print $5 }' | sort -r | xargs -r -n1 umount -l
  rm -rf "$WORK"
  mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/etc" "$WORK/rootfs/tmp" "$WORK/ctx-a" "$WORK/ctx-b"
  cp /bin/busybox "$WORK/rootfs/bin/busybox"
  for applet in sh sleep seq cat echo true dd sha256sum mkdir; do
    ln -s busybox "$WORK/rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$WORK/rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$WORK/rootfs/etc/group"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$WORK/rootfs" -cf "$WORK/base.tar" .
  # Two builds with slow, deterministic RUN steps and a few MB of layers.
  cat >"$WORK/ctx-a/Dockerfile" <<'DF'
FROM soak/base:1
RUN seq 1 400000 > /numbers && sleep 1
COPY data /data
RUN sha256sum /numbers /data/* > /sums && sleep 2
RUN mkdir -p /out && seq 1 300000 | sha256sum > /out/sum && sleep 1
DF
  head -c 3000000 /dev/zero | tr '\0' 'a' >"$WORK/ctx-a/data"
  mkdir -p "$WORK/ctx-a/data.d" && mv "$WORK/ctx-a/data" "$WORK/ctx-a/data.d/a"
  mv "$WORK/ctx-a/data.d" "$WORK/ctx-a/data"
  cat >"$WORK/ctx-b/Dockerfile" <<'DF'
FROM soak/base:1
RUN seq 1 900000 > /more && sleep 3
RUN cat /more /more > /twice && sleep 1
DF
}

start_registry() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/registry"
  cat >"$WORK/registry/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/registry/storage
http:
  addr: 127.0.0.1:$PORT
YML
  docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && return 0
    sleep 0.1
  done
  log "registry did not start"
  exit 1
}

# Fills store $1 the clean way: import, two builds, a pushed-then-pulled image and
# a loaded archive. Writes the image IDs to $1.ids.
populate() {
  local root=$1
  "$KILN" --root "$root" import "$WORK/base.tar" soak/base:1 >/dev/null
  "$KILN" --root "$root" build -q -t soak/a:1 "$WORK/ctx-a" >/dev/null
  "$KILN" --root "$root" build -q -t soak/b:1 "$WORK/ctx-b" >/dev/null
  "$KILN" --root "$root" pull -q "127.0.0.1:$PORT/soak/a:1" >/dev/null
  "$KILN" --root "$root" load -q -i "$WORK/b.tar" >/dev/null
  image_ids "$root" >"$root.ids"
}

image_ids() {
  "$KILN" --root "$1" images --no-trunc | awk 'NR > 1 { print $1 ":" $2, $3 }' | sort
}

store_bytes() { du -sb --exclude=store.lock "$1" | cut -f1; }

# Starts one operation of the soak in the background, kiln itself (so that the
# SIGKILL hits kiln, not a shell); sets OP_PID.
start_op() {
  local root=$1
  case $((RANDOM % 6)) in
    0) "$KILN" --root "$root" build -q --no-cache -t soak/a:1 "$WORK/ctx-a" >/dev/null 2>&1 & ;;
    1) "$KILN" --root "$root" build -q --no-cache -t soak/b:1 "$WORK/ctx-b" >/dev/null 2>&1 & ;;
    2) "$KILN" --root "$root" load -q -i "$WORK/b.tar" >/dev/null 2>&1 & ;;
    3) "$KILN" --root "$root" rmi -f "127.0.0.1:$PORT/soak/a:1" >/dev/null 2>&1 || true
       "$KILN" --root "$root" pull -q "127.0.0.1:$PORT/soak/a:1" >/dev/null 2>&1 & ;;
    4) "$KILN" --root "$root" run --rm soak/a:1 sh -c 'seq 1 100000 > /tmp/x; sleep 30' \
         >/dev/null 2>&1 & ;;
    5) "$KILN" --root "$root" build -q -t soak/a:1 "$WORK/ctx-a" >/dev/null 2>&1 & ;;
  esac
  OP_PID=$!
}

leftovers() {
  local root=$1 real
  real=$(readlink -f "$root")
  local mounts containers procs temps guards
  mounts=$(grep -c "$real/" /proc/self/mountinfo || true)
  containers=$( (runc --root "$real/runc" list -q; runc --root "$real/containers/.runc" list -q) \
    2>/dev/null | wc -l)
  # Container processes: another mount namespace whose root is a mount of the store
  # (others may see the store's mounts through mount propagation).
  procs=0
  local own
  own=$(readlink /proc/self/ns/mnt)
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" != "$own" ] || continue
    awk '$5 == "/"' "$p/mountinfo" 2>/dev/null | grep -qs "$real/" && procs=$((procs + 1))
  done
  guards=$(pgrep -fc "$real/.*kiln-guard" || true)
  temps=$( (find "$real/tmp" -mindepth 1; find "$real/snapshots" -maxdepth 1 -name 'tmp-*') |
    wc -l)
  echo "mounts=$mounts runc_containers=$containers container_processes=$procs guards=$guards temp_entries=$temps"
}

main() {
  setup_work
  start_registry
  trap 'kill $REGISTRY_PID 2>/dev/null || true' EXIT
  local clean=$WORK/clean soak=$WORK/store
  # The reference: a clean store, and the archive and registry image it serves.
  "$KILN" --root "$clean" import "$WORK/base.tar" soak/base:1 >/dev/null
  "$KILN" --root "$clean" build -q -t soak/a:1 "$WORK/ctx-a" >/dev/null
  "$KILN" --root "$clean" build -q -t soak/b:1 "$WORK/ctx-b" >/dev/null
  "$KILN" --root "$clean" save -o "$WORK/b.tar" soak/b:1
  "$KILN" --root "$clean" tag soak/a:1 "127.0.0.1:$PORT/soak/a:1"
  "$KILN" --root "$clean" push -q "127.0.0.1:$PORT/soak/a:1" >/dev/null
  "$KILN" --root "$clean" rmi "127.0.0.1:$PORT/soak/a:1" >/dev/null
  rm -rf "$clean"
  populate "$clean"
  local clean_size
  clean_size=$(store_bytes "$clean")
  populate "$soak"

  local kills=0 ops=0 start=$SECONDS
  while ((kills < KILLS)); do
    start_op "$soak"
    ops=$((ops + 1))
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", r / 32767 * 4 }')"
    # A SIGKILL counts when it hits a kiln still at work (not exited, not a zombie).
    state=$(awk '{ print $3 }' "/proc/$OP_PID/stat" 2>/dev/null || echo gone)
    if [ "$state" != Z ] && [ "$state" != gone ] && kill -9 "$OP_PID" 2>/dev/null; then
      kills=$((kills + 1))
    fi
    wait "$OP_PID" 2>/dev/null || true
  done
  log "$kills SIGKILLs in $ops operations, $((SECONDS - start)) s"
  sleep 2
  log "2 s after the last kill: $(leftovers "$soak")"
  sleep 11 # reclaim leaves entries younger than 10 s to their possible owner
  # The next kiln on the store reclaims; a killed `run --rm` leaves its container
  # (Exited (255)) with its rootfs mounted until `kiln ps` or `rm` sees it.
  "$KILN" --root "$soak" images >/dev/null
  log "after one kiln images: $(leftovers "$soak")"
  local stale
  stale=$("$KILN" --root "$soak" ps -aq | wc -l)
  if ((stale > 0)); then
    "$KILN" --root "$soak" rm -f $("$KILN" --root "$soak" ps -aq) >/dev/null
  fi
  log "after kiln ps and rm -f of the $stale containers of killed runs: $(leftovers "$soak")"
  # Rebuild everything: the same IDs, and no more bytes than a clean store.
  "$KILN" --root "$soak" build -q -t soak/a:1 "$WORK/ctx-a" >/dev/null
  "$KILN" --root "$soak" build -q -t soak/b:1 "$WORK/ctx-b" >/dev/null
  "$KILN" --root "$soak" pull -q "127.0.0.1:$PORT/soak/a:1" >/dev/null
  "$KILN" --root "$soak" load -q -i "$WORK/b.tar" >/dev/null
  "$KILN" --root "$soak" images >/dev/null
  local soak_size
  soak_size=$(store_bytes "$soak")
  log "store bytes: clean $clean_size, after the soak and a rebuild $soak_size" \
    "($(awk -v a="$soak_size" -v b="$clean_size" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }'))"
  if diff <(image_ids "$soak") "$clean.ids" >/dev/null; then
    log "image IDs: all $(wc -l <"$clean.ids") equal to the clean store's"
  else
    log "image IDs differ:"
    diff <(image_ids "$soak") "$clean.ids" >&2 || true
  fi
  log "final: $(leftovers "$soak")"
}

main "$@"
