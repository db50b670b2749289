#!/usr/bin/env bash
# The host's messages in Vietnamese (host/po/vi.po, GNU gettext).
#   bash scripts/messages.sh update   take new or changed _("...") messages
#                                     from host/src into vi.po (untranslated)
#   bash scripts/messages.sh check    fail unless every message of host/src
#                                     has a Vietnamese translation whose
#                                     printf directives match the English
set -euo pipefail
cd "$(dirname "$0")/.."
po=host/po/vi.po
pot=$(mktemp --suffix=.pot)
trap 'rm -f "$pot"' EXIT
LC_ALL=C.UTF-8 xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ \
  --language=C --no-wrap --no-location --package-name=luong -o "$pot" \
  host/src/*.c 2>/dev/null

case "${1:-}" in
update)
  msgmerge --quiet --no-wrap --no-location --no-fuzzy-matching \
    --update --backup=off "$po" "$pot"
  msgattrib --no-obsolete --no-wrap --output-file="$po" "$po"
  msgattrib --untranslated --no-wrap "$po" | grep '^msgid "' | tail -n +2 \
    | sed 's/^/to translate: /' || true
  ;;
check)
  bad=0
  # every message in the source is in vi.po ...
  msgcmp --use-untranslated "$po" "$pot" || bad=1
  # ... and translated, not fuzzy, with the same printf directives
  untranslated=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid "' || true)
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid "' || true)
  # msgattrib prints the header entry too when it prints anything
  [ "$untranslated" -le 1 ] && untranslated=0 || untranslated=$((untranslated - 1))
  [ "$fuzzy" -le 1 ] && fuzzy=0 || fuzzy=$((fuzzy - 1))
  if [ "$untranslated" -ne 0 ] || [ "$fuzzy" -ne 0 ]; then
    echo "$po: $untranslated untranslated and $fuzzy fuzzy messages;" \
      "run: bash scripts/messages.sh update, then translate them" >&2
    bad=1
  fi
  msgfmt --check --output-file=/dev/null "$po" || bad=1
  [ "$bad" -eq 0 ] && echo "$po: every host message has its Vietnamese"
  exit "$bad"
  ;;
*)
  echo "usage: bash scripts/messages.sh update|check" >&2
  exit 2
  ;;
esac
