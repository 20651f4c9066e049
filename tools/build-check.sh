#!/usr/bin/env bash
# Check the built collection artifact the way a user gets it: install the tarball without
# Galaxy (--no-deps: the dependency collections come from the `ansible` package, like on a
# user's machine with `ansible` installed) into an empty path, then render module docs
# from that install with ansible-doc.
# Usage: tools/build-check.sh DIST_DIR INSTALL_DIR
set -euo pipefail
dist=$1
target=$2
module=${BUILD_CHECK_MODULE:-snapkit.cloud.ebs_multi_snapshot}

shopt -s nullglob
tarballs=("$dist"/snapkit-cloud-*.tar.gz)
if [ ${#tarballs[@]} -ne 1 ]; then
    echo "error: expected exactly one snapkit-cloud-*.tar.gz in $dist, found ${#tarballs[@]}" >&2
    exit 1
fi
tarball=${tarballs[0]}
echo "artifact: $tarball ($(du -h "$tarball" | cut -f1), $(tar -tzf "$tarball" | wc -l) entries)"

# nothing from the harness or from test output may end up in the artifact
if bad=$(tar -tzf "$tarball" | grep -E '(^|/)(\.build|\.git|tests/output|__pycache__|\.pytest_cache)(/|$)|\.pyc$'); then
    echo "error: unwanted files in the artifact:" >&2
    echo "$bad" | head -20 >&2
    exit 1
fi

rm -rf "$target"
mkdir -p "$target"
# only the fresh install is on the collections path (plus, via sys.path, the `ansible`
# package's collections in the venv, which provide amazon.aws etc. as on a user's machine)
export ANSIBLE_COLLECTIONS_PATH="$target"
ansible-galaxy collection install --offline --no-deps -p "$target" "$tarball"
ansible-galaxy collection list snapkit.cloud
out=$(ansible-doc "$module")
# here-strings, not pipes: with pipefail, `echo "$out" | head` dies of SIGPIPE (141) once head has what it needs
head -n 25 <<<"$out"
# the docs must come from the installed copy, not from a collection elsewhere
if [[ "$(head -n 3 <<<"$out")" != *"$target/"* ]]; then
    echo "error: ansible-doc did not render $module from $target" >&2
    exit 1
fi
echo "build-check: ansible-doc $module rendered from the installed artifact"
