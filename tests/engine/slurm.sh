#!/usr/bin/env bash
# The README's Slurm job array, run for real on a one-node cluster started
# here, and checked byte for byte against one local `sheetsift run`.
#
#   bash tests/engine/slurm.sh        # as root; SHEETSIFT=path/to/binary
#                                     # (default target/release/sheetsift)
#
# It installs slurm-wlm and munge with apt-get when they are missing, starts
# munged, slurmctld and slurmd (as root, foreground, so that their pids are
# exact) with every state, spool, log and socket file in one temp dir and
# ports nothing else listens on, then submits from a "shared" directory:
#
#   stage 1: tests/engine/extract.sbatch          a job array of 3 (--array=0-2)
#   stage 2: tests/engine/dialogues-shard.sbatch  a job array of 3, after it
#            tests/engine/merge.sbatch            one job, after that array
#
# exactly the files the README's "Scaling out" section shows, with only
# sbatch's own flags added (array size, CPUs, --wait) and sheetsift flags
# after the script's name (a chunk size of 3 so that 9 files make 3 chunks,
# one per task; --val-size 0.1 for this small corpus). On exit, however it
# exits, it cancels its jobs, stops every daemon it started by pid and
# removes the temp dir.
#
# Skips (exit 0, loudly) only where the packages are missing and apt-get
# cannot install them; SHEETSIFT_REQUIRE_ENGINES=1 turns that skip into a
# failure. Every other problem fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SHEETSIFT:-$repo/target/release/sheetsift}
t0=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}'; }
say() { echo "slurm.sh [$(elapsed)s] $*"; }
die() { echo "slurm.sh: FAILED: $*" >&2; exit 1; }
skip() {
  echo "################################################################" >&2
  echo "# slurm.sh: SKIPPED: $*" >&2
  echo "# The Slurm job array of the README was NOT tested." >&2
  echo "################################################################" >&2
  [ "${SHEETSIFT_REQUIRE_ENGINES:-0}" = 1 ] && die "skip refused (SHEETSIFT_REQUIRE_ENGINES=1)"
  exit 0
}

[ -x "$bin" ] || die "no sheetsift binary at $bin (cargo build --release, or set SHEETSIFT)"
bin=$(realpath "$bin")

# --- 1. the packages ---------------------------------------------------------
have_slurm() {
  command -v munged && command -v slurmctld && command -v slurmd && command -v sbatch
} > /dev/null
if ! have_slurm; then
  [ "$(id -u)" = 0 ] || skip "slurm-wlm/munge missing and not root: apt-get cannot install them"
  command -v apt-get > /dev/null || skip "slurm-wlm/munge missing and no apt-get"
  say "installing slurm-wlm and munge with apt-get"
  # Keep the packages' maintainer scripts from starting the system's own
  # munge/slurm services: this test starts (and stops) its own daemons only.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && added_policy=1
  fi
  installed=1
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends slurm-wlm munge; } > /tmp/sheetsift-slurm-apt.log 2>&1 || installed=0
  [ "$added_policy" = 1 ] && rm -f "$policy"
  if [ "$installed" = 0 ]; then
    tail -20 /tmp/sheetsift-slurm-apt.log >&2
    skip "apt-get could not install slurm-wlm and munge (log above)"
  fi
  rm -f /tmp/sheetsift-slurm-apt.log
  have_slurm || die "slurm-wlm and munge installed, but munged/slurmctld/slurmd/sbatch are not on PATH"
  say "installed"
fi
[ "$(id -u)" = 0 ] || skip "slurmd must run as root to start jobs, and this is uid $(id -u)"

