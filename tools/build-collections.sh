#!/usr/bin/env bash
# Build the ansible_collections tree that ansible-test, molecule, the integration tests and
# the linters run against:
#
#   <root>/ansible_collections/snapkit/cloud   a real copy (ansible-test refuses symlinks) of the
#                                              repo's tracked + untracked-not-ignored files,
#                                              refreshed on every run
#   <root>/ansible_collections/<ns>/<name>     dependency collections copied from the `ansible`
#                                              package in the venv (Galaxy is unreachable)
#
# Usage: tools/build-collections.sh VENV_PYTHON ROOT
set -euo pipefail
py=$1
root=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/ansible_collections/snapkit/cloud"

# Dependency collections, as siblings of ours (the sanity import test and validate-modules
# resolve doc fragments and module_utils only from the same ansible_collections root).
# community.aws: anchor for benchmarks and a third-party client of cloudsim.
DEPS=(amazon.aws community.aws openstack.cloud ansible.windows)

# 1. our collection
rm -rf "$dest"
mkdir -p "$dest"
cd "$repo"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ "$(git rev-parse --show-toplevel)" = "$repo" ]; then
    # NUL-separated list; tracked files deleted from the work tree are skipped
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
            if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
          done \
        | tar --null --no-recursion -T - -cf - \
        | tar -xf - -C "$dest"
else
    # not a git checkout (e.g. an unpacked archive): copy everything but harness state
    tar --exclude=./.build --exclude=./.git --exclude=./tests/output -cf - . | tar -xf - -C "$dest"
fi

# ansible-test lists the collection's files with git when it finds a .git directory in the
# collection root *or any parent*. The copy lives in the repo's git-ignored .build/, so the
# parent repo would report no files at all and every sanity test would pass on nothing. A
# repository of its own in the copy makes ansible-test list exactly the copied files
# (git ls-files --cached --others --exclude-standard, honouring the copied .gitignore).
git -C "$dest" init --quiet

# 2. dependency collections from the venv's `ansible` package
src=$("$py" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__file__) if getattr(ansible_collections, "__file__", None) else list(ansible_collections.__path__)[0])')
for fqcn in "${DEPS[@]}"; do
    ns=${fqcn%%.*}
    name=${fqcn#*.}
    from="$src/$ns/$name"
    to="$root/ansible_collections/$ns/$name"
    if [ ! -f "$from/MANIFEST.json" ]; then
        echo "error: dependency collection $fqcn not found in $src (is the 'ansible' package installed?)" >&2
        exit 1
    fi
    if ! cmp -s "$from/MANIFEST.json" "$to/MANIFEST.json" 2>/dev/null; then
        rm -rf "$to"
        mkdir -p "$(dirname "$to")"
        cp -a "$from" "$to"
        find "$to" -name __pycache__ -type d -prune -exec rm -rf {} +
    fi
done

echo "collections: $dest ($(cd "$dest" && git ls-files --others --exclude-standard | wc -l) files)" \
     "+ ${DEPS[*]} from $src"
