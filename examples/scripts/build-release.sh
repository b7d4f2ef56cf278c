#!/bin/sh
# Streamed to the host's `sh -s`: nothing is copied there, nothing is left behind but the
# release it builds.
set -eu
release="$1"
dir="/srv/app/releases/$release"
mkdir -p "$dir"
printf 'release %s built on %s\n' "$release" "$(hostname)" > "$dir/BUILD-INFO"
echo "built $release in $dir"
