#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter for the build venv.
# Search order: python3.13 then python3.12 on PATH, then pyenv install dirs
# (/root/.pyenv/versions/3.1[23]*/bin and $PYENV_ROOT/versions), then `pyenv which`.
# Each candidate is actually executed (pyenv shims exist even for versions that
# are not active and then fail), and must report version >= 3.12.
set -u

ok() {
    # $1: candidate command/path; succeed if it runs and is >= 3.12
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

emit() {
    # print an absolute, resolved path to the interpreter
    "$1" -c 'import sys; print(sys.executable)'
    exit 0
}

tried=()
for minor in 13 12; do
    name="python3.${minor}"
    tried+=("$name on PATH")
    if command -v "$name" >/dev/null 2>&1 && ok "$name"; then
        emit "$name"
    fi
    for root in "${PYENV_ROOT:-}" "${HOME:-/root}/.pyenv" /root/.pyenv; do
        [ -n "$root" ] || continue
        for dir in "$root"/versions/3."${minor}"*/bin; do
            [ -x "$dir/$name" ] || continue
            tried+=("$dir/$name")
            if ok "$dir/$name"; then emit "$dir/$name"; fi
        done
    done
    if command -v pyenv >/dev/null 2>&1; then
        tried+=("pyenv which $name")
        p=$(pyenv which "$name" 2>/dev/null) && [ -n "$p" ] && ok "$p" && emit "$p"
        # an installed but inactive pyenv version: ask pyenv for the newest 3.<minor>
        v=$(pyenv versions --bare 2>/dev/null | grep -E "^3\.${minor}(\.[0-9]+)?$" | sort -V | tail -n 1)
        if [ -n "$v" ]; then
            p=$(PYENV_VERSION="$v" pyenv which "$name" 2>/dev/null) && [ -n "$p" ] && ok "$p" && emit "$p"
        fi
    fi
done

{
    echo "error: no Python >= 3.12 found (ansible-core 2.21 needs a 3.12+ controller)."
    echo "Looked for: ${tried[*]}"
    echo "Install one, e.g. 'pyenv install 3.13' or 'apt-get install python3.13', or pass PYTHON=/path/to/python3.12+ to make."
} >&2
exit 1
