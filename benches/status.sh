#!/usr/bin/env bash
# Fleet-view benchmark on a lab of real sshd hosts, measured in the same run with the same
# ssh config. Prints each figure and its ratio to the baseline it names.
#
#   benches/status.sh [HOSTS] [ROUNDS]      (defaults: 50 hosts, 5 rounds; medians reported)
#
# 1. cold `tsync status` vs the cold fan-out floor, `tsync run all -- true`; goal ratio <= 1.2
# 2. what `least-loaded(…)` adds to a run: a playbook whose second stage picks one host by
#    load, against the same playbook naming that host, both after a first stage on every
#    host (so connections are warm); goal: no more than one exchange with every host over
#    those connections costs (a stage running `true` on all of them); and the same
#    placement with an empty history, where no disk figure spares it `df`. Read from the
#    stages' own durations in `--output json`, which the controller's noise touches less
#    than whole runs.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-50}
rounds=${2:-5}

source benches/lib.sh
start_lab "$hosts"
first=${names[0]}
# `tsync status` exits 4 when a host does not answer: timed all the same.
time_of() { local t0; t0=$(now); "$@" > /dev/null || true; echo "$(now) - $t0" | bc -l; }
# The duration of stage $1 in the JSON events of `tsync apply $2`.
stage_secs() {
    "$tsync" apply "$2" "${flags[@]}" --output json |
        grep "\"event\":\"stage_finished\",\"stage\":\"$1\"" |
        grep -o '"duration_secs":[0-9.e-]*' | cut -d: -f2
}
stages() {
    printf 'playbook "bench-place"\nstage "warm" {\n    on "all"\n    run "true"\n}\n'
    [ "$#" -gt 1 ] && printf 'stage "again" {\n    needs "warm"\n    on "all"\n    run "true"\n}\n'
    printf 'stage "work" {\n    needs "%s"\n    on "%s"\n    run "true"\n}\n' "${2:-warm}" "$1"
}
stages "least-loaded(all)" > "$work/placed.kdl"
stages "$first" > "$work/named.kdl"
stages "$first" again > "$work/extra.kdl"
flags=(--ssh-config "$config" --no-tailscale)

echo "lab: $hosts hosts; $rounds rounds each, medians"
"$tsync" run all "${flags[@]}" -- true > /dev/null   # warm the page cache, not the connections
declare -a a b c d e f x
for round in $(seq "$rounds"); do
    a+=("$(time_of "$tsync" status "${flags[@]}")")
    b+=("$(time_of "$tsync" run all "${flags[@]}" -- true)")
    c+=("$(stage_secs work "$work/placed.kdl")")
    d+=("$(stage_secs work "$work/named.kdl")")
    x+=("$(stage_secs again "$work/extra.kdl")")
    # Placement takes a disk figure under 10 minutes old from the history (the status
    # runs above leave one); with an empty history it starts `df` on every candidate.
    f+=("$(TSYNC_HISTORY="$work/empty-$round.db" stage_secs work "$work/placed.kdl")")
    e+=("$( { "$tsync" status "${flags[@]}" --output json || true; } |
        grep -o '"round_trip_ms":[0-9.]*' | awk -F: '{ s += $2; n++ } END { print (n ? s / n : 0) }')")
done
ta=$(printf '%s\n' "${a[@]}" | median); tb=$(printf '%s\n' "${b[@]}" | median)
tc=$(printf '%s\n' "${c[@]}" | median); td=$(printf '%s\n' "${d[@]}" | median)
tx=$(printf '%s\n' "${x[@]}" | median); rtt=$(printf '%s\n' "${e[@]}" | median)
tf=$(printf '%s\n' "${f[@]}" | median)
printf 'cold status, all hosts:  tsync status %.3fs   tsync run all -- true %.3fs   ratio %.2f (goal <= 1.2)\n' \
    "$ta" "$tb" "$(echo "$ta / $tb" | bc -l)"
printf 'placement, warm:  stage picking by load %.0f ms   same stage on a named host %.0f ms\n' \
    "$(echo "$tc * 1000" | bc -l)" "$(echo "$td * 1000" | bc -l)"
printf '  least-loaded adds %.0f ms; a stage of one command on every host takes %.0f ms (goal: no more)\n' \
    "$(echo "($tc - $td) * 1000" | bc -l)" "$(echo "$tx * 1000" | bc -l)"
printf '  with no disk figure in the history (df on every candidate): least-loaded adds %.0f ms\n' \
    "$(echo "($tf - $td) * 1000" | bc -l)"
printf '  round trip over an open connection, as tsync status measures it: %.2f ms\n' "$rtt"
peak=$( { /usr/bin/time -f '%M' "$tsync" status "${flags[@]}" > /dev/null; } 2>&1 | tail -n 1)
printf 'peak memory of tsync status on %s hosts: %.1f MiB\n' "$hosts" "$(echo "$peak / 1024" | bc -l)"
