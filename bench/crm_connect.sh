#!/usr/bin/env bash
# Connect benchmark (issue 14): AMIS CRM with CUSTOMERS customers and
# PRODUCTS products that accounting does not have yet, connected to MISA
# AMIS by the connect sequence crm-ke-toan (luong connect) through the
# shipped c*-*.json flows and the sandbox's emulators. Prints the time
# until everything is in accounting, the host's peak memory (VmHWM) and
# the requests each emulator served; then a steady state where
# CHANGE_PCT% of the customers and products are edited in CRM (and the
# same share of products in accounting), with what that costs.
#   CUSTOMERS=20000 PRODUCTS=10000 CHANGE_PCT=1 bash bench/crm_connect.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LUONG_BENCH_BUILD:-build-bench}
CUSTOMERS=${CUSTOMERS:-20000}
PRODUCTS=${PRODUCTS:-10000}
CHANGE_PCT=${CHANGE_PCT:-1}
if [ -z "${LUONG_BENCH_NO_BUILD:-}" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUONG_SANITIZE=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target luong luong-sandbox misa-amis amis-crm >/dev/null
fi

work=$(mktemp -d)
hostpid= sbxpid=
trap 'kill $hostpid $sbxpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# ---- the sandbox: CRM with the generated catalogues, MISA as seeded
mkdir -p "$work/seed"
cp sandbox/seed/misa.json "$work/seed/misa.json"
jq --argjson nc "$CUSTOMERS" --argjson np "$PRODUCTS" '
  .Customers += [range($nc) | {account_number: ("KHB" + (10000000 + . | tostring)),
                   account_name: ("Khách hàng thử " + (. | tostring)),
                   office_tel: ("09" + (10000000 + . | tostring)),
                   customer_group_code: (if . % 2 == 0 then "NPP" else "DAILY" end)}]
  | .Product += [range($np) | {product_code: ("SPB" + (10000000 + . | tostring)),
                   product_name: ("Hàng thử " + (. | tostring)), usage_unit: "Hộp",
                   unit_price: (1000 + . % 500 * 100), tax: 8,
                   product_group_code: "THUCPHAM"}]
  | .SaleOrders = [] | .RevenueRequests = [] | .Quotes = []' \
  sandbox/seed/crm.json > "$work/seed/crm.json"
"$build/sandbox/luong-sandbox" --only misa,crm --seed "$work/seed" \
  --ports-file "$work/ports.json" >"$work/sandbox.log" 2>&1 & sbxpid=$!
for _ in $(seq 600); do [ -s "$work/ports.json" ] && break; sleep 0.1; done
misa=$(jq .misa "$work/ports.json") crm=$(jq .crm "$work/ports.json")

# ---- the host: the C flows and the connect plan
mkdir -p "$work"/{plugins,flows/connect,connections,mappings}
for p in misa-amis amis-crm; do ln -s "$PWD/$build/plugins/$p.so" "$work/plugins/$p.so"; done
cp flows/c[0-8]-*.json "$work/flows/"
cp flows/connect/crm-ke-toan.json "$work/flows/connect/"
cp deploy/sandbox/mappings/{crm_settings,crm_voucher_types,misa_status_to_crm}.json "$work/mappings/"
printf 'bench-token\n' > "$work/admin.token"; chmod 600 "$work/admin.token"
cat > "$work/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"},
 "workers": ${WORKERS:-4}, "log_level": "info"}
JSON
cat > "$work/connections/misa.json" <<JSON
{"plugin": "misa-amis", "config": {"server": "http://127.0.0.1:$misa",
 "app_id": "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57",
 "access_code": {"env": "MISA_ACCESS_CODE"},
 "org_company_code": "congtyanphat"}}
JSON
cat > "$work/connections/crm.json" <<JSON
{"plugin": "amis-crm", "config": {"server": "http://127.0.0.1:$crm/crm/gc/api/public/api/v2",
 "client_id": "3e8a1c52-6b7d-4f09-a2c4-5d1e9b7f8a60",
 "client_secret": {"env": "AMIS_CRM_CLIENT_SECRET"},
 "webhook_secret": {"env": "AMIS_CRM_WEBHOOK_SECRET"}}}
