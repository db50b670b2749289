#!/bin/sh
# clang_format.sh ROOT
# The tree's one style is written down in .clang-format (Linux kernel
# style); every C source and header of the project is held to it.
set -eu
root=$1
cd "$root"
command -v clang-format >/dev/null || { echo "clang-format is missing (scripts/deps.sh installs it)" >&2; exit 1; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
files=$(printf '%s\n' $files | grep -E '^(\./)?(host|sdk|plugins|bench|tests|sandbox)/')
bad=0
for f in $files; do
	clang-format --dry-run --Werror "$f" 2>/dev/null || {
		echo "$f differs from .clang-format (clang-format -i $f)" >&2
		bad=$((bad + 1))
	}
done
[ "$bad" -eq 0 ] || { echo "$bad file(s) differ from .clang-format" >&2; exit 1; }
echo "$(printf '%s\n' $files | grep -c .) files follow .clang-format"
