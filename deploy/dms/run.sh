#!/bin/sh
# Runs the MobiWork DMS ↔ MISA AMIS deployment against the sandbox: starts
# luong-sandbox (MISA on 18081, DMS on 18084), points DMS's webhooks and
# MISA's callback at the host, then runs the host on 127.0.0.1:8090 with
# the flows of flows/dms until it stops. Ctrl-C, SIGTERM or a failure
# stops both.
#
#   BUILD=build deploy/dms/run.sh       (default BUILD: <repo>/build)
#   deploy/dms/run.sh --demo            also enters and approves one
#                                       order in DMS, so it reaches MISA
#
# DEPLOY=dir runs a copy made in dir on HOST_PORT, MISA_PORT, DMS_PORT.
set -eu
umask 077
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${BUILD:-$repo/build}" && pwd)
deploy=${DEPLOY:-$here}
host_port=${HOST_PORT:-8090}
misa=${MISA_PORT:-18081} dms=${DMS_PORT:-18084}
demo=0
[ "${1:-}" = "--demo" ] && demo=1
. "$here/env.sh"

. "$repo/deploy/run_common.sh"

if [ "$(cd "$deploy" 2>/dev/null && pwd || echo)" != "$here" ]; then
	copy_deployment 8090 ../../flows/dms 18081="$misa" 18084="$dms"
elif [ "$host_port:$misa:$dms" != "8090:18081:18084" ]; then
	echo "run.sh: other ports need DEPLOY=<another folder>" >&2
	exit 2
fi

start_sandbox --only misa,dms --port misa="$misa" --port dms="$dms"
url=http://127.0.0.1:$host_port/hooks
sandbox_hook "$misa" "{\"url\": \"$url/misa/callback\"}"
sandbox_hook "$dms" \
	"{\"url\": \"$url/dms/\", \"secret\": \"$DMS_WEBHOOK_SECRET\"}"

echo "sandbox: MISA :$misa, DMS :$dms; host: http://127.0.0.1:$host_port"
start_host
if [ $demo = 1 ]; then
	i=0
	until curl -sf "http://127.0.0.1:$host_port/healthz" >/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	# a salesman's order of 3 lines, approved by the sales admin
	sandbox_post "$dms" /_sandbox/act/create_order '{"ma_kh":"KH0001","ma_nv":"NVBH01","ma_kho":"Hà Nội","hinh_thuc_thanh_toan":"Công nợ","chi_tiet":[{"ma_sp":"SP001","so_luong":10},{"ma_sp":"SP003","so_luong":5,"ty_le_chiet_khau":5},{"ma_sp":"SP002","so_luong":2}],"duyet":true}'
	echo "demo: order DH001001 approved in DMS; see it with:"
	echo "  . deploy/dms/env.sh; build/host/luong -c deploy/dms/luong.json doc dms-d3-don-duyet-sang-misa DH001001"
fi
wait_host
