#!/usr/bin/env bash
# DMS stock benchmark (issue 12): flow D4, stock per item and warehouse
# from MISA AMIS to MobiWork DMS, over ITEMS items in 3 warehouses, through
# the sandbox's emulators. After the first full sync, CHANGED_PCT% of the
# balances are changed in MISA and one cycle is measured: the host's CPU
# seconds (utime+stime from /proc), the requests it sent to DMS (writes)
# and to MISA (reads); then one cycle with nothing changed.
#   ITEMS=5000 CHANGED_PCT=1 EVERY=20s bash bench/dms_stock.sh
set -euo pipefail
ITEMS=${ITEMS:-5000}
CHANGED_PCT=${CHANGED_PCT:-1}
EVERY=${EVERY:-20s}
. "$(dirname "$0")/dms_lib.sh"

awk -v n="$ITEMS" 'BEGIN {
	printf "{\"items\": ["
	for (i = 1; i <= n; i++)
		printf "%s{\"inventory_item_id\": \"f7000000-0000-4000-8000-%012d\", \"inventory_item_code\": \"HH%05d\", \"inventory_item_name\": \"Hàng hóa %d\", \"inventory_item_type\": 0, \"unit_name\": \"Thùng\", \"unit_price\": 10000, \"sale_price1\": 12000, \"vat_rate\": 10, \"inventory_item_category_code\": \"DOUONG\", \"inactive\": false}", (i > 1 ? "," : ""), i, i, i
	printf "], \"opening_stock\": ["
	split("KHO_HN KHO_HCM KHO_DN", k, " ")
	for (i = 1; i <= n; i++)
		for (w = 1; w <= 3; w++)
			printf "%s{\"inventory_item_code\": \"HH%05d\", \"stock_code\": \"%s\", \"quantity\": %d, \"unit_price\": 10000}", (i > 1 || w > 1 ? "," : ""), i, k[w], 100 + i % 50
	printf "]}"
}' >"$work/misa-seed.json"
awk -v n="$ITEMS" 'BEGIN {
	printf "{\"products\": ["
	for (i = 1; i <= n; i++)
		printf "%s{\"id\": %d, \"ma_sp\": \"HH%05d\", \"ten_sp\": \"Hàng hóa %d\", \"dvt_chan\": \"Thùng\", \"dvt_le\": \"Thùng\", \"hsqd\": 1, \"gia_ban\": 12000, \"thue_vat\": 10, \"nhom_sp\": \"DOUONG\", \"trang_thai\": 1, \"ngay_cap_nhat\": \"01/01/2025 08:00:00\"}", (i > 1 ? "," : ""), 700000 + i, i, i
	printf "]}"
}' >"$work/dms-seed.json"
post "$misa" /_sandbox/seed "@$work/misa-seed.json"
post "$dms" /_sandbox/seed "@$work/dms-seed.json"

# waits until neither emulator has had a request for 2 s
settle() {
	local a b
	a="$(served "$dms") $(served "$misa")"
	while sleep 2; b="$(served "$dms") $(served "$misa")"; [ "$a" != "$b" ]; do a=$b; done
}
# a cycle started: MISA got a read after $1 requests
wait_cycle() { while [ "$(served "$misa")" -le "$1" ]; do sleep 0.1; done; }

D4=dms-d4-ton-kho-sang-dms
t0=$(date +%s.%N)
start_host "d4-ton-kho-sang-dms.json:$EVERY"
while [ "$(count "$D4" synced)" -lt $((ITEMS * 3)) ]; do sleep 1; done
settle
t1=$(date +%s.%N)
echo "DMS stock benchmark (D4): $ITEMS items x 3 warehouses, $CHANGED_PCT% changed, every $EVERY, $(nproc) cores"
printf 'first full sync: %d balances written, %.1f s, host CPU %s s\n' \
	"$(count "$D4" synced)" "$(echo "$t1 - $t0" | bc)" "$(cpu)"

changed=$((ITEMS * 3 * CHANGED_PCT / 100))
for i in $(seq 1 "$changed"); do
	w=$(((i - 1) % 3))
	k=(KHO_HN KHO_HCM KHO_DN)
	post "$misa" /_sandbox/act/set_stock \
		"{\"inventory_item_code\": \"$(printf 'HH%05d' $(((i * 7919) % ITEMS + 1)))\", \"stock_code\": \"${k[$w]}\", \"quantity\": $((1000 + i))}"
done
for run in changed unchanged; do
	c0=$(cpu) m0=$(served "$misa") d0=$(served "$dms")
	wait_cycle "$m0"
	settle
	c1=$(cpu) m1=$(served "$misa") d1=$(served "$dms")
	printf 'cycle (%s): host CPU %.2f s, requests to DMS %d, reads of MISA %d\n' \
		"$([ $run = changed ] && echo "$changed balances changed" || echo "nothing changed")" \
		"$(echo "$c1 - $c0" | bc)" "$((d1 - d0))" "$((m1 - m0))"
done
echo "peak_rss_kb=$(hwm_kb)"
