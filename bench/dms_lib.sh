# dms_lib.sh - shared by bench/dms_*.sh: builds (unless told not to), starts
# luong-sandbox's MISA and DMS on free ports and a host in a throw-away
# deployment with the given flows of flows/dms and deploy/dms's mappings.
# Sourced; sets $work, $build, $misa, $dms, $hostpid and helper functions.
cd "$(dirname "$0")/.."
build=${LUONG_BENCH_BUILD:-build-bench}
if [ -z "${LUONG_BENCH_NO_BUILD:-}" ]; then
	bash scripts/deps.sh
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DLUONG_SANITIZE=OFF >/dev/null
	cmake --build "$build" -j"$(nproc)" --target luong luong-sandbox \
		misa-amis mobiwork-dms >/dev/null
fi
work=$(mktemp -d)
hostpid= sbxpid=
cleanup() {
	[ -z "$hostpid" ] || kill "$hostpid" 2>/dev/null || true
	[ -z "$sbxpid" ] || kill "$sbxpid" 2>/dev/null || true
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT

"$build/sandbox/luong-sandbox" --only misa,dms --seed "$PWD/sandbox/seed" \
	--ports-file "$work/ports.json" >"$work/sandbox.log" 2>&1 &
sbxpid=$!
for _ in $(seq 100); do [ -s "$work/ports.json" ] && break; sleep 0.05; done
misa=$(sed 's/.*"misa": *\([0-9]*\).*/\1/' "$work/ports.json")
dms=$(sed 's/.*"dms": *\([0-9]*\).*/\1/' "$work/ports.json")

# POST to an emulator: port, path, body (file with @)
post() { curl -sf -X POST -H 'Content-Type: application/json' --data-binary "$3" "http://127.0.0.1:$1$2" >/dev/null; }
# requests an emulator has served so far (its request log's last seq)
served() { curl -s "http://127.0.0.1:$1/_sandbox/requests?since=999999999" | sed 's/.*"last": *\([0-9]*\).*/\1/'; }
cpu() { awk '{printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$hostpid/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$hostpid/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$hostpid/status"; }
# documents of a flow in a status (luong flows list), 0 when none
count() { # flow status
	local n
	n=$("$build/host/luong" -c "$work/luong.json" flows list 2>/dev/null |
		awk -v f="$1" -v s="$2=" '$1 == f { for (i = 4; i <= NF; i++)
			if (index($i, s) == 1) print substr($i, length(s) + 1) }')
	echo "${n:-0}"
}

# start_host FLOW_FILE... (each may be "file:every" to set its interval)
start_host() {
	mkdir -p "$work"/{plugins,flows,connections,mappings}
	ln -sf "$PWD/$build/plugins/misa-amis.so" "$work/plugins/"
	ln -sf "$PWD/$build/plugins/mobiwork-dms.so" "$work/plugins/"
	cp deploy/dms/mappings/*.json "$work/mappings/"
	for f in "$@"; do
		every=${f#*:}
		f=${f%%:*}
		if [ "$every" != "$f" ]; then
			sed "s/\"every\": \"[0-9a-z]*\"/\"every\": \"$every\"/" \
				"flows/dms/$f" >"$work/flows/$f"
		else
			cp "flows/dms/$f" "$work/flows/$f"
		fi
		[ -z "${FLOW_SED:-}" ] || sed -i "$FLOW_SED" "$work/flows/$f"
	done
	printf 'bench-token\n' >"$work/admin.token"
	chmod 600 "$work/admin.token"
	cat >"$work/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"},
 "workers": ${WORKERS:-2}, "sync": "full", "log_level": "info"}
JSON
	cat >"$work/connections/misa.json" <<JSON
{"plugin": "misa-amis", "config": {"server": "http://127.0.0.1:$misa",
 "app_id": "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57",
 "access_code": {"env": "MISA_ACCESS_CODE"},
 "org_company_code": "congtyanphat"}}
JSON
	cat >"$work/connections/dms.json" <<JSON
{"plugin": "mobiwork-dms", "config": {"server": "http://127.0.0.1:$dms",
 "user_id": "anphat_api", "token_key": {"env": "DMS_TOKEN_KEY"},
 "poll_from": "01/01/2025", "page_size": 1000}}
JSON
	. deploy/dms/env.sh
	"$build/host/luong" -c "$work/luong.json" run 2>"$work/host.log" &
	hostpid=$!
	for _ in $(seq 200); do
		hostport=$(sed -n 's/.*ready on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/host.log" | head -1)
		[ -n "$hostport" ] && break
		sleep 0.05
	done
	post "$misa" /_sandbox/webhooks "{\"url\": \"http://127.0.0.1:$hostport/hooks/misa/callback\"}"
}
