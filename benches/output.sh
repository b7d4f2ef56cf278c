#!/usr/bin/env bash
# Output benchmark: how fast tsync passes a host's output through, and how much memory it
# needs for it, against plain OpenSSH on a lab of real sshd hosts, in the same run with the
# same ssh config.
#
#   benches/output.sh [MB] [ROUNDS]      (defaults: 20 MB, 5 rounds; medians reported)
#
# 1. one host prints MB of text lines: `tsync run HOST -- CMD > file` against
#    `ssh HOST CMD > file`; goal ratio <= 1.5; then the same into a pipe
# 2. tsync's peak memory for (1)
# 3. 5 hosts printing 50 MB each, into a reader that stalls for 3 s before it reads:
#    tsync's peak memory (goal: flat, as for one host) and every byte arrived
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-20}
rounds=${2:-5}

source benches/lib.sh
start_lab 5
# Prints how long "$@" takes with its stdout in $work/out.
to_file() { local t0; t0=$(now); "$@" > "$work/out"; echo "$(now) - $t0" | bc -l; }
to_pipe() { local t0; t0=$(now); "$@" | cat > /dev/null; echo "$(now) - $t0" | bc -l; }
peak_kib() { { /usr/bin/time -f '%M' "$@" > /dev/null; } 2>&1 | tail -n 1; }

bytes=$((mb * 1000 * 1000))
print="yes 'tsync output benchmark: the quick brown fox jumps over the lazy dog' | head -c $bytes"
tsync=("$bin/tsync" run --ssh-config "$config" --no-tailscale)
plain=(ssh -F "$config")

echo "lab: 5 hosts; $mb MB from one host; $rounds rounds each, medians"
# Warms the page cache (not the connections), and checks that every line arrives.
"${tsync[@]}" bench-1 -- "$print" > "$work/out"
lines=$(grep -c '^bench-1 │ ' "$work/out" || true)
expected=$(bash -c "$print" | awk 'END { print NR }')
[ "$lines" -eq "$expected" ] || { echo "tsync printed $lines lines, not $expected" >&2; exit 1; }
declare -a tf sf tp sp
for _ in $(seq "$rounds"); do
    tf+=("$(to_file "${tsync[@]}" bench-1 -- "$print")")
    sf+=("$(to_file "${plain[@]}" bench-1 "$print")")
    tp+=("$(to_pipe "${tsync[@]}" bench-1 -- "$print")")
    sp+=("$(to_pipe "${plain[@]}" bench-1 "$print")")
done
m() { printf '%s\n' "$@" | median; }
a=$(m "${tf[@]}"); b=$(m "${sf[@]}"); c=$(m "${tp[@]}"); d=$(m "${sp[@]}")
printf '%s MB to a file:  tsync %.3fs   ssh %.3fs   ratio %.2f (goal <= 1.5)\n' "$mb" "$a" "$b" "$(echo "$a / $b" | bc -l)"
printf '%s MB to a pipe:  tsync %.3fs   ssh %.3fs   ratio %.2f (goal <= 1.5)\n' "$mb" "$c" "$d" "$(echo "$c / $d" | bc -l)"
peak=$(peak_kib "${tsync[@]}" bench-1 -- "$print")
printf 'peak memory of tsync for %s MB from one host: %.1f MiB\n' "$mb" "$(echo "$peak / 1024" | bc -l)"

# Five hosts at 50 MB each into a reader that reads nothing for 3 s: tsync must hold the
# hosts back, not buffer their output.
big="yes 'tsync output benchmark: the quick brown fox jumps over the lazy dog' | head -c 50000000"
{ /usr/bin/time -f '%M' -o "$work/peak" "${tsync[@]}" all -- "$big"; } | { sleep 3; wc -c; } > "$work/count"
peak=$(tail -n 1 "$work/peak")
printf 'peak memory of tsync for 5 hosts x 50 MB into a stalled reader: %.1f MiB (%s bytes arrived)\n' \
    "$(echo "$peak / 1024" | bc -l)" "$(cat "$work/count")"
