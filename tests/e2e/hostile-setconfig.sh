#!/bin/sh
# hostile-setconfig.sh SRC DST: a createRuntime hook the hostile tests put
# before oci-systemd-hook: after runc has read DST (the bundle's
# config.json), it replaces it with SRC, so that the hook reads a config the
# runtime itself would have refused (e.g. a root.path that is a symlink,
# which runc rejects but other engines accept).
set -eu
cat >/dev/null
cp "$1" "$2.tmp"
mv "$2.tmp" "$2"
