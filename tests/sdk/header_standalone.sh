#!/bin/sh
# header_standalone.sh CC INCLUDE_DIR
# Each public SDK header must compile alone (and twice: include guards),
# as C and, when g++ is installed, as C++, with warnings as errors.
set -u
cc=$1
inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cjson=$(pkg-config --cflags libcjson 2>/dev/null)
cxx=$(command -v g++ || true)
fail=0
n=0

for h in "$inc"/luong/*.h; do
	name=luong/$(basename "$h")
	printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$tmp/t.c"
	for std in c99 c11 gnu11; do
		# shellcheck disable=SC2086
		if ! "$cc" -std=$std -Wall -Wextra -Werror -pedantic-errors \
			-I"$inc" $cjson -c "$tmp/t.c" -o "$tmp/t.o"; then
			echo "FAIL: $name does not compile alone as C ($std)"
			fail=1
		fi
		n=$((n + 1))
	done
	if [ -n "$cxx" ]; then
		cp "$tmp/t.c" "$tmp/t.cc"
		for std in c++11 c++17; do
			# shellcheck disable=SC2086
			if ! "$cxx" -std=$std -Wall -Wextra -Werror \
				-I"$inc" $cjson -c "$tmp/t.cc" -o "$tmp/t.o"; then
				echo "FAIL: $name does not compile alone as C++ ($std)"
				fail=1
			fi
			n=$((n + 1))
		done
	fi
done
if [ -z "$cxx" ]; then
	echo "SKIPPED the C++ part: g++ is not installed"
fi
[ "$fail" = 0 ] && echo "ok: $n header compilations"
exit $fail
