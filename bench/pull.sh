#!/usr/bin/env bash
# Pull benchmark (issue 8): a poll that lists every item of a stock each
# time (bench/pullgen.c, ITEMS items, CHANGED_PCT% of them changed since
# the poll before) through a one-step flow with on_change "resend" to the
# test sink (probe's "deliver"). After the first full sync, measures three
# steady polls, each from the ledger settled to the ledger settled again
# (nothing pending or syncing in /metrics): the host's CPU seconds
# (utime+stime from /proc) and the requests the sink received. Target: at
# most 1 s of CPU and 1,000 requests for 100,000 items with 1% changed.
#   ITEMS=100000 CHANGED_PCT=1 bash bench/pull.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LUONG_BENCH_BUILD:-build-bench}
ITEMS=${ITEMS:-100000}
CHANGED_PCT=${CHANGED_PCT:-1}
EVERY=${EVERY:-30s}
if [ -z "${LUONG_BENCH_NO_BUILD:-}" ]; then
  bash scripts/deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUONG_SANITIZE=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target luong probe luong-test-sink pullgen >/dev/null
fi

work=$(mktemp -d)
hostpid= sinkpid=
trap 'kill $hostpid $sinkpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
"$build/tests/integration/luong-test-sink" "$work/sink.port" & sinkpid=$!
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.05; done
sinkport=$(cat "$work/sink.port")

mkdir -p "$work"/{plugins,flows,connections,mappings}
ln -s "$PWD/$build/tests/integration/probe.so" "$work/plugins/probe.so"
ln -s "$PWD/$build/bench/pullgen.so" "$work/plugins/pullgen.so"
printf 'bench-token\n' > "$work/admin.token"; chmod 600 "$work/admin.token"
cat > "$work/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"},
 "workers": ${WORKERS:-2}, "sync": "full", "log_level": "info"}
JSON
cat > "$work/connections/probe.json" <<JSON
{"plugin": "probe", "config": {"target": "http://127.0.0.1:$sinkport"}}
JSON
cat > "$work/connections/stock.json" <<JSON
{"plugin": "pullgen", "config": {"items": $ITEMS, "changed_pct": $CHANGED_PCT}}
JSON
cat > "$work/flows/stock.json" <<JSON
{"id": "stock", "on_change": "resend",
 "trigger": {"connection": "stock", "event": "stock.listed", "every": "$EVERY"},
 "steps": [{"id": "put", "connection": "probe", "action": "deliver",
            "input": {"sku": ".item_code", "qty": ".quantity"}}]}
JSON

sent() { curl -s "http://127.0.0.1:$sinkport/_stats" | sed 's/.*"total":\([0-9]*\).*/\1/'; }
cpu() { awk '{printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$hostpid/stat"; }
polls() { grep -c 'poll [0-9]*: ' "$work/host.log" || true; }
# documents of the flow the ledger has not yet marked synced: the
# writer may still be committing what the sink has already received
unsettled() {
  curl -s -H 'Authorization: Bearer bench-token' \
    "http://127.0.0.1:$(cat "$work/var/port")/metrics" |
    awk '/^luong_documents\{flow="stock",status="(pending|syncing)"\}/ {n += $2}
         END {print n + 0}'
}
# waits until the sink has had no request for 2 s and every document of
# the ledger is synced, so one poll's cost is not counted in the next
settle() {
  local a b
  a=$(sent)
  while sleep 2; b=$(sent); [ "$a" != "$b" ] || [ "$(unsettled)" != 0 ]; do
    a=$b
  done
}
wait_poll() { # waits for poll number $1 to be logged
  while [ "$(polls)" -lt "$1" ]; do sleep 0.2; done
}

t0=$(date +%s.%N)
"$build/host/luong" -c "$work/luong.json" run 2>"$work/host.log" & hostpid=$!
wait_poll 1
while [ "$(sent)" -lt "$ITEMS" ]; do sleep 0.5; done
settle
t1=$(date +%s.%N)
first_sent=$(sent) first_cpu=$(cpu)
echo "pull benchmark: $ITEMS items per poll, $CHANGED_PCT% changed between polls, every $EVERY, $(nproc) cores"
printf 'first full sync: %s requests, %.1f s, host CPU %s s\n' \
  "$first_sent" "$(echo "$t1 - $t0" | bc)" "$first_cpu"
# each steady poll after the first sync: CPU and requests it cost, from
# the ledger settled before it to the ledger settled after it
for run in 1 2 3; do
  n=$(polls)
  c0=$(cpu) s0=$(sent)
  wait_poll $((n + 1))
  settle
  c1=$(cpu) s1=$(sent)
  over=
  [ "$(polls)" -gt $((n + 1)) ] && over=' (the next poll began meanwhile: raise EVERY)'
  printf 'steady poll %d: host CPU %.2f s, requests sent %d (%s)%s\n' "$run" \
    "$(echo "$c1 - $c0" | bc)" "$((s1 - s0))" \
    "$(grep 'poll [0-9]*: ' "$work/host.log" | tail -1 | sed 's/.*poll /poll /')" "$over"
done
echo "peak_rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$hostpid/status")"
