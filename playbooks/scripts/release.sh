#!/bin/sh
# Switches an application's `current` link between releases, atomically, and prunes old ones.
#
#   release.sh switch APP_DIR RELEASE   point APP_DIR/current at releases/RELEASE,
#                                       remembering the release it pointed at before
#   release.sh back APP_DIR RELEASE     the same, where RELEASE `previous` means the release
#                                       remembered by the last switch
#   release.sh revert APP_DIR           point APP_DIR/current back at the remembered release
#   release.sh prune APP_DIR KEEP       remove all but the KEEP releases switched to last;
#                                       never the current or the remembered one, and never a
#                                       release this script did not switch to
#
# The link is replaced with rename(2) (`mv -T`, GNU coreutils), so a reader sees the old
# release or the new one, never a missing link. Every switch is appended to APP_DIR/switched,
# which is how `prune` knows the order releases were used in.
set -eu

action=$1
app=$2

swap() {
    ln -sfn "$1" "$app/current.new"
    mv -T "$app/current.new" "$app/current"
}

# Points `current` at releases/$1, remembering where it pointed before.
switch_to() {
    if [ ! -d "$app/releases/$1" ]; then
        echo "release $1 is not in $app/releases" >&2
        exit 3
    fi
    current=$(readlink "$app/current" 2>/dev/null || true)
    if [ "$current" != "releases/$1" ]; then
        printf '%s\n' "$current" >"$app/previous.new"
        mv -f "$app/previous.new" "$app/previous"
    fi
    swap "releases/$1"
    printf '%s\n' "$1" >>"$app/switched"
    echo "current → releases/$1 (was ${current:-nothing})"
}

remembered() {
    cat "$app/previous" 2>/dev/null || true
}

case $action in
switch)
    switch_to "$3"
    ;;
back)
    release=$3
    if [ "$release" = previous ]; then
        release=$(remembered)
        release=${release#releases/}
        if [ -z "$release" ]; then
            echo "no previous release recorded in $app/previous: name one with --var release=NAME" >&2
            exit 3
        fi
    fi
    switch_to "$release"
    ;;
revert)
    previous=$(remembered)
    if [ -z "$previous" ]; then
        echo "no previous release recorded in $app/previous: nothing to switch back to" >&2
        exit 3
    fi
    swap "$previous"
    echo "current → $previous (reverted)"
    ;;
prune)
    keep=$3
    case $keep in '' | *[!0-9]*)
        echo "KEEP must be a number, not '$keep'" >&2
        exit 2
        ;;
    esac
    current=$(readlink "$app/current" 2>/dev/null || true)
    previous=$(remembered)
    # The last KEEP distinct releases switched to, newest first.
    kept=$(awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$app/switched" 2>/dev/null |
        awk '!seen[$0]++' | head -n "$keep")
    awk '!seen[$0]++' "$app/switched" 2>/dev/null | while IFS= read -r release; do
        dir="$app/releases/$release"
        if [ -z "$release" ] || [ ! -d "$dir" ] || [ "releases/$release" = "$current" ] || [ "releases/$release" = "$previous" ]; then
            continue
        fi
        if printf '%s\n' "$kept" | grep -qxF -- "$release"; then
            continue
        fi
        rm -rf -- "$dir"
        echo "pruned releases/$release"
    done
    echo "kept the last $keep releases, the current and the previous one"
    ;;
*)
    echo "usage: release.sh switch|back APP_DIR RELEASE | revert APP_DIR | prune APP_DIR KEEP" >&2
    exit 2
    ;;
esac
