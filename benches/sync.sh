#!/usr/bin/env bash
# Sync benchmark: `tsync push` against `rsync -a --delete` (one rsync per host, all in
# parallel) on a lab of real sshd hosts, in the same run with the same ssh config.
#
#   benches/sync.sh [--hosts "10 50"] [--quick]
#
# The tree: Python's standard library sources (*.py under /usr/lib/python3.11, no
# __pycache__) plus a 24 MB binary and a 10 MB text file, generated deterministically:
# about 740 files, 70 MB. For each lab size: cold push, no-change push, one-file-changed
# push to /srv/tree on every host. Goals: ratio tsync/rsync cold <= 1.1, no change <= 1.0,
# one file <= 1.0; tsync's peak memory < 100 MiB for 50 hosts. Each case runs three times,
# the tools taking turns to go first, and the best time counts. --quick: 3 hosts, once, a
# smaller tree (no big files).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="10 50"
reps=3
quick=false
while [ $# -gt 0 ]; do
    case $1 in
        --hosts) sizes=$2; shift 2 ;;
        --quick) quick=true; sizes=3; reps=1; shift ;;
        *) echo "usage: benches/sync.sh [--hosts \"10 50\"] [--quick]" >&2; exit 2 ;;
    esac
done

source benches/lib.sh

# The tree, the same bytes on every run.
tree="$work/tree"
mkdir -p "$tree"
(cd /usr/lib/python3.11 && find . -name __pycache__ -prune -o -name '*.py' -print0 |
    tar --null -T - -cf - | tar -xf - -C "$tree")
if ! $quick; then
    # Deterministic pseudo-random bytes: AES-CTR keystream over zeros, keyed by a constant.
    head -c 25165824 /dev/zero |
        openssl enc -aes-128-ctr -nosalt -K 00112233445566778899aabbccddeeff -iv 0 > "$tree/blob.bin"
    : > "$tree/big.txt"
    while [ "$(stat -c %s "$tree/big.txt")" -lt 10485760 ]; do
        cat /usr/lib/python3.11/*.py >> "$tree/big.txt"
    done
    truncate -s 10485760 "$tree/big.txt"
fi
files=$(find "$tree" -type f | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
changed="$tree/os.py"

if "$tsync" push --help > /dev/null 2>&1; then has_push=true; else has_push=false; fi
flags=(--ssh-config CONFIG --no-tailscale)
rsync_all() {
    for h in "${names[@]}"; do
        rsync -a --delete -e "ssh -F $config" "$tree/" "$h:/srv/tree/" &
    done
    wait
}
tsync_push() { "$tsync" push all "$tree" /srv/tree "${flags[@]}"; }
clear_remote() { for d in "$labdir"/hosts/*/srv; do rm -rf "$d/tree"; done; }
row() { # case tsync rsync goal
    if [ "$2" = n/a ]; then
        printf '  %-16s tsync %8s   rsync %7.3fs   ratio %5s  (goal <= %s)\n' "$1" n/a "$3" n/a "$4"
    else
        printf '  %-16s tsync %7.3fs   rsync %7.3fs   ratio %5.2f  (goal <= %s)\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)" "$4"
    fi
}

printf 'tree: %s files, %.1f MB\n' "$files" "$(echo "$bytes / 1000000" | bc -l)"
for hosts in $sizes; do
    start_lab "$hosts"
    flags=(--ssh-config "$config" --no-tailscale)
    echo "lab: $hosts hosts"

    # Each case three times, the two tools taking turns to go first (the machine's state
    # after one tool's run favours neither); the best time of each counts.
    best() { printf '%s\n' "$@" | sort -g | head -n 1; }
    r_c=(); r_n=(); r_o=(); t_c=(); t_n=(); t_o=()
    rsync_round() {
        clear_remote
        r_c+=("$(time_of rsync_all)")
        r_n+=("$(time_of rsync_all)")
        echo "# changed by the benchmark" >> "$changed"
        r_o+=("$(time_of rsync_all)")
    }
    tsync_round() {
        clear_remote
        t_c+=("$(time_of tsync_push)")
        t_n+=("$(time_of tsync_push)")
        echo "# changed by the benchmark" >> "$changed"
        t_o+=("$(time_of tsync_push)")
    }
    for rep in $(seq "$reps"); do
        if [ $((rep % 2)) = 1 ] || ! $has_push; then
            rsync_round
            if $has_push; then tsync_round; fi
        else
            tsync_round
            rsync_round
        fi
    done
    r_cold=$(best "${r_c[@]}"); r_none=$(best "${r_n[@]}"); r_one=$(best "${r_o[@]}")
    t_cold=n/a; t_none=n/a; t_one=n/a; peak=n/a
    if $has_push; then
        t_cold=$(best "${t_c[@]}"); t_none=$(best "${t_n[@]}"); t_one=$(best "${t_o[@]}")
        clear_remote
        /usr/bin/time -o "$work/peak" -f '%M' "$tsync" push all "$tree" /srv/tree "${flags[@]}" > /dev/null 2>&1
        peak=$(printf '%.1f MiB' "$(echo "$(tail -n 1 "$work/peak") / 1024" | bc -l)")
    fi
    row "cold" "$t_cold" "$r_cold" 1.1
    row "no change" "$t_none" "$r_none" 1.0
    row "one file changed" "$t_one" "$r_one" 1.0
    echo "  peak memory of tsync push (cold) on $hosts hosts: $peak (goal < 100 MiB at 50 hosts)"
    stop_lab
done
