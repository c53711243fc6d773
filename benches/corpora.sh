#!/usr/bin/env bash
# Cost of the fine-tuning corpus options (issue 17): `run` on one generated
# corpus without them, and with every one on (scrubbing of all kinds with
# a custom order-number pattern, system prompt, start/end shaping,
# required assistant, min/max turns, \r stripping, dedup, session gap, and
# the jsonl, sharegpt and parquet formats besides txt). Paired and
# alternating (plain, all, plain, all, ...), so drift on a shared machine
# hits both alike; medians of RUNS, and their ratio (target: <= 1.3).
#
#   bash benches/corpora.sh [FILES] [ROWS] [RUNS]     # default 8 100000 3
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-8}; rows=${2:-100000}; runs=${3:-3}
work=$(mktemp -d /tmp/sheetsift-corpora.XXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q
bin=$PWD/target/release/sheetsift
"$bin" samples -o "$work/in" --files "$files" --rows "$rows" --seed 1 -q
cat > "$work/conf.toml" <<'TOML'
[[scrub.patterns]]
name = "order"
pattern = '订单号[:：]?(\d{10,20})'
TOML
plain=(run "$work/in" -o "$work/o" --val-size 0.1 -q)
all=("${plain[@]}" --config "$work/conf.toml" --scrub all
  --system-prompt "你是电商客服。" --start-with user --end-with assistant
  --require-assistant --min-turns 2 --max-turns 16 --strip-cr
  --dedup-dialogues --session-gap 30m --format jsonl,sharegpt,parquet)
echo "corpus: $files files x $rows rows; machine: $(nproc) cores; $(date -u +%F)"
once() {
  rm -rf "$work/o"
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" "$@"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
p=(); a=()
for i in $(seq "$runs"); do
  p+=("$(once "${plain[@]}")")
  a+=("$(once "${all[@]}")")
  echo "run $i: plain ${p[-1]} s, every option ${a[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
mp=$(median "${p[@]}"); ma=$(median "${a[@]}")
printf 'median: plain %.2f s, every option %.2f s, ratio %.3f (target <= 1.3)\n' \
  "$mp" "$ma" "$(echo "$ma / $mp" | bc -l)"
