# Shared by the scripts in benches/: source it from the repository's root. It installs what
# is missing, builds release binaries, makes a scratch directory ($work, also $HOME and
# $XDG_RUNTIME_DIR for tsync, so nothing of the user's is read or written) and gives:
#   start_lab HOSTS [tsync-lab flags]   a lab of real sshd hosts: sets $config, $labdir,
#                                       $names (an array) and $lab_out (the lab's report)
#   stop_lab                            stops it (also done on exit)
#   now, median, time_of CMD…           wall-clock timing; a failing CMD stops the script
set -euo pipefail

scripts/setup
cargo build --release --workspace --locked --quiet
bin=$PWD/target/release
tsync="$bin/tsync"
work=$(mktemp -d /tmp/tsync-bench.XXXXXX)
export HOME="$work/home" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$HOME"
mkdir -m 700 "$XDG_RUNTIME_DIR"
lab=
lab_out="$work/lab.out"

start_lab() {
    local hosts=$1
    shift
    "$bin/tsync-lab" up --hosts "$hosts" --prefix bench "$@" > "$lab_out" &
    lab=$!
    for _ in $(seq 600); do
        grep -q '^ssh_config=' "$lab_out" 2>/dev/null && break
        kill -0 "$lab" 2>/dev/null || { cat "$lab_out" >&2; exit 1; }
        sleep 0.1
    done
    config=$(sed -n 's/^ssh_config=//p' "$lab_out")
    labdir=$(dirname "$config")
    mapfile -t names < <(sed -n 's/^host \([^ ]*\) .*/\1/p' "$lab_out")
}

stop_lab() {
    # Masters kept by `--persist` runs go first, while their hosts still answer.
    "$tsync" disconnect > /dev/null 2>&1 || true
    if [ -n "$lab" ]; then
        kill "$lab" 2>/dev/null
        wait "$lab" 2>/dev/null || true
        lab=
    fi
}
trap 'stop_lab; rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# Prints how long "$@" takes; a failed run stops the benchmark, so no figure hides a failure.
time_of() { local t0; t0=$(now); "$@" > /dev/null; echo "$(now) - $t0" | bc -l; }
