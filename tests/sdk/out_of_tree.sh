#!/bin/sh
# out_of_tree.sh CMAKE CC BUILD_DIR EXAMPLE_SRC_DIR
# Installs this build into a fresh prefix, builds the example plugin
# against that installed SDK alone (find_package and pkg-config), and
# proves both builds load into the installed `luong`.
set -eu
cmake=$1
cc=$2
build=$3
src=$4
tmp=$(mktemp -d)
host_pid=
cleanup() {
	[ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null
	if [ -n "${LUONG_KEEP_TEST_DIRS:-}" ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
prefix=$tmp/prefix

step() { echo "== $*"; }

step "install into a temporary prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
luong=$prefix/bin/luong
test -x "$luong"

step "find_package(luong) build"
# no hint at the source tree: only the prefix is known
"$cmake" -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_BUILD_TYPE=Release >"$tmp/cm.log" 2>&1 ||
	{ cat "$tmp/cm.log"; exit 1; }
"$cmake" --build "$tmp/cm" >>"$tmp/cm.log" 2>&1 ||
	{ cat "$tmp/cm.log"; exit 1; }
test -f "$tmp/cm/example.so"

step "pkg-config build"
pcdir=$(dirname "$(find "$prefix" -name luong-sdk.pc | head -n 1)")
# the .pc names the configured prefix; --define-prefix relocates it
export PKG_CONFIG_PATH=$pcdir
cflags=$(pkg-config --define-prefix --cflags luong-sdk)
libs=$(pkg-config --define-prefix --libs luong-sdk)
case $cflags in
*"$prefix"*) ;;
*) echo "pkg-config --cflags luong-sdk does not point into the prefix:" \
	"$cflags"; exit 1 ;;
esac
mkdir -p "$tmp/pc"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -fPIC -shared $cflags \
	-DEXAMPLE_NAME='"example-pc"' "$src/example.c" \
	-o "$tmp/pc/example_pc.so" $libs -Wl,--no-undefined

# A deployment with both builds, one connection and one flow each.
dep=$tmp/deploy
mkdir -p "$dep/plugins" "$dep/flows" "$dep/connections" "$dep/mappings"
cp "$tmp/cm/example.so" "$tmp/pc/example_pc.so" "$dep/plugins/"
cat >"$dep/luong.json" <<JSON
{"listen": "127.0.0.1:0", "admin_token": {"file": "admin.token"}}
JSON
echo "out-of-tree-token" >"$dep/admin.token"
chmod 600 "$dep/admin.token"
for p in example example-pc; do
	cat >"$dep/connections/$p.json" <<JSON
{"plugin": "$p", "config": {"greeting": "chào $p"}}
JSON
	cat >"$dep/flows/$p.json" <<JSON
{"id": "$p-echo", "name": "echo", "mode": "automatic",
 "trigger": {"connection": "$p", "event": "note.saved"},
 "steps": [{"id": "echo", "connection": "$p", "action": "echo",
            "input": {"id": ".id"}}]}
JSON
done

step "luong flows check"
out=$("$luong" -c "$dep/luong.json" flows check 2>&1) ||
	{ echo "$out"; exit 1; }
echo "$out" | grep -q "^2 flows ok$" || { echo "$out"; exit 1; }

step "luong flows check refuses an input the plugin does not declare"
sed 's/"input": {"id"/"input": {"idd"/' "$dep/flows/example.json" \
	>"$tmp/typo.json"
cp "$dep/flows/example.json" "$tmp/good.json"
cp "$tmp/typo.json" "$dep/flows/example.json"
if out=$("$luong" -c "$dep/luong.json" flows check 2>&1); then
	echo "a misspelt input passed:"; echo "$out"; exit 1
fi
echo "$out" | grep -qF 'example.json: $.steps[0].input.idd: action example.echo takes no input "idd" (it takes: id, text)' ||
	{ echo "$out"; exit 1; }
cp "$tmp/good.json" "$dep/flows/example.json"

step "luong run, then luong plugins"
"$luong" -c "$dep/luong.json" run >"$tmp/host.log" 2>&1 &
host_pid=$!
i=0
while [ ! -s "$dep/var/port" ] || ! grep -q "ready on" "$tmp/host.log"; do
	i=$((i + 1))
	if [ $i -gt 150 ] || ! kill -0 "$host_pid" 2>/dev/null; then
		cat "$tmp/host.log"
		exit 1
	fi
	sleep 0.1
done
out=$("$luong" -c "$dep/luong.json" plugins 2>&1) ||
	{ echo "$out"; cat "$tmp/host.log"; exit 1; }
for p in example example-pc; do
	echo "$out" | grep -q "^$p 1.0.0 " ||
		{ echo "plugin $p missing from:"; echo "$out"; exit 1; }
	grep -q "connection $p: ready (plugin $p 1.0.0)" "$tmp/host.log" ||
		{ cat "$tmp/host.log"; exit 1; }
done
# declarations shown as a table: the payload's fields, the inputs
echo "$out" | grep -q "^        text  string .*what to echo$" ||
	{ echo "inputs missing from:"; echo "$out"; exit 1; }
echo "$out" | grep -qF '      sample: {"id":"N1","text":"xin chào"}' ||
	{ echo "sample missing from:"; echo "$out"; exit 1; }
grep -q "example ready, greeting chào example" "$tmp/host.log" ||
	{ cat "$tmp/host.log"; exit 1; }
kill "$host_pid"
wait "$host_pid" || true
host_pid=

step "the installed example connector, from share/ alone, into plugindir"
plugindir=$(pkg-config --define-prefix --variable=plugindir luong-sdk)
test -f "$prefix/share/luong/plugins.md"
"$cmake" -S "$prefix/share/luong/example" -B "$tmp/notes" \
	-DCMAKE_PREFIX_PATH="$prefix" >"$tmp/notes.log" 2>&1 &&
	"$cmake" --build "$tmp/notes" >>"$tmp/notes.log" 2>&1 &&
	"$cmake" --install "$tmp/notes" >>"$tmp/notes.log" 2>&1 ||
	{ cat "$tmp/notes.log"; exit 1; }
test -f "$plugindir/notes.so" ||
	{ echo "notes.so is not in $plugindir:"; ls -R "$prefix/lib"; exit 1; }

step "the example's unit test, with the installed test kit"
(cd "$tmp/notes" && ctest --output-on-failure && ./test_notes) \
	>"$tmp/notes-test.log" 2>&1 ||
	{ cat "$tmp/notes-test.log"; exit 1; }
grep -q "notes: 4 tests passed" "$tmp/notes-test.log" ||
	{ cat "$tmp/notes-test.log"; exit 1; }

step "an installed host reads pkg-config's plugindir by default"
dep2=$tmp/deploy2
mkdir -p "$dep2/flows" "$dep2/connections"
echo '{"listen": "127.0.0.1:0"}' >"$dep2/luong.json"
cat >"$dep2/connections/notes.json" <<JSON
{"plugin": "notes", "config": {"server": "http://127.0.0.1:9",
 "webhook_secret": {"env": "NOTES_SECRET"}}}
JSON
cat >"$dep2/flows/notes.json" <<JSON
{"id": "notes-copy", "trigger": {"connection": "notes", "event": "note.saved"},
 "steps": [{"id": "save", "connection": "notes", "action": "save_note",
            "input": {"title": ".title", "text": ".text"}}]}
JSON
out=$(NOTES_SECRET=0123456789abcdef0123 "$luong" -c "$dep2/luong.json" \
	flows check 2>&1) || { echo "$out"; exit 1; }
for so in notes misa-amis amis-crm amis-kho; do
	if [ "$so" != notes ] && [ ! -f "$plugindir/$so.so" ]; then
		continue # switched off in this build
	fi
	echo "$out" | grep -q "plugin $so.so: loaded" ||
		{ echo "$so.so not loaded from $plugindir:"; echo "$out"; exit 1; }
done
echo "ok: both out-of-tree builds load; the example installs and loads"
