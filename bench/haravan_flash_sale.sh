#!/usr/bin/env bash
# Flash-sale benchmark (issue 13): N orders arrive on Haravan in one burst.
# The real haravan and misa-amis plugins, the shipped H flows and the
# sandbox's Haravan and MISA emulators. Each order becomes a MISA sales
# order (DDH_<id>) and then gets that number written back on the Haravan
# order (PUT orders/<id>.json: Haravan has no batch for orders), so the
# backlog is one Haravan call per order against Haravan's leaky bucket
# (80 calls, draining 4 per second, 429 + Retry-After when overfilled).
# The host paces the calls from the limit the plugin declares. Prints the
# time to drain, the 429s the host caused (target: 0) and the share of
# Haravan's allowed rate used while the backlog lasts (target: >= 90%).
#   bash bench/haravan_flash_sale.sh        (N=2000: about 9 minutes)
#   N=400 bash bench/haravan_flash_sale.sh  (about 2 minutes)
#   WORKERS=8 CAPACITY=80 LEAK=4 SENDERS=8  (the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=${LUONG_BENCH_BUILD:-build-bench}
N=${N:-2000}
CAPACITY=${CAPACITY:-80}
LEAK=${LEAK:-4}
SENDERS=${SENDERS:-8}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUONG_SANITIZE=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target luong luong-sandbox haravan misa-amis >/dev/null

work=$(mktemp -d)
hostpid= sbxpid= logpid=
trap 'kill $hostpid $sbxpid $logpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
"$build/sandbox/luong-sandbox" --only misa,haravan --seed sandbox/seed \
  --ports-file "$work/ports.json" 2>"$work/sandbox.log" & sbxpid=$!
for _ in $(seq 200); do [ -s "$work/ports.json" ] && break; sleep 0.05; done
port_of() { sed "s/.*\"$1\":\([0-9]*\).*/\1/" "$work/ports.json"; }
hrv="http://127.0.0.1:$(port_of haravan)"
misa="http://127.0.0.1:$(port_of misa)"
curl -sf -X POST "$hrv/_sandbox/act/set_rate_limit" \
  -d "{\"capacity\": $CAPACITY, \"leak_per_sec\": $LEAK}" >/dev/null

# the deployment: the order flows as shipped (H3 and H4 run on schedules
# of their own and are left out, so every Haravan call is an order's)
mkdir -p "$work"/{plugins,flows,connections,mappings}
for p in haravan misa-amis; do ln -s "$PWD/$build/plugins/$p.so" "$work/plugins/"; done
cp flows/h1-*.json flows/h2-*.json flows/h5-*.json "$work/flows/"
cp deploy/sandbox/mappings/*haravan*.json "$work/mappings/"
. deploy/sandbox/env.sh
printf 'bench-token\n' > "$work/admin.token"; chmod 600 "$work/admin.token"
cat > "$work/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"},
 "workers": ${WORKERS:-8}, "sync": "full", "log_level": "warn"}
JSON
cat > "$work/connections/haravan.json" <<JSON
{"plugin": "haravan", "config": {"server": "$hrv", "shop": "200000388812",
 "access_token": {"env": "HARAVAN_ACCESS_TOKEN"},
 "webhook_secret": {"env": "HARAVAN_WEBHOOK_SECRET"}}}
JSON
cat > "$work/connections/misa.json" <<JSON
{"plugin": "misa-amis", "config": {"server": "$misa",
 "app_id": "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57",
 "access_code": {"env": "MISA_ACCESS_CODE"}, "org_company_code": "congtyanphat"}}
JSON

"$build/host/luong" -c "$work/luong.json" run 2>"$work/host.log" & hostpid=$!
for _ in $(seq 400); do [ -s "$work/var/port" ] && break; sleep 0.05; done
port=$(cat "$work/var/port")
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
curl -sf -X POST "$misa/_sandbox/webhooks" \
  -d "{\"url\": \"http://127.0.0.1:$port/hooks/misa/callback\"}" >/dev/null
curl -sf -X POST "$hrv/_sandbox/webhooks" \
  -d "{\"url\": \"http://127.0.0.1:$port/hooks/haravan\", \"secret\": \"$HARAVAN_WEBHOOK_SECRET\"}" >/dev/null
cust=$(curl -sf "$hrv/_sandbox/state" | sed 's/.*"customers":\[{"id":\([0-9]*\).*/\1/')

