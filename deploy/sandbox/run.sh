#!/bin/sh
# Runs the AMIS Workflow deployment against the sandbox: starts
# luong-sandbox (MISA, CRM, Kho and Haravan on ports 18081-18084), points their
# webhooks and MISA's callback at the host, then runs the host on
# 127.0.0.1:8080 until it stops. Ctrl-C, SIGTERM or a failure stops both,
# and the script returns only when both are gone.
#
#   BUILD=build deploy/sandbox/run.sh      (default BUILD: <repo>/build)
#
# DEPLOY=dir runs a copy of this deployment made in dir (settings,
# connections, mappings; the data folder is dir/var), on the ports
# HOST_PORT, MISA_PORT, CRM_PORT and KHO_PORT (defaults as above). Tests
# use it to run beside a demo without touching this folder.
set -eu
umask 077 # the ledger and the tokens in it are for this user only
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${BUILD:-$repo/build}" && pwd)
deploy=${DEPLOY:-$here}
host_port=${HOST_PORT:-8080}
misa=${MISA_PORT:-18081} crm=${CRM_PORT:-18082} kho=${KHO_PORT:-18083}
haravan=${HARAVAN_PORT:-18084}
. "$here/env.sh"

# A copy of this deployment in $deploy with the ports asked for.
copy_deployment() {
	mkdir -p "$deploy"
	deploy=$(cd "$deploy" && pwd)
	rm -rf "$deploy/connections" "$deploy/mappings"
	cp -R "$here/connections" "$here/mappings" "$deploy/"
	sed -e "s|127.0.0.1:8080|127.0.0.1:$host_port|" \
	    -e "s|\"../../flows\"|\"$repo/flows\"|" \
	    "$here/luong.json" > "$deploy/luong.json"
	sed -i -e "s|127.0.0.1:18081|127.0.0.1:$misa|" \
	    -e "s|127.0.0.1:18082|127.0.0.1:$crm|" \
	    -e "s|127.0.0.1:18083|127.0.0.1:$kho|" \
	    -e "s|127.0.0.1:18084|127.0.0.1:$haravan|" "$deploy"/connections/*.json
}

if [ "$(cd "$deploy" 2>/dev/null && pwd)" != "$here" ]; then
	copy_deployment
elif [ "$host_port:$misa:$crm:$kho" != "8080:18081:18082:18083" ]; then
	echo "run.sh: other ports need DEPLOY=<another folder>" >&2
	exit 2
fi

mkdir -p "$deploy/var"
chmod 700 "$deploy/var"
ln -sfn "$build/plugins" "$deploy/plugins"
rm -f "$deploy/var/sandbox-ports.json"

sbx= host=
# Stops whatever of the two runs and waits until both are gone.
stop() {
	trap - EXIT INT TERM HUP
	for pid in $host $sbx; do
		kill -TERM "$pid" 2>/dev/null || :
	done
	wait
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP

"$build/sandbox/luong-sandbox" --only misa,crm,kho,haravan --seed "$repo/sandbox/seed" \
	--port misa="$misa" --port crm="$crm" --port kho="$kho" --port haravan="$haravan" \
	--ports-file "$deploy/var/sandbox-ports.json" &
sbx=$!
i=0
while [ ! -s "$deploy/var/sandbox-ports.json" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "the sandbox did not start" >&2; exit 1; }
	kill -0 "$sbx" 2>/dev/null ||
		{ echo "the sandbox stopped at start" >&2; exit 1; }
	sleep 0.1
done

hook() { # emulator port, JSON body
	curl -sf -X POST -H 'Content-Type: application/json' -d "$2" \
		"http://127.0.0.1:$1/_sandbox/webhooks" >/dev/null
}
url=http://127.0.0.1:$host_port/hooks
hook "$misa" "{\"url\": \"$url/misa/callback\"}"
hook "$crm" "{\"url\": \"$url/crm/events\", \"secret\": \"$AMIS_CRM_WEBHOOK_SECRET\"}"
hook "$kho" "{\"url\": \"$url/kho/events\", \"secret\": \"$AMIS_KHO_WEBHOOK_SECRET\"}"
hook "$haravan" "{\"url\": \"$url/haravan\", \"secret\": \"$HARAVAN_WEBHOOK_SECRET\"}"

echo "sandbox: MISA :$misa, CRM :$crm, Kho :$kho, Haravan :$haravan; host: http://127.0.0.1:$host_port"
"$build/host/luong" -c "$deploy/luong.json" run &
host=$!
rc=0
wait "$host" || rc=$?
host=
exit $rc