JSON
# the sandbox's seed credentials, by reference as always
export MISA_ACCESS_CODE=bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8tMjAyNS1jb25nLXR5LWFuLXBoYXQ=
export AMIS_CRM_CLIENT_SECRET=Y3JtLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ=
export AMIS_CRM_WEBHOOK_SECRET=bench-crm-secret
luong() { "$build/host/luong" -c "$work/luong.json" "$@"; }
served() { curl -s "http://127.0.0.1:$1/_sandbox/requests?since=999999999999" | jq .last; }
cpu() { awk '{printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$hostpid/stat"; }
# documents of the C flows not yet synced, skipped or failed
open_docs() {
  curl -s -H 'Authorization: Bearer bench-token' "http://127.0.0.1:$(cat "$work/port")/api/flows" |
    jq '[(if type == "array" then .[] else .flows[] end) | .documents | ((.pending // 0) + (.syncing // 0))] | add // 0'
}
settle() { # until no document is open and the host idles, 3 s in a row
  local n=0 a b
  a=$(cpu)
  while [ $n -lt 3 ]; do
    sleep 1; b=$(cpu)
    if [ "$(open_docs)" = 0 ] && [ "$(echo "$b - $a < 0.05" | bc)" = 1 ]; then n=$((n + 1)); else n=0; fi
    a=$b
  done
}

"$build/host/luong" -c "$work/luong.json" run 2>"$work/host.log" & hostpid=$!
for _ in $(seq 300); do grep -q 'ready on' "$work/host.log" && break; sleep 0.1; done
grep -q 'ready on' "$work/host.log" || { cat "$work/host.log"; exit 1; }
hostport=$(sed -n 's/.*ready on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/host.log" | head -1)
echo "$hostport" > "$work/port"
curl -s -X POST "http://127.0.0.1:$misa/_sandbox/webhooks" \
  -d "{\"url\": \"http://127.0.0.1:$hostport/hooks/misa/callback\"}" >/dev/null
curl -s -X POST "http://127.0.0.1:$crm/_sandbox/webhooks" \
  -d "{\"url\": \"http://127.0.0.1:$hostport/hooks/crm/events\", \"secret\": \"bench-crm-secret\"}" >/dev/null
settle # the first polls bring accounting's few records to CRM

echo "crm connect benchmark: $CUSTOMERS customers and $PRODUCTS products only in CRM, $(nproc) cores"
m0=$(served "$misa") c0=$(served "$crm") u0=$(cpu) t0=$(date +%s.%N)
luong connect crm-ke-toan >"$work/connect.out"
t1=$(date +%s.%N)
settle
t2=$(date +%s.%N)
m1=$(served "$misa") c1=$(served "$crm") u1=$(cpu)
have=$(curl -s "http://127.0.0.1:$misa/_sandbox/state" |
  jq '[.account_objects[] | select(.account_object_code | startswith("KHB"))] | length')
items=$(curl -s "http://127.0.0.1:$misa/_sandbox/state" |
  jq '[.items[] | select(.inventory_item_code | startswith("SPB"))] | length')
tail -9 "$work/connect.out" | head -8
printf 'connect sequence: %.1f s (its reads and hand-over), %.1f s until accounting had everything\n' \
  "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t0" | bc)"
printf 'in accounting: %s of %s customers, %s of %s products\n' "$have" "$CUSTOMERS" "$items" "$PRODUCTS"
printf 'requests: MISA %d, CRM %d; host CPU %.1f s; peak_rss_kb=%s\n' \
  "$((m1 - m0))" "$((c1 - c0))" "$(echo "$u1 - $u0" | bc)" \
  "$(awk '/VmHWM/ {print $2}' "/proc/$hostpid/status")"

# accounting's next polls read back what the host wrote (echoes, passed
# over): let them pass before the steady state is measured
u2=$(cpu); sleep 31; settle
printf 'read-back of the writes by the next polls (echoes): host CPU %.1f s\n' "$(echo "$(cpu) - $u2" | bc)"

# ---- steady state: CHANGE_PCT% edited in CRM, and products in MISA
nc=$((CUSTOMERS * CHANGE_PCT / 100)) np=$((PRODUCTS * CHANGE_PCT / 100))
m0=$(served "$misa") c0=$(served "$crm") u0=$(cpu) t0=$(date +%s.%N)
for i in $(seq 0 $((nc - 1))); do
  curl -s -X POST "http://127.0.0.1:$crm/_sandbox/act/edit_customer" \
    -d "{\"account_number\": \"KHB$((10000000 + i * 97 % CUSTOMERS))\", \"office_tel\": \"0243$i\"}" >/dev/null
done
for i in $(seq 0 $((np - 1))); do
  curl -s -X POST "http://127.0.0.1:$crm/_sandbox/act/edit_product" \
    -d "{\"product_code\": \"SPB$((10000000 + i * 89 % PRODUCTS))\", \"unit_price\": $((5000 + i))}" >/dev/null
  curl -s -X POST "http://127.0.0.1:$misa/_sandbox/act/edit_product" \
    -d "{\"inventory_item_code\": \"SPB$((10000000 + (i * 89 + 1) % PRODUCTS))\", \"inventory_item_name\": \"Hàng sửa ở kế toán $i\"}" >/dev/null
done
# until accounting's last edit is in CRM (its catalogues are polled every 30 s)
last="SPB$((10000000 + ((np - 1) * 89 + 1) % PRODUCTS))"
for _ in $(seq 60); do # (the control API's reads are not counted)
  curl -s "http://127.0.0.1:$crm/_sandbox/state" |
    jq -e --arg c "$last" '.Product[] | select(.product_code == $c) | .product_name | startswith("Hàng sửa ở kế toán")' >/dev/null && break
  sleep 2
done
settle
m1=$(served "$misa") c1=$(served "$crm") u1=$(cpu) t1=$(date +%s.%N)
printf 'steady %s%%: %d customers and %d products edited in CRM, %d products in MISA\n' \
  "$CHANGE_PCT" "$nc" "$np" "$np"
# (the sandbox's acts are not API requests: they are not counted)
printf '  requests the host made: MISA %d (polls included), CRM %d; host CPU %.1f s; %.1f s wall (polls every 30 s)\n' \
  "$((m1 - m0))" "$((c1 - c0))" "$(echo "$u1 - $u0" | bc)" "$(echo "$t1 - $t0" | bc)"
echo "peak_rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$hostpid/status")"
