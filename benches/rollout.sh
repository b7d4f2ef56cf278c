#!/usr/bin/env bash
# Rollout benchmark: what health checks cost. A gated rolling stage on a lab of real sshd hosts,
# each with an HTTP service on its own address, against the same stage with no check, in the
# same run with the same ssh config. Prints each figure, the difference and the ratio.
#
#   benches/rollout.sh [HOSTS] [ROUNDS]      (defaults: 50 hosts, 5 rounds; medians reported)
#
# 1. one stage on every host, `rolling batch="1 25% 100%"` (no pause), one `run` step and
#    `check "up" { http "http://{{address}}:PORT/up" }`, against the same playbook without
#    the check; goal: the checks add at most 0.5 s (there are no pauses to add)
# 2. tsync's peak memory for the gated run; goal: under 30 MiB
#
# Needs root: the HTTP services of a reduced lab would share one address.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-50}
rounds=${2:-5}

source benches/lib.sh
start_lab "$hosts" --http
port=$(sed -n 's/^http_port=//p' "$lab_out")

# The same stage twice, $1 with the check and $2 without.
stage() {
    printf 'playbook "rollout"\nstage "deploy" {\n    on "all"\n'
    printf '    rolling batch="1 25%% 100%%"\n    run "true"\n'
    # shellcheck disable=SC2016 # {{address}} is tsync's placeholder, not the shell's
    [ "$1" = gated ] && printf '    check "up" { http "http://{{address}}:%s/up" }\n' "$port"
    printf '}\n'
}
stage gated > "$work/gated.kdl"
stage plain > "$work/plain.kdl"
flags=(--ssh-config "$config" --no-tailscale)

echo "lab: $hosts hosts, HTTP services on port $port; $rounds rounds each, medians"
# Warms the page cache (not the connections), and checks that every host's check passes.
"$tsync" apply "$work/gated.kdl" "${flags[@]}" --output json > "$work/events"
passed=$(grep '"event": *"check_finished"' "$work/events" | grep -c '"ok": *true' || true)
[ "$passed" -eq "$hosts" ] || { echo "$passed checks passed, not $hosts" >&2; exit 1; }
declare -a g p
for _ in $(seq "$rounds"); do
    g+=("$(time_of "$tsync" apply "$work/gated.kdl" "${flags[@]}")")
    p+=("$(time_of "$tsync" apply "$work/plain.kdl" "${flags[@]}")")
done
tg=$(printf '%s\n' "${g[@]}" | median); tp=$(printf '%s\n' "${p[@]}" | median)
printf 'rolling 1, 25%%, 100%% on all hosts:  gated %.3fs   no check %.3fs   difference %.3fs (goal <= 0.5)   ratio %.2f\n' \
    "$tg" "$tp" "$(echo "$tg - $tp" | bc -l)" "$(echo "$tg / $tp" | bc -l)"
peak=$( { /usr/bin/time -f '%M' "$tsync" apply "$work/gated.kdl" "${flags[@]}" > /dev/null; } 2>&1 | tail -n 1)
printf 'peak memory of tsync for the gated rollout on %s hosts: %.1f MiB (goal < 30)\n' "$hosts" "$(echo "$peak / 1024" | bc -l)"
