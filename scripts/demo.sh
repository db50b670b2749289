#!/usr/bin/env bash
# The main job: builds Luồng, starts the sandbox emulators of MISA AMIS,
# AMIS CRM and AMIS Kho with the host and the shipped AMIS Workflow flows
# (deploy/sandbox), then acts as the salespeople, storekeepers and
# accountants so you can watch documents flow. It keeps running for you to
# explore (docs/workflow.md) until Ctrl-C; DEMO_ONCE=1 stops after the story.
# Whichever way it ends (Ctrl-C, SIGTERM, DEMO_ONCE, a failure) it stops
# everything it started before it returns.
#
# For tests: LUONG_DEMO_BUILD=dir uses that build folder (default
# build-demo); LUONG_DEMO_PREBUILT=1 uses its binaries as they are (no
# package check, no build); LUONG_DEMO_DEPLOY=dir runs the deployment in
# dir with the ports HOST_PORT, MISA_PORT, CRM_PORT, KHO_PORT (see
# deploy/sandbox/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LUONG_DEMO_BUILD:-build-demo}
if [ -z "${LUONG_DEMO_PREBUILT:-}" ]; then
  bash scripts/deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target luong luong-sandbox misa-amis amis-crm amis-kho >/dev/null
fi
deploy=${LUONG_DEMO_DEPLOY:-deploy/sandbox}
HOST=${HOST_PORT:-8080} CRM=${CRM_PORT:-18082} KHO=${KHO_PORT:-18083} MISA=${MISA_PORT:-18081}

# Processes of group $1 that still run (zombies are already gone).
group_alive() {
  local f st state pgrp
  for f in /proc/[0-9]*/stat; do
    { read -r st < "$f"; } 2>/dev/null || continue
    read -r state _ pgrp _ <<<"${st##*) }"
    [ "$pgrp" = "$1" ] && [ "$state" != Z ] && return 0
  done
  return 1
}

# run.sh and all it started share one process group: stop the group, wait
# until it is empty (10 s, then SIGKILL), and reap run.sh.
runner=
stop_all() {
  trap - EXIT INT TERM HUP
  [ -n "$runner" ] || return 0
  kill -TERM -- "-$runner" 2>/dev/null || true
  for _ in $(seq 100); do
    group_alive "$runner" || break
    sleep 0.1
  done
  kill -KILL -- "-$runner" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if curl -s -o /dev/null "http://127.0.0.1:$HOST/healthz"; then
  echo "port $HOST already answers (another demo or host?); stop it first" >&2
  exit 1
fi
# The sandbox starts from its seed every time, so the demo's ledger does too.
umask 077
rm -rf "$deploy/var"
mkdir -p -m 700 "$deploy/var"
set -m # run.sh gets a process group of its own, away from the terminal's Ctrl-C
DEPLOY="$deploy" BUILD="$build" deploy/sandbox/run.sh > "$deploy/var/demo.log" 2>&1 &
runner=$!
set +m
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$HOST/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$HOST/healthz" >/dev/null || {
  echo "the host did not start; see $deploy/var/demo.log" >&2; exit 1; }

. deploy/sandbox/env.sh
luong() { "$build/host/luong" -c "$deploy/luong.json" "$@"; }
act() { curl -s -X POST "http://127.0.0.1:$1/_sandbox/act/$2" -d "$3"; echo; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "The shipped flows and their modes"
luong flows list

say "W1  A salesperson saves a revenue request on CRM order DH00001 (3 lines): the order goes to AMIS Kho"
act $CRM save_revenue_request '{"sale_order_no": "DH00001"}' >/dev/null
say "W1  ...and on the parent order DH00002, which the flow skips"
act $CRM save_revenue_request '{"sale_order_no": "DH00002"}' >/dev/null
sleep 1.5
luong docs order-to-warehouse

say "W2+W3  The storekeeper issues 8 units of SP001 for DH00001 (phiếu xuất kho bán hàng)"
act $KHO save_issue_note '{"sale_order_no": "DH00001", "lines": [{"item_code": "SP001", "quantity": 8}]}' >/dev/null
sleep 1.5
echo "-- CRM now shows the delivery (W2):"
luong docs warehouse-status-to-crm
echo "-- the note waits for the accountant (W3 is manual):"
luong docs issue-note-to-accounting

say "W3  The accountant pushes it to MISA AMIS Kế toán (Đẩy sang kế toán)"
luong push issue-note-to-accounting --all >/dev/null
sleep 2.5
luong docs issue-note-to-accounting

say "W1r The salesperson tries to recall the revenue request: refused, goods were already issued"
act $CRM recall_revenue_request '{"sale_order_no": "DH00001"}' |
  grep -o '"recalled":[a-z]*,"reason":"[^"]*"' || true

say "W3  Switched to automatic at run time; the next note goes to MISA on save"
luong flows mode issue-note-to-accounting automatic
act $KHO save_issue_note '{"type": "other_issue", "stock_code": "KHO_HN", "lines": [{"item_code": "SP002", "quantity": 2}]}' >/dev/null
sleep 2.5
luong docs issue-note-to-accounting

say "Where to look"
cat <<MSG
  host log ............ $deploy/var/demo.log
  metrics ............. curl -s http://127.0.0.1:$HOST/metrics
  MISA vouchers ....... curl -s http://127.0.0.1:$MISA/_sandbox/state
  Kho documents ....... curl -s http://127.0.0.1:$KHO/_sandbox/state
  CRM orders .......... curl -s http://127.0.0.1:$CRM/_sandbox/state
  the CLI ............. . deploy/sandbox/env.sh; $build/host/luong -c $deploy/luong.json --help
  walkthrough ......... docs/workflow.md
MSG
[ -n "${DEMO_ONCE:-}" ] && exit 0
echo; echo "running; Ctrl-C stops the host and the sandbox"
wait $runner
