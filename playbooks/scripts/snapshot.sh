#!/bin/sh
# Freezes a host's backup mirror as a dated snapshot, and prunes old snapshots. Run on the
# controller by backup.kdl.
#
#   snapshot.sh DIR KEEP   copy DIR/latest to DIR/<UTC timestamp> as hard links (unchanged
#                          files take no space twice), then remove all but the KEEP newest
#                          snapshots; prints the snapshot's files and bytes
#
# tsync replaces a changed file of the mirror by renaming a new file over it, so a file in
# an older snapshot is never changed through its hard link.
set -eu

dir=$1
keep=$2
case $keep in '' | *[!0-9]* | 0)
    echo "KEEP must be a number of at least 1, not '$keep'" >&2
    exit 2
    ;;
esac
if [ ! -d "$dir/latest" ]; then
    echo "nothing was pulled into $dir/latest" >&2
    exit 3
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
snapshot="$dir/$stamp"
n=1
while [ -e "$snapshot" ]; do
    n=$((n + 1))
    snapshot="$dir/$stamp-$n"
done
# GNU cp makes hard links; elsewhere the snapshot is a plain copy.
cp -al "$dir/latest" "$snapshot" 2>/dev/null || cp -pR "$dir/latest" "$snapshot"

files=$(find "$snapshot" -type f | wc -l)
bytes=$(find "$snapshot" -type f -printf '%s\n' | awk '{ total += $1 } END { print total + 0 }')
echo "snapshot $snapshot: $((files)) files, $((bytes)) bytes"

# Snapshots are named by their time, so the oldest sort first.
count=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T*Z*' | wc -l)
excess=$((count - keep))
if [ "$excess" -gt 0 ]; then
    find "$dir" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T*Z*' | sort | head -n "$excess" |
        while IFS= read -r old; do
            rm -rf -- "$old"
            echo "pruned $old"
        done
fi
