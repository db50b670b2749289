#!/bin/sh
# connectors.sh [--check] [BUILD_DIR]
# Writes docs/connectors.md from the plugins' own declarations, as the
# build's `luong plugins --reference` prints them for the in-tree plugins.
# --check: writes nothing, fails (with the difference) when the file is
# stale. BUILD_DIR defaults to ./build.
set -eu
check=
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"plugin_dir": "%s/plugins", "log_level": "error"}\n' "$build" \
	>"$tmp/luong.json"
"$build/host/luong" -c "$tmp/luong.json" plugins --reference \
	>"$tmp/connectors.md"
if [ -n "$check" ]; then
	diff -u "$root/docs/connectors.md" "$tmp/connectors.md" || {
		echo "docs/connectors.md is stale: run scripts/connectors.sh" >&2
		exit 1
	}
	echo "docs/connectors.md is current"
else
	cp "$tmp/connectors.md" "$root/docs/connectors.md"
	echo "wrote docs/connectors.md"
fi
