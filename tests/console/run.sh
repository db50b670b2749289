#!/usr/bin/env bash
# The console's browser tests: Playwright (npm playwright-core) driving
# Debian's chromium against the real host and the sandbox emulators.
#
#   bash tests/console/run.sh [--screenshots]     (BUILD=dir, default <repo>/build)
#
# Installs what is missing (chromium with apt-get, the npm packages of
# package-lock.json), runs deploy/sandbox/run.sh in a folder of its own on
# free loopback ports, makes a viewer, an operator and an admin, runs
# `node --test` and stops everything it started, however it ends.
# --screenshots also writes the main pages to docs/console/*.png.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${BUILD:-$repo/build}" && pwd)

if [ ! -x /usr/bin/chromium ]; then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q chromium >/dev/null ||
    { "${sudo[@]}" apt-get update -q >/dev/null &&
      "${sudo[@]}" apt-get install -y -q chromium >/dev/null; }
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
for t in host/luong sandbox/luong-sandbox plugins/misa-amis.so \
         plugins/amis-kho.so plugins/amis-crm.so; do
  [ -e "$build/$t" ] || { echo "run.sh: build $t first ($build)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/luong-console-XXXXXX)
runner=
stop_all() {
  trap - EXIT INT TERM HUP
  if [ -n "$runner" ]; then
    kill -TERM -- "-$runner" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 -- "-$runner" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$runner" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# five free loopback ports, from the kernel
read -r hport mport cport kport aport < <(node -e '
const net = require("net"); const socks = [];
(async () => { for (let i = 0; i < 5; i++) await new Promise((ok) => {
  const s = net.createServer(); s.listen(0, "127.0.0.1", () => { socks.push(s); ok(); }); });
  console.log(socks.map((s) => s.address().port).join(" "));
  socks.forEach((s) => s.close()); })();')

set -m # run.sh and what it starts get a process group of their own
DEPLOY="$work/deploy" BUILD="$build" HOST_PORT=$hport MISA_PORT=$mport \
  CRM_PORT=$cport KHO_PORT=$kport HARAVAN_PORT=$aport "$repo/deploy/sandbox/run.sh" \
  > "$work/host.log" 2>&1 &
runner=$!
set +m
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$hport/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$hport/healthz" >/dev/null ||
  { echo "run.sh: the host did not start:" >&2; tail -20 "$work/host.log" >&2; exit 1; }

. "$repo/deploy/sandbox/env.sh"
luong() { "$build/host/luong" -c "$work/deploy/luong.json" "$@"; }
for u in viewer operator admin; do
  echo "console-$u-pass" | luong users add "$u" --role "$u" >/dev/null
done

shots=
[ "${1:-}" = --screenshots ] && shots="$repo/docs/console"
rc=0
(cd "$here" && LUONG_URL="http://127.0.0.1:$hport" \
  KHO_URL="http://127.0.0.1:$kport" MISA_URL="http://127.0.0.1:$mport" \
  LUONG_TOKEN="$LUONG_ADMIN_TOKEN" SHOTS="$shots" \
  node --test --test-concurrency=1 --test-reporter=spec) || rc=$?
if [ $rc -ne 0 ]; then
  echo "--- host log (last 30 lines)" >&2
  tail -30 "$work/host.log" >&2
fi
exit $rc
