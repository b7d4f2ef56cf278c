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
# one file <= 1.0; tsync's peak memory < 100 MiB for 50 hosts. Each case runs five times
# as a pair, the tools back to back and taking turns to go first, each from a flushed disk;
# the median of the pairs' ratios counts; every run's time is printed too. --quick: 3 hosts, once, a smaller tree (no big files).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="10 50"
reps=5
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
# Before a cold run: the hosts' trees deleted, and the disk settled. ext4 without a journal
# (this machine's disk) will not reuse an inode freed in the last minutes while its inode
# table block is cached, and searches past each such inode when it makes a file: `perf`
# showed that search taking up to a third of both tools' CPU, more for whichever ran after
# more deletions. Written out and dropped from the cache (root only), the freed inodes are
# free again for both tools alike; the tree is read back into the cache after.
settle() {
    clear_remote
    sync
    if [ -w /proc/sys/vm/drop_caches ]; then echo 1 > /proc/sys/vm/drop_caches; fi
    find "$tree" -type f -exec cat {} + > /dev/null
}

printf 'tree: %s files, %.1f MB\n' "$files" "$(echo "$bytes / 1000000" | bc -l)"
for hosts in $sizes; do
    start_lab "$hosts"
    flags=(--ssh-config "$config" --no-tailscale)
    echo "lab: $hosts hosts"

    # Each case is measured in pairs, the two tools back to back, the one going first taking
    # turns: a pair's ratio is taken before the machine's drift (a neighbour's load,
    # writeback) moves on, and the median of the pairs' ratios counts. rsync and tsync
    # land the same tree with the same mtimes, so the second of a pair finds no change
    # where the first left none. Without `tsync push` (an old build) only rsync runs.
    unset times ratios # each lab size starts afresh: `declare` alone keeps the last one's
    declare -A times ratios
    run_tool() { if [ "$1" = rsync ]; then time_of rsync_all; else time_of tsync_push; fi; }
    pair() { # CASE FIRST-TOOL
        local tool t r=""
        local order=("$2")
        if $has_push; then
            if [ "$2" = rsync ]; then order+=(tsync); else order=(tsync rsync); fi
        fi
        for tool in "${order[@]}"; do
            case $1 in
                cold) settle ;;
                one) echo "# changed by the benchmark" >> "$changed" ;;
            esac
            # What the run before wrote is flushed first. The kernel writes dirty data back
            # 30 s after it was written: left alone, a cold push's 2 GB went out during the
            # no-change pair, and whichever tool ran at that moment paid 1.5-4 s (both do).
            sync
            t=$(run_tool "$tool")
            printf '    pair %s %-5s %-5s %7.3fs\n' "$rep" "$1" "$tool" "$t"
            times[$1,$tool]+="$t "
            eval "local at_$tool=$t"
        done
        if $has_push; then ratios[$1]+="$(echo "$at_tsync / $at_rsync" | bc -l) "; fi
    }
    for rep in $(seq "$reps"); do
        first=rsync
        if [ $((rep % 2)) = 0 ] && $has_push; then first=tsync; fi
        for case in cold none one; do pair "$case" "$first"; done
    done
    med() { printf '%s\n' $1 | median; }
    peak=n/a
    if $has_push; then
        clear_remote
        /usr/bin/time -o "$work/peak" -f '%M' "$tsync" push all "$tree" /srv/tree "${flags[@]}" > /dev/null 2>&1
        peak=$(printf '%.1f MiB' "$(echo "$(tail -n 1 "$work/peak") / 1024" | bc -l)")
    fi
    row() { # LABEL CASE GOAL
        local r
        r=$(med "${times[$2,rsync]}")
        if $has_push; then
            printf '  %-16s tsync %7.3fs   rsync %7.3fs   ratio %5.2f  (median of %s pairs; goal <= %s)\n' \
                "$1" "$(med "${times[$2,tsync]}")" "$r" "$(med "${ratios[$2]}")" "$reps" "$3"
        else
            printf '  %-16s tsync %8s   rsync %7.3fs\n' "$1" n/a "$r"
        fi
    }
    row "cold" cold 1.1
    row "no change" none 1.0
    row "one file changed" one 1.0
    echo "  peak memory of tsync push (cold) on $hosts hosts: $peak (goal < 100 MiB at 50 hosts)"
    stop_lab
done
