#!/usr/bin/env bash
# Console page benchmark: fills one flow's ledger with 1,000,000 documents
# (80% synced, 10% failed under 5 reasons, 10% pending; received over 30
# days), starts the host on it and times the admin API calls the console's
# pages make: a page of 50 documents (all, by status, by day, by status and
# day, by document number, deep in the ledger), the failed groups, the flow
# list with its counts and the 24 h chart. Prints p50 and max of R runs
# (curl's total time on loopback, so the HTTP round trip is included).
#   R=20 bash bench/console_page.sh        (LUONG_BENCH_BUILD=dir: that build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LUONG_BENCH_BUILD:-build-bench}
R=${R:-20}
N=${N:-1000000}
if [ -z "${LUONG_BENCH_BUILD:-}" ]; then
  bash scripts/deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUONG_SANITIZE=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target luong probe >/dev/null
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 command" >&2; exit 1; }

work=$(mktemp -d)
hostpid=
trap '[ -z "$hostpid" ] || kill $hostpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work"/{plugins,flows,connections,mappings,var}
ln -s "$PWD/$build/tests/integration/probe.so" "$work/plugins/probe.so"
printf 'bench-token\n' > "$work/admin.token"; chmod 600 "$work/admin.token"
cat > "$work/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"},
 "workers": 2, "log_level": "warn"}
JSON
cat > "$work/connections/probe.json" <<JSON
{"plugin": "probe", "config": {"target": "http://127.0.0.1:9"}}
JSON
cat > "$work/flows/relay.json" <<'JSON'
{"id": "relay", "mode": "manual",
 "trigger": {"connection": "probe", "event": "thing.saved"},
 "steps": [{"id": "send", "connection": "probe", "action": "deliver",
            "input": {"doc": ".id"}}]}
JSON
luong() { "$PWD/$build/host/luong" -c "$work/luong.json" "$@"; }
luong users list >/dev/null 2>&1 # makes the store with the current schema

# received 2.6 s apart from 30 days ago; the newest is the last
t0=$(( $(date +%s) * 1000 - N * 2600 ))
s=$(date +%s.%N)
sqlite3 "$work/var/luong.db" <<SQL >/dev/null
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO docs(flow, doc_id, connection, event, seq, status, payload,
  payload_hash, attempts, reason, target, created_at, updated_at)
SELECT 'relay', printf('HD%07d', i), 'probe', 'thing.saved', i,
  CASE WHEN i % 10 = 0 THEN 0 WHEN i % 10 = 5 THEN 3 ELSE 2 END,
  printf('{"id":"HD%07d","customer":"Công ty TNHH An Phát %d","total_amount":%d,"lines":[{"item_code":"SP00%d","quantity":%d,"unit_price":192000}]}',
         i, i % 97, (i % 50 + 1) * 192000, i % 6 + 1, i % 50 + 1),
  'x', CASE WHEN i % 10 = 0 THEN 0 ELSE 1 END,
  CASE WHEN i % 10 = 5 THEN printf('step send: mapping warehouses has no entry for "K%d"', i % 5) END,
  CASE WHEN i % 10 NOT IN (0, 5) THEN printf('{"refno":"XK%07d"}', i) END,
  $t0 + i * 2600, $t0 + i * 2600 + 1500
FROM n;
COMMIT;
SQL
fill=$(echo "$(date +%s.%N) - $s" | bc)

"$PWD/$build/host/luong" -c "$work/luong.json" run 2>"$work/host.log" &
hostpid=$!
for _ in $(seq 300); do [ -s "$work/var/port" ] && curl -sf "http://127.0.0.1:$(cat "$work/var/port")/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
port=$(cat "$work/var/port")
api="http://127.0.0.1:$port/api"

# A keyset cursor half-way down, and a day in the middle (Vietnam time).
mid=$((N / 2))
mid_t=$((t0 + mid * 2600))
day=$(TZ=Asia/Ho_Chi_Minh date -d "@$((mid_t / 1000))" +%F)

time_call() { # label, path
  local times
  times=$(for _ in $(seq "$R"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'Authorization: Bearer bench-token' "$api$2"
  done | sort -n)
  printf '%-44s p50 %6.1f ms   max %6.1f ms   (%s)\n' "$1" \
    "$(echo "$times" | awk -v r="$R" 'NR == int((r + 1) / 2) {print $1 * 1000}')" \
    "$(echo "$times" | tail -1 | awk '{print $1 * 1000}')" \
    "$(curl -s -H 'Authorization: Bearer bench-token' "$api$2" | head -c 60)"
}

echo "console page benchmark: $N documents in one flow's ledger (filled in ${fill%.*} s), $R runs each, $(nproc) cores"
time_call "page: newest 50"                       "/flows/relay/page?limit=50"
time_call "page: failed"                          "/flows/relay/page?status=failed&limit=50"
time_call "page: pending"                         "/flows/relay/page?status=pending&limit=50"
time_call "page: one day ($day)"                  "/flows/relay/page?from=$day&to=$day&limit=50"
time_call "page: synced on one day"               "/flows/relay/page?status=synced&from=$day&to=$day&limit=50"
time_call "page: document number HD05000 (prefix)" "/flows/relay/page?q=HD05000&limit=50"
time_call "page: one document number"             "/flows/relay/page?q=HD0500012&limit=50"
time_call "page: half-way down (keyset)"          "/flows/relay/page?before_t=$mid_t&before=$mid&limit=50"
time_call "page: failed, half-way down"           "/flows/relay/page?status=failed&before_t=$mid_t&before=$mid&limit=50"
time_call "flows with counts (overview)"          "/flows"
time_call "24 h chart of the flow"                "/flows/relay/hourly"
time_call "failed grouped by reason"              "/failed"
