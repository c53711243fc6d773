#!/usr/bin/env bash
# End-to-end comparison on one generated corpus, side by side in one run:
# sheetsift vs the reference workflow (pandas + openpyxl + Pool) vs a polars
# + fastexcel script, plus the bound issue 6 sets from the crates alone.
#
#   bash benches/compare.sh [FILES] [ROWS] [RUNS]     # default 8 100000 5
#
# Peers run only when their Python environment exists:
#   python3 -m venv ../.venv && ../.venv/bin/pip install -r ../shared/reference/requirements.txt
#   python3 -m venv ../.venv-polars && ../.venv-polars/bin/pip install polars fastexcel xlsxwriter pyarrow
# (paths relative to this repository; override with REF_PY, POLARS_PY, REFERENCE).
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-8}; rows=${2:-100000}; runs=${3:-5}
REF_PY=${REF_PY:-../.venv/bin/python}
POLARS_PY=${POLARS_PY:-../.venv-polars/bin/python}
REFERENCE=${REFERENCE:-../shared/reference/workflow.py}
work=$(mktemp -d /tmp/sheetsift-compare.XXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q
cargo build --release -q --bench baseline 2>/dev/null || true
bin=$PWD/target/release/sheetsift
"$bin" samples -o "$work/in" --files "$files" --rows "$rows" --seed 1 -q
total=$((files * rows))
echo "corpus: $files files x $rows rows = $total rows; machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F)"

# time_once NAME CMD...: one run, its wall and peak RSS kept under NAME.
time_once() {
  local name=$1; shift
  rm -rf "$work/o"
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null 2> "$work/err" || { echo "$name failed:"; cat "$work/err"; return 1; }
  tail -1 "$work/t" >> "$work/runs.$name"
}
# summarize NAME -> appends "NAME median_s peak_rss_mib" to the results.
summarize() {
  local med rss
  med=$(cut -d' ' -f1 "$work/runs.$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  rss=$(cut -d' ' -f2 "$work/runs.$1" | sort -g | tail -1)
  echo "$1 $med $((rss / 1024))" >> "$work/results"
}
# time_cmd NAME RUNS CMD...: RUNS runs in a row.
time_cmd() {
  local name=$1 n=$2; shift 2
  for _ in $(seq "$n"); do time_once "$name" "$@"; done
  summarize "$name"
}

: > "$work/results"
# -j 1 and -j 2 alternate, so that the machine's drift falls on both alike.
for _ in $(seq "$runs"); do
  time_once "sheetsift-extract-j1" "$bin" extract "$work/in" -o "$work/o" -j 1 -q
  time_once "sheetsift-extract-j2" "$bin" extract "$work/in" -o "$work/o" -j 2 -q
done
summarize "sheetsift-extract-j1"
summarize "sheetsift-extract-j2"
"$bin" extract "$work/in" -o "$work/clean" -j 2 -q
time_cmd "sheetsift-dialogues-j2" "$runs" "$bin" dialogues "$work/clean" -o "$work/o" -j 2 -q --val-size 0.1
if [ -x "$REF_PY" ]; then
  time_cmd "reference-extract-j2" 1 "$REF_PY" "$REFERENCE" extract --out "$work/o" --jobs 2 "$work/in"
  time_cmd "reference-dialogues" 1 "$REF_PY" "$REFERENCE" dialogues --out "$work/o" --val-size 0.1 "$work/clean"
else
  echo "(reference workflow skipped: no $REF_PY)"
fi
if [ -x "$POLARS_PY" ]; then
  time_cmd "polars-fastexcel-extract" 1 "$POLARS_PY" benches/polars_extract.py "$work/o.xlsx" "$work"/in/*.xlsx
else
  echo "(polars skipped: no $POLARS_PY)"
fi
base=$(ls target/release/deps/baseline-* 2>/dev/null | grep -v '\.d$' | head -1 || true)
if [ -n "$base" ]; then
  "$base" "$work"/in/*.xlsx | tee "$work/baseline"
fi

echo
printf '%-28s %10s %12s %10s %10s\n' tool "wall (s)" "rows/s" "RSS (MiB)" "vs"
awk -v total="$total" '
  { name[NR]=$1; wall[$1]=$2; rss[$1]=$3 }
  END {
    for (i = 1; i <= NR; i++) {
      n = name[i]; ref = (n ~ /dialogues/) ? "sheetsift-dialogues-j2" : "sheetsift-extract-j2"
      printf "%-28s %10.2f %12.0f %10d %9.1fx\n", n, wall[n], total / wall[n], rss[n], wall[n] / wall[ref]
    }
  }' "$work/results"
echo "(vs = wall / sheetsift wall for the same stage: how many times slower than sheetsift)"
if [ -f "$work/baseline" ]; then
  read -r _ _ r w < <(tr '=' ' ' < "$work/baseline" | awk '{print $1, $3, $5, $7}')
  awk -v r="$r" -v w="$w" -v s="$(awk '$1=="sheetsift-extract-j2"{print $2}' "$work/results")" -v j1="$(awk '$1=="sheetsift-extract-j1"{print $2}' "$work/results")" 'BEGIN {
    b = 1.5 * (r + w) / 2
    printf "crates alone: calamine read %.2f s + rust_xlsxwriter write %.2f s (one thread each); target 1.5 x (r+w)/2 = %.2f s; sheetsift -j2 %.2f s (%s)\n", r, w, b, s, (s <= b ? "met" : "missed")
    printf "speed-up -j1 -> -j2: %.2fx\n", j1 / s
  }'
fi
