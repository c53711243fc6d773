#!/usr/bin/env bash
# Peak RSS and wall time of `sheetsift dialogues` on 10,000,000 generated
# rows (100 files x 100,000 rows), default --memory-limit (1G) and a tight
# one (256M). Goal (issue 5): peak RSS under 1 GiB.
#
#   bash benches/dialogues_memory.sh [WORKDIR]     # default /tmp/sheetsift-10m
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/sheetsift-10m}
cargo build --release -q
bin=target/release/sheetsift
mkdir -p "$work"
if [ ! -f "$work/in/chat_0100.xlsx" ]; then
  "$bin" samples -o "$work/in" --files 100 --rows 100000 --seed 1 -q
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F)"
for limit in 1G 256M; do
  rm -rf "$work/out-$limit"
  /usr/bin/time -f "dialogues --memory-limit $limit: wall %e s, peak RSS %M KiB" \
    "$bin" dialogues "$work/in" -o "$work/out-$limit" --memory-limit "$limit" -q --report "$work/report-$limit.json"
  grep -E '"(rows_read|dialogues|spilled_to_disk)"' "$work/report-$limit.json" | tr -d ' ,' | tr '\n' ' '; echo
done
for f in std/train.txt std/val.txt mmi/train.txt mmi/val.txt; do
  cmp "$work/out-1G/$f" "$work/out-256M/$f"
done
echo "outputs identical across limits"
