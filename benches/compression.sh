#!/usr/bin/env bash
# Zip level of the xlsx outputs: extract wall time and output size for
# levels 1, 3, 6 on one generated corpus (median of RUNS).
#
#   bash benches/compression.sh [FILES] [ROWS] [RUNS]     # default 8 100000 3
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-8}; rows=${2:-100000}; runs=${3:-3}
work=$(mktemp -d /tmp/sheetsift-level.XXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q
bin=target/release/sheetsift
"$bin" samples -o "$work/in" --files "$files" --rows "$rows" --seed 1 -q
printf '%-6s %10s %12s\n' level "wall (s)" "size (MiB)"
for level in 1 3 6; do
  walls=()
  for _ in $(seq "$runs"); do
    rm -rf "$work/o"
    /usr/bin/time -f "%e" -o "$work/t" "$bin" extract "$work/in" -o "$work/o" -j 2 -q --compression-level "$level"
    walls+=("$(cat "$work/t")")
  done
  med=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  size=$(du -cm "$work"/o/*.xlsx | tail -1 | cut -f1)
  printf '%-6s %10s %12s\n' "$level" "$med" "$size"
done
