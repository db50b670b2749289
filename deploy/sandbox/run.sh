#!/bin/sh
# Runs the AMIS Workflow deployment against the sandbox: starts
# luong-sandbox (MISA, CRM and Kho on ports 18081-18083), points their
# webhooks and MISA's callback at the host, then runs the host in the
# foreground on 127.0.0.1:8080. Ctrl-C stops both.
#
#   BUILD=build deploy/sandbox/run.sh      (default BUILD: <repo>/build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${BUILD:-$repo/build}" && pwd)
. "$here/env.sh"

mkdir -p "$here/var"
ln -sfn "$build/plugins" "$here/plugins"
rm -f "$here/var/sandbox-ports.json"
"$build/sandbox/luong-sandbox" --only misa,crm,kho --seed "$repo/sandbox/seed" \
	--port misa=18081 --port crm=18082 --port kho=18083 \
	--ports-file "$here/var/sandbox-ports.json" &
sbx=$!
trap 'kill $sbx 2>/dev/null' EXIT INT TERM
i=0
while [ ! -s "$here/var/sandbox-ports.json" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "the sandbox did not start" >&2; exit 1; }
	sleep 0.1
done

hook() { # emulator port, JSON body
	curl -sf -X POST -H 'Content-Type: application/json' -d "$2" \
		"http://127.0.0.1:$1/_sandbox/webhooks" >/dev/null
}
hook 18081 '{"url": "http://127.0.0.1:8080/hooks/misa/callback"}'
hook 18082 "{\"url\": \"http://127.0.0.1:8080/hooks/crm/events\", \"secret\": \"$AMIS_CRM_WEBHOOK_SECRET\"}"
hook 18083 "{\"url\": \"http://127.0.0.1:8080/hooks/kho/events\", \"secret\": \"$AMIS_KHO_WEBHOOK_SECRET\"}"

echo "sandbox: MISA :18081, CRM :18082, Kho :18083; host: http://127.0.0.1:8080"
"$build/host/luong" -c "$here/luong.json" run
