#!/bin/sh
# Switches an application's `current` link between releases, atomically, and prunes old ones.
#
#   release.sh switch APP_DIR RELEASE   point APP_DIR/current at releases/RELEASE
#   release.sh back APP_DIR RELEASE     the same, where RELEASE `previous` means the release
#                                       that was current before the current one
#   release.sh revert APP_DIR [RELEASE] undo the last switch (only if it switched to RELEASE
#                                       and nothing switched since): back to where it was
#   release.sh prune APP_DIR KEEP       remove all but the KEEP releases switched to last;
#                                       never the current or the previous one, and never a
#                                       release this script did not switch to
#
# The link is replaced with rename(2) (`mv -T`, GNU coreutils), so a reader sees the old
# release or the new one, never a missing link. APP_DIR/switched lists the releases switched
# to, oldest first: a switch adds a line, a revert takes its line off again, so the line
# before the last is always the previous release; APP_DIR/seen keeps every switch, for `prune`.
# APP_DIR/undo names the release of a switch
# that can still be reverted; each switch clears it first, so a revert after a failed switch,
# or after a failure before the switch, changes nothing.
set -eu

action=$1
app=$2
log="$app/switched"

swap() {
    ln -sfn "releases/$1" "$app/current.new"
    mv -T "$app/current.new" "$app/current"
}

current() {
    link=$(readlink "$app/current" 2>/dev/null || true)
    printf '%s\n' "${link#releases/}"
}

# The release switched to before the current one.
previous() {
    tail -n 2 "$log" 2>/dev/null | sed -n '1{N;P;}'
}

switch_to() {
    rm -f "$app/undo"
    if [ ! -d "$app/releases/$1" ]; then
        echo "release $1 is not in $app/releases" >&2
        exit 3
    fi
    was=$(current)
    # A current release set up before this script was used starts the list.
    if [ ! -s "$log" ] && [ -n "$was" ]; then
        printf '%s\n' "$was" >"$log"
    fi
    if [ "$(tail -n 1 "$log" 2>/dev/null)" != "$1" ]; then
        printf '%s\n' "$1" >>"$log"
    fi
    printf '%s\n' "$1" >>"$app/seen"
    swap "$1"
    printf '%s\n' "$1" >"$app/undo"
    echo "current → releases/$1 (was ${was:-nothing})"
}

case $action in
switch)
    switch_to "$3"
    ;;
back)
    release=$3
    if [ "$release" = previous ]; then
        release=$(previous)
        if [ -z "$release" ]; then
            echo "no release before $(current) recorded in $log: name one with --var release=NAME" >&2
            exit 3
        fi
    fi
    switch_to "$release"
    ;;
revert)
    undo=$(cat "$app/undo" 2>/dev/null || true)
    if [ -z "$undo" ] || [ "$undo" != "$(current)" ] || [ "${3:-$undo}" != "$undo" ]; then
        echo "no switch to ${3:-a release} to revert: current is $(current)"
        exit 0
    fi
    back=$(previous)
    if [ -z "$back" ]; then
        echo "no release before $undo recorded in $log: nothing to switch back to" >&2
        exit 3
    fi
    sed '$d' "$log" >"$log.new"
    mv -f "$log.new" "$log"
    swap "$back"
    rm -f "$app/undo"
    echo "current → releases/$back (reverted from $undo)"
    ;;
prune)
    keep=$3
    case $keep in '' | *[!0-9]*)
        echo "KEEP must be a number, not '$keep'" >&2
        exit 2
        ;;
    esac
    current=$(current)
    previous=$(previous)
    # The last KEEP distinct releases switched to, newest first.
    kept=$(awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$app/seen" 2>/dev/null |
        awk '!seen[$0]++' | head -n "$keep")
    awk '!seen[$0]++' "$app/seen" 2>/dev/null | while IFS= read -r release; do
        if [ -z "$release" ] || [ ! -d "$app/releases/$release" ] ||
            [ "$release" = "$current" ] || [ "$release" = "$previous" ] ||
            printf '%s\n' "$kept" | grep -qxF -- "$release"; then
            continue
        fi
        rm -rf -- "$app/releases/$release"
        echo "pruned releases/$release"
    done
    echo "kept the last $keep releases, the current and the previous one"
    ;;
*)
    echo "usage: release.sh switch|back APP_DIR RELEASE | revert APP_DIR [RELEASE] | prune APP_DIR KEEP" >&2
    exit 2
    ;;
esac
