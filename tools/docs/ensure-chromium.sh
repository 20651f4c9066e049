#!/usr/bin/env bash
# The docs site test opens every page in headless Chromium. Debian packages it; PyPI and npm
# browser downloads are not reachable here, so install the distribution's package when missing.
set -euo pipefail
for browser in chromium chromium-browser google-chrome; do
    if command -v "$browser" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (Debian package) for the docs site test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "Chromium is needed for the docs site test: install the chromium package (apt-get install chromium)" >&2
exit 1
