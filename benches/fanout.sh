#!/usr/bin/env bash
# Fan-out benchmark: tsync against plain OpenSSH on a lab of real sshd hosts, measured in the
# same run with the same ssh config. Prints each figure and its ratio to the baseline.
#
#   benches/fanout.sh [HOSTS] [ROUNDS]      (defaults: 50 hosts, 5 rounds; medians reported)
#
# 1. cold `tsync run all -- true` vs one plain `ssh HOST true` per host, all in parallel;
#    goal ratio <= 1.0
# 2. a playbook of 5 stages (one `run` step each) on every host vs 5 such ssh loops in a
#    row; goal ratio <= 0.5 (tsync keeps one connection per host for the whole run)
# 3. tsync's peak memory for the cold run on every host
# 4. the same `tsync run all -- true` with warm masters (`--persist`, kept from an earlier
#    run) vs the cold run; goal ratio <= 0.3
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-50}
rounds=${2:-5}

scripts/setup
cargo build --release --workspace --locked --quiet
bin=$PWD/target/release
work=$(mktemp -d /tmp/tsync-bench.XXXXXX)
"$bin/tsync-lab" up --hosts "$hosts" --prefix bench > "$work/lab.out" &
lab=$!
trap '"$bin/tsync" disconnect > /dev/null 2>&1; kill $lab 2>/dev/null; wait $lab 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do
    grep -q '^ssh_config=' "$work/lab.out" 2>/dev/null && break
    kill -0 "$lab" 2>/dev/null || { cat "$work/lab.out" >&2; exit 1; }
    sleep 0.1
done
config=$(sed -n 's/^ssh_config=//p' "$work/lab.out")
mapfile -t names < <(sed -n 's/^host \([^ ]*\) .*/\1/p' "$work/lab.out")
export HOME="$work/home"
mkdir -p "$HOME"
# Warm masters live here (case 4); nothing of the user's own is touched.
export XDG_RUNTIME_DIR="$work/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ssh_loop() {
    for h in "${names[@]}"; do ssh -F "$config" "$h" true & done
    wait
}
time_of() { local t0; t0=$(now); "$@" > /dev/null; echo "$(now) - $t0" | bc -l; }

{
    echo 'playbook "bench5"'
    for s in 1 2 3 4 5; do
        printf 'stage "s%s" {\n' "$s"
        [ "$s" -gt 1 ] && printf '    needs "s%s"\n' "$((s - 1))"
        printf '    on "all"\n    run "true"\n}\n'
    done
} > "$work/five.kdl"
tsync="$bin/tsync"
flags=(--ssh-config "$config" --no-tailscale)

echo "lab: $hosts hosts; $rounds rounds each, medians"
"$tsync" run all "${flags[@]}" -- true > /dev/null   # warm the page cache, not the connections
"$tsync" run all "${flags[@]}" --persist 10m -- true > /dev/null   # masters for case 4
declare -a a b c d e
for _ in $(seq "$rounds"); do
    a+=("$(time_of "$tsync" run all "${flags[@]}" -- true)")
    e+=("$(time_of "$tsync" run all "${flags[@]}" --persist 10m -- true)")
    b+=("$(time_of ssh_loop)")
    c+=("$(time_of "$tsync" apply "$work/five.kdl" "${flags[@]}")")
    d+=("$(time_of bash -c "$(declare -f ssh_loop); names=(${names[*]}); config=$config; for i in 1 2 3 4 5; do ssh_loop; done")")
done
ta=$(printf '%s\n' "${a[@]}" | median); tb=$(printf '%s\n' "${b[@]}" | median)
tc=$(printf '%s\n' "${c[@]}" | median); td=$(printf '%s\n' "${d[@]}" | median)
te=$(printf '%s\n' "${e[@]}" | median)
printf 'cold run, all hosts:  tsync %.3fs   ssh loop %.3fs   ratio %.2f (goal <= 1.0)\n' "$ta" "$tb" "$(echo "$ta / $tb" | bc -l)"
printf '5 stages, all hosts:  tsync %.3fs   5 ssh loops %.3fs   ratio %.2f (goal <= 0.5)\n' "$tc" "$td" "$(echo "$tc / $td" | bc -l)"
peak=$( { /usr/bin/time -f '%M' "$tsync" run all "${flags[@]}" -- true > /dev/null; } 2>&1 | tail -n 1)
printf 'peak memory of tsync run on %s hosts: %.1f MiB\n' "$hosts" "$(echo "$peak / 1024" | bc -l)"
printf 'warm run, all hosts:  tsync --persist %.3fs   cold tsync %.3fs   ratio %.2f (goal <= 0.3)\n' "$te" "$ta" "$(echo "$te / $ta" | bc -l)"
