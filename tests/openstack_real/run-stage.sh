#!/usr/bin/env bash
# `make integration-real` (the integration-real stage of `make test`): start the real OpenStack services once, run
# against them what runs on both backends (the tests marked openstack_real: the [real] params of the OpenStack module,
# role, AWX and openstackclient tests; then the OpenStack demo chapter), stop them, and print the stage's wall time
# and the services' memory peak. The first run installs MariaDB and RabbitMQ (Debian), the services' venv and the
# databases; later runs reuse .build/openstack-real/. Whatever happens (a failure, Ctrl-C, a kill by TERM), the EXIT
# trap stops every service by its process group.
# Usage: run-stage.sh <collection venv python> <collections path> [pytest args...]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
py=$1 collections=$2
shift 2
t0=$(date +%s)
state=${SNAPKIT_OPENSTACK_REAL_STATE:-$PWD/.build/openstack-real}
export SNAPKIT_OPENSTACK_REAL_STATE=$state PYTHONPATH="$PWD/tests${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$state/run"
peak_file="$state/run/rss-peak"
echo 0 > "$peak_file"
sampler='' step=''

# Each step (a pytest session, the demo) runs in a session of its own, in the background, and the script waits for
# it: a signal then reaches the traps at once (bash runs no trap while a foreground child runs), and the trap can end
# the whole step. pytest here catches INT and TERM (a test fails, the next one starts): the step gets TERM, then KILL.
run_step() {
    echo "+ $*"
    setsid "$@" < /dev/null &
    step=$!
    wait "$step"
    local status=$?
    step=
    return "$status"
}

# Called by finish, which the EXIT trap calls.
# shellcheck disable=SC2329
stop_step() {
    [ -n "$step" ] || return 0
    kill -TERM -- "-$step" 2>/dev/null
    for _ in 1 2 3 4 5; do kill -0 -- "-$step" 2>/dev/null || return 0; sleep 1; done
    kill -KILL -- "-$step" 2>/dev/null
}

# The EXIT trap calls it.
# shellcheck disable=SC2329
finish() {
    rc=$?
    trap - EXIT INT TERM
    stop_step
    [ -n "$sampler" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
    "$py" -m openstack_real stop || rc=1
    if "$py" -m openstack_real status; then
        echo "integration-real: services still running after stop"; rc=1
    fi
    peak=$(cat "$peak_file" 2>/dev/null || echo 0)
    echo "stage cost: integration-real rc=$rc, wall time $(( $(date +%s) - t0 ))s (services up after ${started:-?}s);" \
         "memory peak $(( peak / 1024 )) MiB (sum of the resident memory of the services' process groups, sampled every 5s)"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The sampler starts first: the memory of a cold start (database syncs, first boots) counts too.
( while :; do
      rss=$("$py" -m openstack_real rss 2>/dev/null || echo 0)
      [ "$rss" -gt "$(cat "$peak_file")" ] && echo "$rss" > "$peak_file"
      sleep 5
  done ) &
sampler=$!

if ! "$py" -m openstack_real start; then
    echo "integration-real: the real OpenStack services did not start (the reason is above; logs in $state/logs/)"
    exit 1
fi
started=$(( $(date +%s) - t0 ))
export SNAPKIT_OPENSTACK_REAL_CLOUDS="$state/clouds.yaml" ANSIBLE_COLLECTIONS_PATH="$collections"
rc=0
# One pytest session per directory (each has its own conftest.py, see the Makefile's integration target).
for tests in tests/integration tests/cloudsim/tests/test_cloudsim_openstack_openstackclient.py; do
    run_step "$py" -m pytest -p no:cacheprovider -p openstack_real.testing -n 0 -m openstack_real "$@" "$tests" || rc=1
done
CHAPTERS=openstack OPENSTACK_BACKENDS=real run_step "$py" tools/demo.py || rc=1
exit $rc
