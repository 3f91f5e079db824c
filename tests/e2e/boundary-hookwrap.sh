#!/bin/sh
# boundary-hookwrap.sh LOG HOOK ARGS...: runs HOOK ARGS with the state on
# stdin and keeps its stderr in LOG (runtimes show a hook's stderr only when
# it fails). Then, whatever the hook's exit status, runs LOG.after.sh if
# the case wrote one (sh, PID set to the container's pid), output in
# LOG.after.out: what the hook left, also when it refused.
log=$1
hook=$2
shift 2
state=$(cat)
rc=0
printf '%s' "$state" | "$hook" "$@" 2>"$log" || rc=$?
cat "$log" >&2
if [ -f "$log.after.sh" ]; then
    PID=$(printf '%s' "$state" | jq -r .pid) sh "$log.after.sh" >"$log.after.out" 2>&1 || true
fi
exit "$rc"
