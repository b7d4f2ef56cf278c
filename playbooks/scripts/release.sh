#!/bin/sh
# Switches an application's `current` link between releases, atomically.
#
#   release.sh switch APP_DIR RELEASE   point APP_DIR/current at releases/RELEASE,
#                                       remembering the release it pointed at before
#   release.sh revert APP_DIR           point APP_DIR/current back at that release
#
# The link is replaced with rename(2) (`mv -T`, GNU coreutils), so a reader sees the old
# release or the new one, never a missing link.
set -eu

action=$1
app=$2

swap() {
    ln -sfn "$1" "$app/current.new"
    mv -T "$app/current.new" "$app/current"
}

case $action in
switch)
    release=$3
    if [ ! -d "$app/releases/$release" ]; then
        echo "release $release is not in $app/releases" >&2
        exit 3
    fi
    current=$(readlink "$app/current" 2>/dev/null || true)
    if [ "$current" != "releases/$release" ]; then
        printf '%s\n' "$current" >"$app/previous.new"
        mv -f "$app/previous.new" "$app/previous"
    fi
    swap "releases/$release"
    echo "current → releases/$release (was ${current:-nothing})"
    ;;
revert)
    previous=$(cat "$app/previous" 2>/dev/null || true)
    if [ -z "$previous" ]; then
        echo "no previous release recorded in $app/previous: nothing to switch back to" >&2
        exit 3
    fi
    swap "$previous"
    echo "current → $previous (reverted)"
    ;;
*)
    echo "usage: release.sh switch APP_DIR RELEASE | release.sh revert APP_DIR" >&2
    exit 2
    ;;
esac
