#!/usr/bin/env bash
# `make integration-real` (a stage of `make test`): start the real OpenStack services once, run the tests marked
# openstack_real (the real-backend params of the OpenStack module, role, AWX and openstackclient tests) against them,
# stop them, and print the stage's time and the services' memory peak. The first run installs MariaDB and RabbitMQ
# (Debian), the services' venv and the databases; later runs reuse .build/openstack-real/.
# Usage: run-stage.sh <collection venv python> <collections path> [pytest args...]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
py=$1 collections=$2
shift 2
t0=$(date +%s)
state=${SNAPKIT_OPENSTACK_REAL_STATE:-$PWD/.build/openstack-real}
export SNAPKIT_OPENSTACK_REAL_STATE=$state PYTHONPATH="$PWD/tests${PYTHONPATH:+:$PYTHONPATH}"
if ! "$py" -m openstack_real start; then
    echo "integration-real: the real OpenStack services did not start (logs in $state/logs/)"
    exit 1
fi
started=$(( $(date +%s) - t0 ))
peak_file="$state/run/rss-peak"
echo 0 > "$peak_file"
( while :; do
      rss=$("$py" -m openstack_real rss 2>/dev/null || echo 0)
      [ "$rss" -gt "$(cat "$peak_file")" ] && echo "$rss" > "$peak_file"
      sleep 5
  done ) &
sampler=$!
rc=0
( set -x; SNAPKIT_OPENSTACK_REAL_CLOUDS="$state/clouds.yaml" ANSIBLE_COLLECTIONS_PATH="$collections" \
  "$py" -m pytest -p no:cacheprovider -n 0 -m openstack_real "$@" tests/integration ) || rc=1
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
"$py" -m openstack_real stop || rc=1
peak=$(cat "$peak_file")
echo "integration-real: $(( $(date +%s) - t0 ))s (services up after ${started}s), memory peak $(( peak / 1024 )) MiB" \
     "(resident, the services' process groups)"
exit $rc
