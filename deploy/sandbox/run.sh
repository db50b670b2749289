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
# HOST_PORT, MISA_PORT, CRM_PORT, KHO_PORT and HARAVAN_PORT (defaults as
# above). Tests
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

. "$repo/deploy/run_common.sh"

if [ "$(cd "$deploy" 2>/dev/null && pwd)" != "$here" ]; then
	copy_deployment 8080 ../../flows 18081="$misa" 18082="$crm" \
		18083="$kho" 18084="$haravan"
elif [ "$host_port:$misa:$crm:$kho:$haravan" != \
	"8080:18081:18082:18083:18084" ]; then
	echo "run.sh: other ports need DEPLOY=<another folder>" >&2
	exit 2
fi

start_sandbox --only misa,crm,kho,haravan --port misa="$misa" \
	--port crm="$crm" --port kho="$kho" --port haravan="$haravan"
url=http://127.0.0.1:$host_port/hooks
sandbox_hook "$misa" "{\"url\": \"$url/misa/callback\"}"
sandbox_hook "$crm" "{\"url\": \"$url/crm/events\", \"secret\": \"$AMIS_CRM_WEBHOOK_SECRET\"}"
sandbox_hook "$kho" "{\"url\": \"$url/kho/events\", \"secret\": \"$AMIS_KHO_WEBHOOK_SECRET\"}"
sandbox_hook "$haravan" "{\"url\": \"$url/haravan\", \"secret\": \"$HARAVAN_WEBHOOK_SECRET\"}"

echo "sandbox: MISA :$misa, CRM :$crm, Kho :$kho, Haravan :$haravan; host: http://127.0.0.1:$host_port"
start_host
wait_host
