#!/usr/bin/env bash
# Rate limit benchmark. A backlog of N documents (one webhook) goes
# through a one-step flow whose action creates a product in the sandbox's
# Haravan emulator (bench/plugin/haravan_bench.c), which keeps Haravan's
# leaky bucket (80 calls, draining 4 per second) and answers 429 when it
# overflows. The host paces the calls itself. Prints the 429s the host
# caused (target: 0), the achieved rate against the allowed one while the
# backlog lasts (target: >= 90%), and the total time.
#   N=600 bash bench/ratelimit.sh          (about 2.5 minutes)
#   WORKERS=8 CAPACITY=80 LEAK=4           (the defaults)
#   OTHER=1   another client of the shop spends 1 call a second of the
#             same bucket; the host learns it from X-Haravan-Api-Call-Limit
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=${LUONG_BENCH_BUILD:-build-bench}
N=${N:-600}
CAPACITY=${CAPACITY:-80}
LEAK=${LEAK:-4}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUONG_SANITIZE=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target luong luong-sandbox haravan-bench >/dev/null
[ "$N" -le 4000 ] || { echo "N must be 4000 or less (the emulator logs 4096 requests)" >&2; exit 1; }

work=$(mktemp -d)
hostpid= sbxpid=
trap 'kill $hostpid $sbxpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
"$build/sandbox/luong-sandbox" --only haravan --seed sandbox/seed \
  --ports-file "$work/ports.json" 2>"$work/sandbox.log" & sbxpid=$!
for _ in $(seq 200); do [ -s "$work/ports.json" ] && break; sleep 0.05; done
hport=$(sed 's/.*"haravan":\([0-9]*\).*/\1/' "$work/ports.json")
emu="http://127.0.0.1:$hport"
curl -sf -X POST "$emu/_sandbox/act/set_rate_limit" \
  -d "{\"capacity\": $CAPACITY, \"leak_per_sec\": $LEAK}" >/dev/null

mkdir -p "$work"/{plugins,flows,connections,mappings}
ln -s "$PWD/$build/bench/haravan-bench.so" "$work/plugins/haravan-bench.so"
printf 'bench-token\n' > "$work/admin.token"; chmod 600 "$work/admin.token"
cat > "$work/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"},
 "workers": ${WORKERS:-8}, "sync": "full", "log_level": "warn"}
JSON
export HARAVAN_TOKEN=hrv_pat_anphat_full_7f3c9a41d2e8
cat > "$work/connections/haravan.json" <<JSON
{"plugin": "haravan-bench",
 "config": {"server": "$emu", "token": {"env": "HARAVAN_TOKEN"}}}
JSON
cat > "$work/flows/items-to-haravan.json" <<'JSON'
{"id": "items-to-haravan",
 "trigger": {"connection": "haravan", "event": "item.new"},
 "steps": [{"id": "create", "connection": "haravan", "action": "create_product",
            "input": {"title": ".title", "sku": ".id"}}]}
JSON

"$build/host/luong" -c "$work/luong.json" run 2>"$work/host.log" & hostpid=$!
for _ in $(seq 200); do [ -s "$work/var/port" ] && break; sleep 0.05; done
port=$(cat "$work/var/port")
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done

items=$(awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
  printf "%s{\"id\": \"SP%05d\", \"title\": \"Sản phẩm %d\"}", (i > 1 ? ", " : ""), i, i }')
if [ "${OTHER:-0}" != 0 ]; then
  # reads the shop at OTHER calls a second, as another app would
  ( while :; do curl -s -o /dev/null -H "Authorization: Bearer $HARAVAN_TOKEN" \
      "$emu/com/shop.json"; sleep "$(awk -v r="$OTHER" 'BEGIN { print 1 / r }')"; done ) &
  otherpid=$!
  trap 'kill $hostpid $sbxpid $otherpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fi
t0=$(date +%s%3N)
curl -sf -X POST "http://127.0.0.1:$port/hooks/haravan/items" \
  -H 'Content-Type: application/json' -d "{\"items\": [$items]}" >/dev/null
synced() {
  curl -sf "http://127.0.0.1:$port/metrics" |
    awk '/^luong_documents_synced_total\{flow="items-to-haravan"\}/ {print $2}'
}
while :; do
  s=$(synced); [ "${s:-0}" -ge "$N" ] && break
  [ $(( $(date +%s%3N) - t0 )) -lt $(( N * 1000 / LEAK + 60000 )) ] ||
    { echo "gave up: $s of $N synced" >&2; break; }
  sleep 0.2
done
t1=$(date +%s%3N)
waits=$(curl -sf "http://127.0.0.1:$port/metrics" |
  awk '/^luong_connection_rate_waits_total\{connection="haravan"\}/ {print $2}')

# One line per call Haravan saw: "<ms of day> <status> <path>".
curl -sf "$emu/_sandbox/requests?since=0" | sed 's/{"seq":/\n/g' |
  awk '/"path":"\/com\/(products|shop).json"/ {
    match($0, /"time":"[^"]*"/); t = substr($0, RSTART + 8, RLENGTH - 9)
    split(substr(t, 12, 12), a, /[:.]/)
    ms = ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4]
    match($0, /[^\\]"status":[0-9]+/); st = substr($0, RSTART + 10, RLENGTH - 10)
    print ms, st, ($0 ~ /"path":"\/com\/shop.json"/) ? "other" : "host" }' > "$work/calls"

awk -v n="$N" -v cap="$CAPACITY" -v leak="$LEAK" -v total="$((t1 - t0))" -v waits="$waits" -v other="${OTHER:-0}" '
  $3 == "other" { if ($2 == 429) other429++; next }
  { if (!calls) first = $1; t = $1 - first; if (t < 0) t += 86400000
    last = t; calls++; if ($2 == 429) e429++ }
  END {
    leak -= other; burst = cap - 1; steady = calls - burst
    secs = last / 1000; allowed = steady / leak
    printf "rate limit benchmark: %d documents, Haravan bucket %d draining %g/s, %s\n", n, cap, leak + other, "'"$(nproc)"' cores"
    if (other) printf "another client spends %g/s of it: the host is allowed %g/s; the other client got %d 429s\n", other, leak, other429
    printf "calls=%d 429s_caused_by_host=%d\n", calls, e429
    printf "first_to_last_call_s=%.1f (the limit allows %d calls in %.1f s after the first %d)\n", secs, steady, allowed, burst
    printf "achieved_rate=%.2f/s allowed=%g/s used=%.1f%%\n", steady / secs, leak, 100 * allowed / secs
    printf "total_s=%.1f (webhook to last synced)\n", total / 1000
    printf "requests_that_slept_in_a_worker=%s\n", waits }' "$work/calls"
