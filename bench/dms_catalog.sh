#!/usr/bin/env bash
# DMS catalogue benchmark (issue 12): the first catalogue sync of a
# distributor, OUTLETS outlets from MobiWork DMS into MISA AMIS as
# customers (D1, read by the outlet poll: pages of 1,000, then one
# save_dictionary per outlet) and PRODUCTS goods from MISA AMIS into DMS
# (D2), through the sandbox's emulators. Prints progress every 2 s (synced
# documents, host RSS), then the time, the host's peak RSS and CPU, and
# the requests each emulator served.
#   OUTLETS=10000 PRODUCTS=5000 bash bench/dms_catalog.sh
set -euo pipefail
OUTLETS=${OUTLETS:-10000}
PRODUCTS=${PRODUCTS:-5000}
. "$(dirname "$0")/dms_lib.sh"

# the distributor's data: outlets in DMS, goods in MISA
awk -v n="$OUTLETS" 'BEGIN {
	printf "{\"outlets\": ["
	for (i = 1; i <= n; i++)
		printf "%s{\"id\": %d, \"ma_kh\": \"KB%05d\", \"tenkh\": \"Tạp hóa số %d\", \"dia_chi\": \"Số %d Phố Huế, Hà Nội\", \"sdt\": \"09%08d\", \"loai_kh\": \"Tạp hóa\", \"nhom_kh\": \"MB\", \"code_router\": \"T-HN-T2\", \"tinh_thanh_moi\": \"Hà Nội\", \"ma_so_thue\": null, \"ma_nv_tao\": \"NVBH01\", \"trang_thai\": 1, \"du_no\": 0, \"ngay_tao\": \"15/01/2025 08:00:00\"}", (i > 1 ? "," : ""), 600000 + i, i, i, i, i
	printf "]}"
}' >"$work/dms-seed.json"
awk -v n="$PRODUCTS" 'BEGIN {
	printf "{\"items\": ["
	for (i = 1; i <= n; i++)
		printf "%s{\"inventory_item_id\": \"f7000000-0000-4000-8000-%012d\", \"inventory_item_code\": \"HH%05d\", \"inventory_item_name\": \"Hàng hóa %d\", \"inventory_item_type\": 0, \"unit_name\": \"Thùng\", \"unit_price\": %d, \"sale_price1\": %d, \"vat_rate\": 10, \"inventory_item_category_code\": \"DOUONG\", \"inactive\": false}", (i > 1 ? "," : ""), i, i, i, 10000 + i, 12000 + i
	printf "]}"
}' >"$work/misa-seed.json"
post "$dms" /_sandbox/seed "@$work/dms-seed.json"
post "$misa" /_sandbox/seed "@$work/misa-seed.json"

D1=dms-d1-diem-ban-sang-misa D2=dms-d2-san-pham-sang-dms
t0=$(date +%s.%N)
# existing outlets are read by the poll (webhooks tell only new ones)
FLOW_SED='s/"event": "outlet.created"/"event": "outlet.created.poll"/' \
	start_host d1-diem-ban-thanh-khach-hang.json d2-san-pham-sang-dms.json:1h
echo "DMS catalogue benchmark: $OUTLETS outlets DMS -> MISA (D1), $PRODUCTS goods MISA -> DMS (D2), $(nproc) cores"
want_products=$((PRODUCTS + 5)) want_outlets=$((OUTLETS + 4)) # and the seeds
while :; do
	o=$(count "$D1" synced) p=$(count "$D2" synced)
	printf '  %6.1f s  outlets %d/%d  products %d/%d  host RSS %d kB\n' \
		"$(echo "$(date +%s.%N) - $t0" | bc)" "$o" "$want_outlets" "$p" \
		"$want_products" "$(rss_kb)"
	[ "$o" -ge "$want_outlets" ] && [ "$p" -ge "$want_products" ] && break
	sleep 2
done
t1=$(date +%s.%N)
printf 'first sync: %.1f s; host CPU %s s; peak RSS %s kB; MISA served %s requests, DMS %s\n' \
	"$(echo "$t1 - $t0" | bc)" "$(cpu)" "$(hwm_kb)" "$(served "$misa")" \
	"$(served "$dms")"