# Haravan's request log keeps 4096 entries: read it as it grows.
: > "$work/requests"
( since=0
  while :; do
    curl -sf "$hrv/_sandbox/requests?since=$since" | sed 's/{"seq":/\n/g' |
      awk 'NR > 1 { split($0, a, ","); seq = a[1]
        match($0, /"time":"[^"]*"/); t = substr($0, RSTART + 8, RLENGTH - 9)
        match($0, /"method":"[A-Z]*"/); m = substr($0, RSTART + 10, RLENGTH - 11)
        match($0, /"path":"[^"]*"/); p = substr($0, RSTART + 8, RLENGTH - 9)
        s = $0; st = ""; while (match(s, /"status":[0-9]+/)) { st = substr(s, RSTART + 9, RLENGTH - 9); s = substr(s, RSTART + RLENGTH) }
        print seq, t, m, p, st }' >> "$work/requests"
    last=$(tail -n 1 "$work/requests" | cut -d' ' -f1)
    [ -n "$last" ] && since=$last
    sleep 1
  done ) & logpid=$!

# the flash sale: N orders created as fast as SENDERS buyers can
t0=$(date +%s%3N)
seq "$N" | xargs -P "$SENDERS" -I{} curl -s -o /dev/null -X POST "$hrv/_sandbox/act/create_order" \
  -d "{\"customer\": {\"id\": $cust}, \"location_id\": 1000001, \"gateway\": \"COD\",
       \"line_items\": [{\"sku\": \"SP002\", \"quantity\": 1, \"total_discount\": 5000},
                        {\"sku\": \"SP001\", \"quantity\": 2}],
       \"discount_codes\": [{\"code\": \"FLASH10K\", \"amount\": 10000, \"type\": \"fixed_amount\"}]}"
t_sent=$(date +%s%3N)
synced() {
  curl -sf "http://127.0.0.1:$port/metrics" |
    awk '/^luong_documents_synced_total\{flow="h2-don-dat-hang-haravan-sang-misa"\}/ {print $2}'
}
while :; do
  s=$(synced); [ "${s:-0}" -ge "$N" ] && break
  [ $(( $(date +%s%3N) - t0 )) -lt $(( N * 1000 / LEAK + 120000 )) ] ||
    { echo "gave up: $s of $N synced" >&2; break; }
  sleep 0.5
done
t1=$(date +%s%3N)
sleep 2 # the log reader's last round
kill $logpid 2>/dev/null || true; logpid=
failed=$(curl -sf "http://127.0.0.1:$port/metrics" |
  awk '/^luong_documents_failed_total\{flow="h2-don-dat-hang-haravan-sang-misa"\}/ {print $2}')

# the host's calls: everything on /com/ (the acts are the buyers')
sort -n -u "$work/requests" | awk '$4 ~ /^\/com\// {
    split(substr($2, 12, 12), a, /[:.]/)
    print ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4], $5 }' > "$work/calls"
awk -v n="$N" -v cap="$CAPACITY" -v leak="$LEAK" -v total="$((t1 - t0))" \
    -v sent="$((t_sent - t0))" -v failed="${failed:-0}" '
  { if (!calls) first = $1; t = $1 - first; if (t < 0) t += 86400000
    last = t; calls++; if ($2 == 429) e429++ }
  END {
    burst = cap - 1; steady = calls - burst; secs = last / 1000
    allowed = steady / leak
    printf "flash sale: %d orders, Haravan bucket %d draining %g/s, %s cores\n", n, cap, leak, "'"$(nproc)"'"
    printf "orders_created_in_s=%.1f (the burst, by the emulator'"'"'s acts)\n", sent / 1000
    printf "drain_s=%.1f (first order created to the last sales order made and marked on Haravan)\n", total / 1000
    printf "haravan_calls_by_host=%d 429s_caused_by_host=%d failed_documents=%d\n", calls, e429, failed
    printf "first_to_last_call_s=%.1f (the limit allows %d calls in %.1f s after the first %d)\n", secs, steady, allowed, burst
    printf "achieved_rate=%.2f/s allowed=%g/s used=%.1f%%\n", steady / secs, leak, 100 * allowed / secs }' "$work/calls"
