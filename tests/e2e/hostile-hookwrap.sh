#!/bin/sh
# hostile-hookwrap.sh LOG HOOK ARGS...: runs HOOK ARGS (stdin passed on)
# and keeps its stderr in LOG. runc shows a hook's stderr only when the hook
# fails; test-hostile-input.sh needs the warnings of hooks that succeed.
log=$1
hook=$2
shift 2
rc=0
"$hook" "$@" 2>"$log" || rc=$?
cat "$log" >&2
exit "$rc"
