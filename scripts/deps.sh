#!/usr/bin/env bash
# Installs the Debian 12 packages Luồng needs, if any is missing.
# Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcurl4-openssl-dev   # HTTP client for plugins (connection reuse)
  libcjson-dev           # JSON values across the SDK boundary
  libev-dev              # the engine's event loop
  libmicrohttpd-dev      # webhooks, admin API, sandbox emulators
  libsqlite3-dev         # the durable store
  libjq-dev              # field mapping in flows (jq)
  libssl-dev             # HMAC signatures, SHA-256, random tokens
  gettext                # msgfmt: the host's messages in Vietnamese (host/po)
  check                  # unit and integration tests
  curl                   # scripts and tests talk to the servers
  openssl                # a sandbox test checks a signature with the openssl command
  wrk                    # bench/sandbox.sh
  clang                  # tests/fuzz: libFuzzer harnesses (LUONG_FUZZ=ON)
  clang-format           # the one code style (.clang-format), checked by a test
  libclang-rt-14-dev     # the libFuzzer and sanitizer runtimes for clang
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "missing packages and not root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
