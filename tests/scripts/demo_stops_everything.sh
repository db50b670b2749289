#!/usr/bin/env bash
# demo_stops_everything: the main job stops every process it started and
# frees its ports, whether it ends by DEMO_ONCE or is interrupted with
# Ctrl-C (SIGINT) or SIGTERM while it runs; its data folder is 0700.
#
#   LUONG_DEMO_BUILD=<build folder> bash tests/scripts/demo_stops_everything.sh
#
# It runs the demo on the binaries already built there, in a throw-away
# copy of deploy/sandbox on free ports, so it never touches the tree's demo.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${LUONG_DEMO_BUILD:?the build folder to test}" && pwd)
for bin in host/luong sandbox/luong-sandbox; do
  [ -x "$build/$bin" ] || { echo "FAIL: $build/$bin is not built" >&2; exit 1; }
done
work=$(mktemp -d /tmp/luong-demo-test-XXXXXX)
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Five ports nobody listens on, below the kernel's ephemeral range so
# other tests binding port 0 cannot take them meanwhile.
ports=()
while [ ${#ports[@]} -lt 5 ]; do
  p=$((20000 + RANDOM % 12000))
  [[ " ${ports[*]} " == *" $p "* ]] || listening "$p" || ports+=("$p")
done
export HOST_PORT=${ports[0]} MISA_PORT=${ports[1]} CRM_PORT=${ports[2]} KHO_PORT=${ports[3]} HARAVAN_PORT=${ports[4]}
export LUONG_DEMO_BUILD=$build LUONG_DEMO_PREBUILT=1

# PIDs of processes whose environment names this run's deployment folder
# (given to the demo only, never exported here): the demo, run.sh, the
# host, the sandbox and anything they started.
mine() {
  local f pid
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = $$ ] && continue
    { tr '\0' '\n' < "$f"; } 2>/dev/null | grep -qxF "LUONG_DEMO_DEPLOY=$deploy" &&
      echo "$pid"
  done
  return 0
}

# Nothing of run $1 is left, and its ports are free.
check_clean() {
  local left p
  left=$(mine | tr '\n' ' ')
  if [ -n "$left" ]; then
    fail "$1: processes left: $left"
    for p in $left; do
      tr '\0' ' ' < "/proc/$p/cmdline" >&2 2>/dev/null; echo >&2
      kill -KILL "$p" 2>/dev/null || true
    done
  fi
  for p in "${ports[@]}"; do
    listening "$p" && fail "$1: port $p still taken"
  done
  return 0
}

wait_healthy() {
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$HOST_PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Whether process $1 runs (a zombie waiting to be reaped does not).
running() {
  local st
  { read -r st < "/proc/$1/stat"; } 2>/dev/null || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}

# Runs the demo as run $1: to the end with DEMO_ONCE if $2 is empty, else
# sends signal $2 to its group (as Ctrl-C does) once the host answers.
# Sets rc to its exit code (-1 if it did not return within 30 s).
run_demo() {
  local name=$1 sig=${2:-} demo t0
  deploy=$work/$name
  set -m # a group of its own, and SIGINT not ignored as in a background job
  if [ -z "$sig" ]; then
    LUONG_DEMO_DEPLOY=$deploy DEMO_ONCE=1 bash "$repo/scripts/demo.sh" \
      > "$work/$name.out" 2>&1 &
  else
    LUONG_DEMO_DEPLOY=$deploy bash "$repo/scripts/demo.sh" \
      > "$work/$name.out" 2>&1 &
  fi
  demo=$!
  set +m
  if [ -n "$sig" ]; then
    wait_healthy || fail "$name: the host did not start"
    kill "-$sig" -- "-$demo" 2>/dev/null || true
  fi
  t0=$SECONDS
  while running "$demo" && [ $((SECONDS - t0)) -lt 30 ]; do
    sleep 0.1
  done
  if running "$demo"; then
    fail "$name: the demo did not return within 30 s"
    kill -KILL -- "-$demo" 2>/dev/null || true
  fi
  rc=0
  wait "$demo" || rc=$?
  running "$demo" && rc=-1
  echo "$name: returned $rc after $((SECONDS - t0)) s"
}

# 1. DEMO_ONCE: the story runs, the demo returns 0 and leaves nothing.
run_demo once
[ "$rc" -eq 0 ] || { fail "once: the demo failed"; cat "$work/once.out" >&2; }
grep -q "Where to look" "$work/once.out" || fail "once: the story did not run"
check_clean once
mode=$(stat -c %a "$deploy/var" 2>/dev/null || echo none)
[ "$mode" = 700 ] || fail "once: the data folder is $mode, not 700"

# 2. and 3. Interrupted while it runs: Ctrl-C (SIGINT to the terminal's
# foreground group) and SIGTERM.
for sig in INT TERM; do
  run_demo "$sig" "$sig"
  [ "$rc" -ne 0 ] || fail "$sig: the demo returned 0 when interrupted"
  check_clean "$sig"
done

[ "$fails" -eq 0 ] || { echo "see $work" >&2; exit 1; }
rm -rf "$work"
echo "ok: nothing left running, ports free"
