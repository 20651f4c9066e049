#!/usr/bin/env bash
# `make test`: run every stage even when an earlier one fails, log each to .build/logs/<stage>.log,
# then print a summary table and, as the very last line, "N passed, N failed" (N = stages).
# Exit status: 0 only if no stage failed. A stage's "stage cost: ..." lines (its own time and memory peak) are echoed
# under its result.
#
# STAGES="sanity units" tools/run-tests.sh   runs a subset (venv and collections always run first).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
logs=.build/logs
mkdir -p "$logs"

read -r -a stages <<< "${STAGES:-sanity units integration integration-real molecule lint docs build-check}"
all=(venv collections "${stages[@]}")
declare -A status seconds
passed=0 failed=0
start_all=$(date +%s)

for stage in "${all[@]}"; do
    log="$logs/$stage.log"
    echo "==> $stage (log: $log)"
    t0=$(date +%s)
    if [ "$stage" != venv ] && [ "$stage" != collections ] && [ "${status[venv]}" != passed ]; then
        echo "not run: the venv stage failed" > "$log"
        rc=1
    else
        make --no-print-directory "$stage" < /dev/null > "$log" 2>&1
        rc=$?
    fi
    seconds[$stage]=$(( $(date +%s) - t0 ))
    if [ "$rc" -eq 0 ]; then
        status[$stage]=passed; passed=$((passed + 1))
    else
        status[$stage]=FAILED; failed=$((failed + 1))
        echo "    FAILED (rc=$rc); last lines of $log:"
        tail -n "${FAIL_TAIL:-60}" "$log" | sed 's/^/    | /'
    fi
    grep '^stage cost:' "$log" | sed 's/^/    /'   # a stage's own figures (integration-real: time, memory peak)
    echo "    ${status[$stage]} in ${seconds[$stage]}s"
done

total=$(( $(date +%s) - start_all ))
echo
echo "Stage summary (logs in $logs/):"
printf '  %-18s %-8s %8s\n' STAGE RESULT SECONDS
for stage in "${all[@]}"; do
    printf '  %-18s %-8s %8s\n' "$stage" "${status[$stage]}" "${seconds[$stage]}"
done
printf '  %-18s %-8s %8s\n' total "" "$total"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
