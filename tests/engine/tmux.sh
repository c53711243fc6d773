#!/usr/bin/env bash
# Make sure tmux is on PATH for tests/progress_tty.rs (a real terminal to
# watch the progress bar in). Installs the Debian package when missing and
# allowed (root with apt-get). Prints tmux's path and exits 0; exits 3 when
# tmux cannot be had (the test then skips loudly, or fails under
# SHEETSIFT_REQUIRE_ENGINES=1). Any other exit is a failure.
set -uo pipefail
if command -v tmux >/dev/null 2>&1; then
  command -v tmux
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tmux.sh: installing tmux with apt-get" >&2
  (apt-get install -y tmux || { apt-get update && apt-get install -y tmux; }) >&2
fi
if command -v tmux >/dev/null 2>&1; then
  command -v tmux
  exit 0
fi
echo "tmux.sh: tmux is not installed and could not be installed" >&2
exit 3
