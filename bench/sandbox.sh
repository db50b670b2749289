#!/bin/sh
# Throughput of the sandbox: wrk against an authenticated MISA
# get_company_info (2 threads, 64 connections) on loopback.
# usage: bench/sandbox.sh [build-dir] [seconds]
# The build dir defaults to build-bench (an optimised build without
# sanitizers, configured here when missing).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
secs=${2:-5}
bin=$build/sandbox/luong-sandbox
if [ ! -x "$bin" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLUONG_SANITIZE=OFF >/dev/null
    cmake --build "$build" -j2 --target luong-sandbox >/dev/null
fi
command -v wrk >/dev/null || { echo "sandbox.sh: wrk is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$bin" --only misa --ports-file "$tmp/ports.json" 2>"$tmp/sandbox.log" &
pid=$!
i=0
while [ ! -s "$tmp/ports.json" ]; do
    i=$((i + 1))
    [ $i -gt 500 ] && { echo "sandbox.sh: sandbox did not start" >&2; cat "$tmp/sandbox.log" >&2; exit 1; }
    sleep 0.02
done
port=$(sed 's/.*"misa":\([0-9]*\).*/\1/' "$tmp/ports.json")
base=http://127.0.0.1:$port

# app credentials of the shipped seed (sandbox/seed/misa.json)
token=$(curl -s -X POST "$base/api/oauth/actopen/connect" -H 'Content-Type: application/json' \
    -d '{"app_id":"7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57","access_code":"bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8tMjAyNS1jb25nLXR5LWFuLXBoYXQ=","org_company_code":"congtyanphat"}' |
    sed 's/.*access_token\\":\\"\([0-9a-f]*\)\\".*/\1/')
[ -n "$token" ] || { echo "sandbox.sh: connect failed" >&2; exit 1; }

cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-MISA-AccessToken"] = "$token"
LUA
echo "wrk -t2 -c64 -d${secs}s -s post.lua $base/apir/sync/actopen/get_company_info"
wrk -t2 -c64 -d"${secs}s" -s "$tmp/post.lua" "$base/apir/sync/actopen/get_company_info" | tee "$tmp/wrk.out"
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
echo "requests/s: $rps"
