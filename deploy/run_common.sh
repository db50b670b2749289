# run_common.sh - what the deployments' run.sh share (sourced, not run):
# a copy of the deployment in another folder, the sandbox started and
# waited for, its webhooks pointed at the host, and the sandbox and the
# host stopped together, returning only when both are gone.
# The caller sets here, repo, build, deploy and host_port first.

# A copy of the deployment in $deploy: its settings with the host's port
# and an absolute flows folder, its connections with the emulators' ports
# given as default=actual pairs.
copy_deployment() { # default host port, flows folder as luong.json says, pairs
	default_host=$1 flows=$2
	shift 2
	mkdir -p "$deploy"
	deploy=$(cd "$deploy" && pwd)
	rm -rf "$deploy/connections" "$deploy/mappings"
	cp -R "$here/connections" "$here/mappings" "$deploy/"
	sed -e "s|127.0.0.1:$default_host|127.0.0.1:$host_port|" \
	    -e "s|\"$flows\"|\"$repo/${flows#../../}\"|" \
	    "$here/luong.json" > "$deploy/luong.json"
	for pair; do
		sed -i "s|127.0.0.1:${pair%%=*}|127.0.0.1:${pair#*=}|" \
			"$deploy"/connections/*.json
	done
}

sbx= host=
# Stops whatever of the two runs and waits until both are gone.
stop() {
	trap - EXIT INT TERM HUP
	for pid in $host $sbx; do
		kill -TERM "$pid" 2>/dev/null || :
	done
	wait
}

# The data folder and the plugins ready, then luong-sandbox with these
# arguments (--only, --port), waited for until it has written its ports.
start_sandbox() {
	mkdir -p "$deploy/var"
	chmod 700 "$deploy/var"
	ln -sfn "$build/plugins" "$deploy/plugins"
	rm -f "$deploy/var/sandbox-ports.json"
	trap stop EXIT
	trap 'stop; exit 130' INT
	trap 'stop; exit 143' TERM
	trap 'stop; exit 129' HUP
	"$build/sandbox/luong-sandbox" --seed "$repo/sandbox/seed" "$@" \
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
}

sandbox_post() { # emulator port, path, JSON body
	curl -sf -X POST -H 'Content-Type: application/json' -d "$3" \
		"http://127.0.0.1:$1$2" >/dev/null
}

# An emulator's webhooks (or MISA's callback) sent to the host.
sandbox_hook() { # emulator port, JSON body
	sandbox_post "$1" /_sandbox/webhooks "$2"
}

start_host() {
	"$build/host/luong" -c "$deploy/luong.json" run &
	host=$!
}

# Returns what the host returned, once it and the sandbox are gone.
wait_host() {
	rc=0
	wait "$host" || rc=$?
	host=
	exit $rc
}
