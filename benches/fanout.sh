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

source benches/lib.sh
start_lab "$hosts"

ssh_loop() {
    for h in "${names[@]}"; do ssh -F "$config" "$h" true & done
    wait
}

{
    echo 'playbook "bench5"'
    for s in 1 2 3 4 5; do
        printf 'stage "s%s" {\n' "$s"
        [ "$s" -gt 1 ] && printf '    needs "s%s"\n' "$((s - 1))"
        printf '    on "all"\n    run "true"\n}\n'
    done
} > "$work/five.kdl"
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
