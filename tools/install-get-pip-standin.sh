#!/usr/bin/env bash
# Install tools/get_pip_standin.py where ansible-test looks for its cached pip bootstrap
# script, with the matching pip wheel beside it, so `ansible-test sanity/units --venv|--local`
# can create virtual environments without the (unreachable) Ansible CI file host.
#
# Usage: tools/install-get-pip-standin.sh VENV_PYTHON WHEEL_DIR
# The pip version and the cache path are read from the installed ansible-test at run time
# (the version changes with ansible-core releases: 25.2 for 2.21.5); the path follows $HOME.
set -euo pipefail
py=$1
wheel_dir=$2
here=$(cd "$(dirname "$0")" && pwd)

read -r pip_version cache_file < <("$py" - <<'PYEOF'
import os, sys, types
from ansible_test._internal.python_requirements import get_venv_packages
version = get_venv_packages(types.SimpleNamespace(version='%d.%d' % sys.version_info[:2]))['pip']
# same expression as ansible_test/_util/target/setup/requirements.py bootstrap()
print(version, os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % version.replace('.', '_')))
PYEOF
)
cache_dir=$(dirname "$cache_file")
wheel="pip-${pip_version}-py3-none-any.whl"

mkdir -p "$wheel_dir" "$cache_dir"
if [ ! -f "$wheel_dir/$wheel" ]; then
    "$py" -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheel_dir" "pip==${pip_version}"
fi
cp -f "$wheel_dir/$wheel" "$cache_dir/$wheel"
cp -f "$here/get_pip_standin.py" "$cache_file"
echo "get-pip stand-in for pip ${pip_version}: ${cache_file} (+ ${wheel})"
