#!/usr/bin/env bash
# The DMS demo: builds Luồng, starts the sandbox's MISA AMIS and MobiWork
# DMS with the host and the flows of flows/dms (deploy/dms), then acts as
# a salesman and a sales admin: an order of 3 lines approved in DMS
# reaches MISA as a sales voucher, and DMS shows it recorded. It keeps
# running for you to explore (docs/dms.md) until Ctrl-C; DEMO_ONCE=1
# stops after the story. It stops everything it started before it returns.
#
# LUONG_DEMO_BUILD=dir (default build-demo), LUONG_DEMO_PREBUILT=1 (no
# build), ports HOST_PORT (8090), MISA_PORT (18081), DMS_PORT (18084).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${LUONG_DEMO_BUILD:-build-demo}
if [ -z "${LUONG_DEMO_PREBUILT:-}" ]; then
	bash scripts/deps.sh
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j"$(nproc)" --target luong luong-sandbox \
		misa-amis mobiwork-dms >/dev/null
fi
HOST=${HOST_PORT:-8090} MISA=${MISA_PORT:-18081} DMS=${DMS_PORT:-18084}
deploy=deploy/dms
if [ "$HOST:$MISA:$DMS" != "8090:18081:18084" ]; then
	deploy=${LUONG_DEMO_DEPLOY:-$(mktemp -d)}
fi
if curl -s -o /dev/null "http://127.0.0.1:$HOST/healthz"; then
	echo "port $HOST already answers (another demo or host?); stop it first" >&2
	exit 1
fi

runner=
stop_all() {
	trap - EXIT INT TERM HUP
	[ -n "$runner" ] || return 0
	kill -TERM -- "-$runner" 2>/dev/null || true
	wait "$runner" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

umask 077
rm -rf "$deploy/var"
mkdir -p -m 700 "$deploy/var"
set -m # run.sh gets a process group of its own
DEPLOY="$deploy" BUILD="$build" HOST_PORT=$HOST MISA_PORT=$MISA \
	DMS_PORT=$DMS deploy/dms/run.sh >"$deploy/var/demo.log" 2>&1 &
runner=$!
set +m
for _ in $(seq 200); do
	curl -sf "http://127.0.0.1:$HOST/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -sf "http://127.0.0.1:$HOST/healthz" >/dev/null || {
	echo "the host did not start; see $deploy/var/demo.log" >&2
	exit 1
}

. deploy/dms/env.sh
luong() { "$build/host/luong" -c "$deploy/luong.json" "$@"; }
act() { curl -s -X POST "http://127.0.0.1:$1/_sandbox/act/$2" -d "$3"; echo; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
D3=dms-d3-don-duyet-sang-misa

say "Kết nối / connections"
luong plugins | sed -n '1,20p'
say "Nhân viên NVBH01 lên đơn 3 dòng, quản lý duyệt / a 3-line order, approved"
no=$(act "$DMS" create_order '{"ma_kh":"KH0001","ma_nv":"NVBH01","ma_kho":"Hà Nội","hinh_thuc_thanh_toan":"Công nợ","chi_tiet":[{"ma_sp":"SP001","so_luong":10},{"ma_sp":"SP003","so_luong":5,"ty_le_chiet_khau":5},{"ma_sp":"SP002","so_luong":2}],"duyet":true}' |
	sed -n 's/.*"ma_phieu":"\([^"]*\)".*/\1/p')
echo "order $no"
for _ in $(seq 100); do
	luong doc "$D3" "$no" 2>/dev/null | grep -q "\"status\":.*\"synced\"" && break
	sleep 0.1
done
say "Sổ cái / the ledger"
luong doc "$D3" "$no" | sed -n '1,25p'
say "Chứng từ trong MISA / the voucher in MISA (record links)"
luong links --flow "$D3"
say "Đơn trong DMS / the order in DMS"
curl -s -u "anphat_api:$DMS_TOKEN_KEY" "http://127.0.0.1:$DMS/OpenAPI/V1/Bill/$no" |
	grep -o '"\(ten_trang_thai\|trang_thai_ke_toan\|so_chung_tu_ke_toan\)":"[^"]*"' |
	sort -u
say "Host: http://127.0.0.1:$HOST (console), walkthrough: docs/dms.md"
[ -n "${DEMO_ONCE:-}" ] && exit 0
echo "Ctrl-C stops everything"
wait "$runner"
