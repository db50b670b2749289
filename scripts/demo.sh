#!/usr/bin/env bash
# The main job: builds Luồng, starts the sandbox emulators of MISA AMIS,
# AMIS CRM and AMIS Kho with the host and the shipped AMIS Workflow flows
# (deploy/sandbox), then acts as the salespeople, storekeepers and
# accountants so you can watch documents flow. It keeps running for you to
# explore (docs/workflow.md) until Ctrl-C; DEMO_ONCE=1 stops after the story.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=${LUONG_DEMO_BUILD:-build-demo}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target luong luong-sandbox misa-amis amis-crm amis-kho >/dev/null

# The sandbox starts from its seed every time, so the demo's ledger does too.
rm -rf deploy/sandbox/var
mkdir -p deploy/sandbox/var
BUILD="$build" deploy/sandbox/run.sh > deploy/sandbox/var/demo.log 2>&1 &
runner=$!
trap 'kill $runner 2>/dev/null; wait $runner 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 200); do
  curl -sf http://127.0.0.1:8080/healthz >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf http://127.0.0.1:8080/healthz >/dev/null || {
  echo "the host did not start; see deploy/sandbox/var/demo.log" >&2; exit 1; }

. deploy/sandbox/env.sh
CRM=18082 KHO=18083 MISA=18081
luong() { "$build/host/luong" -c deploy/sandbox/luong.json "$@"; }
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
  host log ............ deploy/sandbox/var/demo.log
  metrics ............. curl -s http://127.0.0.1:8080/metrics
  MISA vouchers ....... curl -s http://127.0.0.1:$MISA/_sandbox/state
  Kho documents ....... curl -s http://127.0.0.1:$KHO/_sandbox/state
  CRM orders .......... curl -s http://127.0.0.1:$CRM/_sandbox/state
  the CLI ............. . deploy/sandbox/env.sh; $build/host/luong -c deploy/sandbox/luong.json --help
  walkthrough ......... docs/workflow.md
MSG
[ -n "${DEMO_ONCE:-}" ] && exit 0
echo; echo "running; Ctrl-C stops the host and the sandbox"
wait $runner
