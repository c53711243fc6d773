# Shared by benches/speed.sh and benches/scaling.sh (sourced; they set
# `work` to their temporary directory first).

die() { echo "FAILED: $*" >&2; exit 1; }

# timed KEY OUT CMD...: one run of CMD (its output directory or file OUT
# removed first); appends "wall user sys peak_rss_kib" to $work/t.KEY. A
# run that fails, or whose timing cannot be read, stops the script: it is
# never counted as a time.
timed() {
  local key=$1 out=$2; shift 2
  rm -rf "$out"
  if ! /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > "$work/stdout" 2> "$work/stderr"; then
    cat "$work/stderr" "$work/time" >&2
    die "$key: $*"
  fi
  local line
  line=$(tail -1 "$work/time")
  [[ $line =~ ^[0-9.]+\ [0-9.]+\ [0-9.]+\ [0-9]+$ ]] || die "$key: unreadable timing '$line'"
  echo "$line" >> "$work/t.$key"
}
