#!/usr/bin/env bash
# Open an HTML page in headless Chromium the way a person would see it:
#
#   bash tests/engine/chromium.sh PAGE.html OUTDIR
#
# writes OUTDIR/shot.png (a 1200x1600 screenshot), OUTDIR/dom.html (the DOM
# after loading, --dump-dom) and OUTDIR/console.log (Chromium's log of that
# load, --enable-logging=stderr: console messages and failed loads appear
# there). The Debian package `chromium` is installed with apt-get when no
# chromium is on PATH.
#
# Skips (exit 0, loudly, no shot.png) only where Chromium cannot be
# installed; SHEETSIFT_REQUIRE_ENGINES=1 turns that skip into a failure.
# Every other problem fails.
set -euo pipefail
page=$(realpath "$1")
out=$(realpath "$2")
die() { echo "chromium.sh: FAILED: $*" >&2; exit 1; }
skip() {
  echo "################################################################" >&2
  echo "# chromium.sh: SKIPPED: $*" >&2
  echo "# The HTML report was NOT rendered." >&2
  echo "################################################################" >&2
  [ "${SHEETSIFT_REQUIRE_ENGINES:-0}" = 1 ] && die "skip refused (SHEETSIFT_REQUIRE_ENGINES=1)"
  exit 0
}

bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$bin" ]; then
  sudo=
  [ "$(id -u)" = 0 ] || sudo=$(command -v sudo || true)
  if [ "$(id -u)" != 0 ] && [ -z "$sudo" ]; then
    skip "no chromium, and not root nor sudo to install it"
  fi
  echo "chromium.sh: installing the Debian package chromium" >&2
  { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium; } \
    > "$out/apt.log" 2>&1 || skip "apt-get install chromium failed (see $out/apt.log)"
  bin=$(command -v chromium) || skip "chromium installed but not on PATH"
fi

# A profile of its own: nothing of a user's browser is read or written.
profile=$(mktemp -d "${TMPDIR:-/tmp}/sheetsift-chromium.XXXXXX")
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --user-data-dir="$profile"
       --no-first-run --window-size=1200,1600)
timeout 120 "$bin" "${flags[@]}" --screenshot="$out/shot.png" "file://$page" \
  > "$out/shot.log" 2>&1 || die "screenshot failed: $(tail -5 "$out/shot.log")"
timeout 120 "$bin" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$page" \
  > "$out/dom.html" 2> "$out/console.log" || die "dump-dom failed: $(tail -5 "$out/console.log")"
[ -s "$out/shot.png" ] || die "no screenshot written"
echo "chromium.sh: rendered $page with $("$bin" --version 2>/dev/null | head -1)" >&2
