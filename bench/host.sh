#!/usr/bin/env bash
# Host benchmark. Sends N webhook events through a one-step flow (the
# probe plugin's "deliver" action) to a local sink, with the durable
# store on (sync=full: every commit fsynced; a webhook is answered only
# after its commit). Prints events/s, latency from webhook to sink (p50,
# p99) at 1, 16 and 64 concurrent senders, idle and peak RSS, and the
# time from start to ready.
#   N=20000 bash bench/host.sh
# LINK=1: the step also records a link (SPEC B11), which costs a claim
# and a record in the store per document (two more group commits).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=${LUONG_BENCH_BUILD:-build-bench}
N=${N:-20000}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUONG_SANITIZE=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target luong probe luong-test-sink luong-loadgen >/dev/null

work=$(mktemp -d)
trap 'kill $hostpid $sinkpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
"$build/tests/integration/luong-test-sink" "$work/sink.port" & sinkpid=$!
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.05; done
sinkport=$(cat "$work/sink.port")

mkdir -p "$work"/{plugins,flows,connections,mappings}
ln -s "$PWD/$build/tests/integration/probe.so" "$work/plugins/probe.so"
printf 'bench-token\n' > "$work/admin.token"; chmod 600 "$work/admin.token"
cat > "$work/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"},
 "workers": ${WORKERS:-2}, "sync": "full", "log_level": "${LOG_LEVEL:-info}"}
JSON
cat > "$work/connections/probe.json" <<JSON
{"plugin": "probe", "config": {"target": "http://127.0.0.1:$sinkport"}}
JSON
link=
[ -n "${LINK:-}" ] && link=', "link": {"kind": "delivery", "id": ".id"}'
cat > "$work/flows/relay.json" <<JSON
{"id": "relay", "trigger": {"connection": "probe", "event": "thing.saved"},
 "steps": [{"id": "send", "connection": "probe", "action": "deliver",
            "input": {"doc": ".id", "sent_us": ".sent_us"}$link}]}
JSON

line=$("$build/bench/luong-loadgen" start "$work/var/port" /healthz -- \
  sh -c "exec '$PWD/$build/host/luong' -c '$work/luong.json' run 2>'$work/host.log'")
hostpid=$(echo "$line" | sed 's/pid=\([0-9]*\).*/\1/')
ready=$(echo "$line" | sed 's/.*ready_ms=//')
port=$(cat "$work/var/port")
sleep 1
idle=$(awk '/VmRSS/ {print $2}' "/proc/$hostpid/status")

echo "host benchmark: $N events per run, durable store (sync=full), $(nproc) cores${LINK:+, each linked}"
echo "ready_ms=$ready idle_rss_kb=$idle"
for c in ${CONC:-1 16 64}; do
  "$build/bench/luong-loadgen" send "http://127.0.0.1:$port" \
    "http://127.0.0.1:$sinkport" "$N" "$c" "c$c-"
done
peak=$(awk '/VmHWM/ {print $2}' "/proc/$hostpid/status")
echo "peak_rss_kb=$peak"