# --- 2. the cluster: one node, everything in a temp dir ---------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sheetsift-slurm.XXXXXX")
chmod 700 "$tmp"
pids=()        # daemons started here, in start order
started_jobs=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [ "$rc" != 0 ] && [ -d "$tmp" ]; then
    echo "--- slurm.sh failed (exit $rc); the cluster's logs:" >&2
    # A daemon's stderr repeats its log, except for what it says before
    # the log is open: shown only when there is no log.
    for f in "$tmp"/log/*.stderr; do
      [ -s "${f%.stderr}.log" ] || { echo "--- $f" >&2; tail -30 "$f" >&2; }
    done
    for f in "$tmp"/log/*.log "$tmp"/shared/slurm-*.out; do
      [ -f "$f" ] && { echo "--- $f (last 30 lines)" >&2; tail -30 "$f" >&2; }
    done
  fi
  # Jobs first (the cluster is this script's own, so all its jobs are ours),
  # while slurmctld and slurmd are still there to end them.
  if [ "$started_jobs" = 1 ] && [ -n "${SLURM_CONF:-}" ]; then
    scancel --user="$(id -un)" 2> /dev/null
    for _ in $(seq 20); do
      [ -z "$(squeue -h -o %i 2> /dev/null)" ] && break
      sleep 0.5
    done
  fi
  # Then the daemons, newest first, each by the pid it was started with.
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[$i]}
    kill -TERM "$pid" 2> /dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2> /dev/null && kill -KILL "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port FROM: the first TCP port from FROM up that nothing listens on.
free_port() {
  local p=$1
  while (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; do p=$((p + 1)); done
  echo "$p"
}
ctld_port=$(free_port 26817)
slurmd_port=$(free_port $((ctld_port + 1)))
node=$(hostname -s)
cpus=$(nproc)
[ "$cpus" -gt 2 ] && cpus=2
mkdir -p "$tmp"/{munge,state,spool,log,run,bin,shared}
chmod 700 "$tmp"/munge

# munged: a fresh key, its own socket (not the system's), in the foreground.
head -c 1024 /dev/urandom > "$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
munged -F --force --socket="$socket" --key-file="$tmp/munge/munge.key" \
  --pid-file="$tmp/run/munged.pid" --log-file="$tmp/log/munged.log" \
  --seed-file="$tmp/munge/munge.seed" 2> "$tmp/log/munged.stderr" &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || die "munged did not create its socket $socket"

export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" << EOF
ClusterName=sheetsift-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# A dependent job whose dependency failed is cancelled, not left pending.
DependencyParameters=kill_invalid_depend
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -i -f "$SLURM_CONF" 2> "$tmp/log/slurmctld.stderr" &
pids+=($!)
for _ in $(seq 100); do scontrol ping 2> /dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping | grep -q UP || die "slurmctld did not answer on port $ctld_port"
slurmd -D -f "$SLURM_CONF" 2> "$tmp/log/slurmd.stderr" &
pids+=($!)
state=
for _ in $(seq 120); do
  state=$(sinfo -h -N -n "$node" -o %t 2> /dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || die "node $node is '$state', not idle, after 60 s"
say "$(sinfo --version), $(munged --version 2>&1 | head -1)"
say "cluster up: node $node idle with $cpus CPUs (slurmctld :$ctld_port, slurmd :$slurmd_port)"

# --- 3. the README's job array -----------------------------------------------
# sbatch passes the submitting environment on: the jobs find `sheetsift` on
# PATH, as on a cluster where it is installed.
ln -s "$bin" "$tmp/bin/sheetsift"
export PATH=$tmp/bin:$PATH
cd "$tmp/shared"
sheetsift samples -o raw --files 9 --rows 2000 --seed 1 -q
engine=$repo/tests/engine
# completed JOBID WHAT: every task of JOBID finished COMPLETED with exit 0.
# (`sbatch --wait` alone is not enough: it exits 0 for a job that was
# cancelled before it started, as a dependent job is when its dependency
# fails.)
completed() {
  local states
  [ -n "$1" ] || die "$2 was not submitted"
  states=$(scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]* .*ExitCode=[0-9:]*' \
    | sed 's/ .*ExitCode=/ exit /' | sort | uniq -c) || true
  if [ -z "$states" ] || grep -qv 'JobState=COMPLETED exit 0:0' <<< "$states"; then
    die "$2 (job $1) did not complete: $(echo ${states:-no such job})"
  fi
  say "$2 (job $1): $(echo $states)"
}
started_jobs=1
t_jobs=$(date +%s.%N)
extract_id=$(sbatch --parsable --array=0-2 --cpus-per-task=1 \
  "$engine/extract.sbatch" --chunk-size 3)
say "extract array submitted: job $extract_id"

# ==== STAGE 2 =================================================================
# A dependent array renders each task's share of clean/ into corpus/parts/,
# then one merge job writes the global split.
parts_id=$(sbatch --parsable --dependency="afterok:$extract_id" --array=0-2 \
  --cpus-per-task=1 "$engine/dialogues-shard.sbatch")
say "stage 2 array submitted: job $parts_id (after $extract_id)"
merge_id=$(timeout 900 sbatch --parsable --wait --dependency="afterok:$parts_id" \
  --cpus-per-task="$cpus" "$engine/merge.sbatch" --val-size 0.1) || true
completed "$extract_id" "the extract array"
completed "$parts_id" "the stage-2 array"
completed "$merge_id" "the merge job"
# ==== END STAGE 2 =============================================================
say "jobs done in $(echo "$(date +%s.%N) $t_jobs" | awk '{printf "%.1f", $1 - $2}')s"

# --- 4. the same bytes as one local run --------------------------------------
sheetsift run raw -o local --chunk-size 3 --val-size 0.1 --keep-clean local-clean -q
# Every task ran its own shard: 9 files in chunks of 3 -> task K wrote chunk K,
# and stage-2 task K the part of chunk file K.
for k in 0 1 2; do
  [ -f "corpus/parts/part-$k-of-3.bin" ] || die "no corpus/parts/part-$k-of-3.bin"
  grep -q '"files_selected": 1,' "reports/dialogues-$k.json" \
    || die "reports/dialogues-$k.json does not show stage-2 task $k reading one file"
  first=$((k * 3))
  grep -q "\"output\": \"clean/clean_data_${first}_$((first + 2)).xlsx\"" "reports/extract-$k.json" \
    || die "reports/extract-$k.json does not show task $k writing chunk $k"
  grep -q '"exit_code": 0' "reports/extract-$k.json" || die "task $k did not exit 0"
  [ -f "clean/manifest.shard-$k-of-3.json" ] || die "no clean/manifest.shard-$k-of-3.json"
done
# compare_dir A B GLOB: the same file names in A and B, byte-identical;
# prints how many.
compare_dir() {
  local a=$1 b=$2 glob=$3 la lb f
  la=$(cd "$a" && for f in $glob; do [ -f "$f" ] && echo "$f"; done)
  lb=$(cd "$b" && for f in $glob; do [ -f "$f" ] && echo "$f"; done)
  [ -n "$la" ] || die "nothing matching $glob in $a"
  [ "$la" = "$lb" ] || die "$a and $b hold different files: [$la] vs [$lb]"
  for f in $la; do cmp "$a/$f" "$b/$f" >&2 || die "$a/$f differs from $b/$f"; done
  echo "$la" | wc -l
}
n_clean=$(compare_dir clean local-clean '*.xlsx')
n_std=$(compare_dir corpus/std local/std '*')
n_mmi=$(compare_dir corpus/mmi local/mmi '*')
say "identical to the local run: $n_clean chunk tables, $n_std std and $n_mmi mmi corpus files"
say "PASSED (total $(elapsed)s)"
