#!/usr/bin/env bash
# How `sheetsift extract` scales with threads, and its peak memory on the
# shapes that stress it. Nothing here assumes a core count: the thread
# counts are 1, 2, 4, ... up to `nproc`, and nproc itself.
#
#   bash benches/scaling.sh [ROWS_PER_FILE] [FILES]   # default 100000, max(8, 2 x nproc)
#
# 1. rows/s of `extract -j N` on FILES generated files (shared strings) for
#    each N, median of SCALING_RUNS (default 3) runs; the thread counts take
#    turns (1 2 4 ..., then ... 4 2 1, ...) so that drift falls on all alike;
#    the speed-up over -j 1, CPU per row and peak RSS.
# 2. peak RSS and wall of `extract -j 2` on 2 x 1,000,000 rows (two big
#    files: one per thread), 1 x 1,000,000 rows (one big file: its worksheet
#    parsed by both threads) and 32 x 100,000 rows (many files: rows held by
#    the writer while earlier files finish). SCALING_QUICK=1 runs these at a
#    hundredth of the size, to try the script.
#
# Every run is checked: a failure stops the script and is never counted as a
# time; every -j N output must be byte-identical to the -j 1 one.
set -euo pipefail
cd "$(dirname "$0")/.."
cores=$(nproc)
rows=${1:-100000}
files=${2:-$((cores * 2 > 8 ? cores * 2 : 8))}
runs=${SCALING_RUNS:-3}
quick=${SCALING_QUICK:-0}
work=$(mktemp -d /tmp/sheetsift-scaling.XXXX)
trap 'rm -rf "$work"' EXIT
source benches/timed.sh  # after the cd to the repository
cargo build --release -q
bin=$PWD/target/release/sheetsift
mem=$(free -g | awk '/Mem:/{print $2}')

# stats KEY ROWS -> "median_wall rows_per_s cpu_us_per_row peak_rss_mib"
stats() {
  awk -v rows="$2" '
    function median(a, n,    i, j, t) {
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { n++; w[n] = $1; c[n] = $2 + $3; if ($4 > r) r = $4 }
    END { m = median(w, n); printf "%.2f %.0f %.2f %d\n", m, rows / (m > 0 ? m : 0.005), median(c, n) / rows * 1e6, r / 1024 }' "$work/t.$1"
}
same_output() {
  local f
  [ "$(cd "$1" && ls)" = "$(cd "$2" && ls)" ] || die "different outputs in $1 and $2"
  for f in "$1"/*.xlsx; do cmp "$f" "$2/${f##*/}" || die "${f##*/} differs between $1 and $2"; done
}

# ---- threads ----------------------------------------------------------------
jobs=()
for ((j = 1; j < cores; j *= 2)); do jobs+=("$j"); done
jobs+=("$cores")
total=$((files * rows))
echo "machine: $cores cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $mem GiB; $(date -u +%F)"
echo "threads: $files files x $rows rows = $total rows, -j ${jobs[*]}, median of $runs"
"$bin" samples -o "$work/in" --files "$files" --rows "$rows" --seed 1 -q
for i in $(seq "$runs"); do
  order=("${jobs[@]}")
  if [ $((i % 2)) = 0 ]; then
    order=(); for ((k = ${#jobs[@]} - 1; k >= 0; k--)); do order+=("${jobs[k]}"); done
  fi
  echo ">> round $i/$runs: -j ${order[*]}" >&2
  for j in "${order[@]}"; do
    timed "j$j" "$work/o$j" "$bin" extract "$work/in" -o "$work/o$j" -j "$j" -q
  done
done
for j in "${jobs[@]}"; do
  [ "$j" = 1 ] || same_output "$work/o1" "$work/o$j"
  echo "$j $(stats "j$j" "$total")" >> "$work/threads"
done
rm -rf "$work/in" "$work"/o*

# ---- memory shapes ------------------------------------------------------------
if [ "$quick" = 1 ]; then
  shapes=("2 10000" "1 10000" "32 1000"); scale=" (SCALING_QUICK: a hundredth of the size)"
else
  shapes=("2 1000000" "1 1000000" "32 100000"); scale=
fi
for s in "${shapes[@]}"; do
  read -r f r <<< "$s"
  echo ">> memory: $f x $r rows" >&2
  "$bin" samples -o "$work/in" --files "$f" --rows "$r" --seed 1 -q
  for _ in $(seq "$runs"); do
    timed "m$f.$r" "$work/o" "$bin" extract "$work/in" -o "$work/o" -j 2 -q
  done
  echo "$f $r $(stats "m$f.$r" $((f * r)))" >> "$work/memory"
  rm -rf "$work/in" "$work/o"
done

# ---- report -------------------------------------------------------------------
# commas(n): 1234567 -> 1,234,567 (mawk has no %'d).
awk_commas='function commas(n,    s) { s = sprintf("%d", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }'
echo
echo "| \`extract -j N\` | wall (s) | rows/s | speed-up over -j 1 | CPU µs/row | peak RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|---:|"
awk "$awk_commas"'NR == 1 { w1 = $2 } { printf "| %d | %.2f | %s | %.2f× | %.2f | %d |\n", $1, $2, commas($3), w1 / ($2 > 0 ? $2 : 0.005), $4, $5 }' "$work/threads"
echo
echo "| \`extract -j 2\` on | wall (s) | rows/s | CPU µs/row | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|"
awk "$awk_commas"'{ printf "| %d × %s rows | %.2f | %s | %.2f | %d |\n", $1, commas($2), $3, commas($4), $5, $6 }' "$work/memory"
echo
echo "Measured with \`$( [ "$quick" = 1 ] && printf 'SCALING_QUICK=1 ')$( [ "$runs" = 3 ] || printf 'SCALING_RUNS=%s ' "$runs")bash benches/scaling.sh $rows $files\`$scale"
echo "(generated corpora, shared strings; median of $runs runs, peak RSS the largest; sheetsift $(git rev-parse --short HEAD))"
echo "on $(date -u +%F): $cores cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $mem GiB."
