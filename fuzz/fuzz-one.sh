#!/bin/sh
# fuzz-one.sh BIN NAME SECONDS FUZZSRC OUTDIR: one libFuzzer run of
# SECONDS, seeded with FUZZSRC/corpus/NAME and FUZZSRC/regress/NAME (so
# every past finding is replayed first).  New inputs go to
# OUTDIR/work/NAME (never into the source tree), crashes, leaks and
# timeouts to OUTDIR/artifacts/NAME/, the log to OUTDIR/NAME.log.
# Exit 0: nothing found.  Used by `make fuzz` (fuzz/local.mk).
set -eu
bin=$1 name=$2 secs=$3 src=$4 out=$5
work=$out/work/$name
art=$out/artifacts/$name
log=$out/$name.log
# a previous run's findings were reported then; keep one generation
if [ -d "$art" ] && [ -n "$(ls -A "$art")" ]; then
    rm -rf "$art.prev"
    mv "$art" "$art.prev"
fi
mkdir -p "$work" "$art"
dict=$src/json.dict
[ "$name" = detect ] && dict=$src/detect.dict
seeds=$src/corpus/$name
[ -d "$src/regress/$name" ] && seeds="$seeds $src/regress/$name"
echo "fuzz $name: ${secs}s (log: $log)"
rc=0
# the harnesses' temp rootfses: libFuzzer's exit skips their cleanup
tmp=$out/tmp/$name
rm -rf "$tmp"
mkdir -p "$tmp"
# shellcheck disable=SC2086  # seeds is a list of directories
TMPDIR=$tmp UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$dict" -artifact_prefix="$art/" "$work" $seeds >"$log" 2>&1 || rc=$?
rm -rf "$tmp"
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*(INITED|DONE))' "$log" |
    sed "s/^/  $name: /" || true
if [ "$rc" != 0 ] || [ -n "$(ls -A "$art")" ]; then
    echo "fuzz $name: FOUND SOMETHING (exit $rc); artifacts in $art:"
    ls -l "$art"
    grep -E -A40 '^(==[0-9]+==ERROR|FUZZ CHECK FAILED|.*runtime error:|SUMMARY)' "$log" | head -80
    echo "fuzz $name: reproduce: $bin $art/<file>; keep it: copy it to $src/regress/$name/"
    exit 1
fi
