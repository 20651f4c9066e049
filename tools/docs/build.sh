#!/usr/bin/env bash
# make docs: the HTML docs site of snapkit.cloud, built offline from the collection copy.
#   1. antsibull-docs renders every module, plugin and role of the collection into Sphinx sources;
#   2. tools/docs/guides.py adds the guides (README and docs/*.md) as pages;
#   3. sphinx-build makes HTML with tools/docs/conf.py; every warning fails the build.
# Usage: tools/docs/build.sh <venv python> <collections root> <output dir>
set -euo pipefail
py=$1 collections=$2 out=$3
bin=$(dirname "$py")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
collection=$collections/ansible_collections/snapkit/cloud
# antsibull-docs runs ansible-doc and ansible-galaxy from PATH
export PATH=$bin:$PATH ANSIBLE_COLLECTIONS_PATH=$collections ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
rm -rf "$out"
mkdir -p "$out"
# antsibull-docs wants its destination writable by its owner only
mkdir -m 700 "$out/rst"
"$bin/antsibull-docs" collection --use-current --dest-dir "$out/rst" snapkit.cloud
"$py" "$here/guides.py" "$collection" "$out/rst"
"$bin/sphinx-build" -q -b html -c "$here" -W --keep-going "$out/rst" "$out/html"
echo "docs site: $out/html/index.html"
