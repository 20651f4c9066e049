# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The built docs site (``make docs``), opened in a real headless browser (Chromium).

Every page must render: the browser's DOM has the page title and an article body with text, and no
docutils error box. Every internal link must resolve: the file exists and, for ``page#anchor``,
the target page's DOM has that id. Stylesheets and scripts a page loads must exist. External
links are not followed (no network here).

``SNAPKIT_DOCS_HTML`` names the built site (default: .build/docs/html).
"""

from __future__ import annotations

import concurrent.futures
import html.parser
import os
import pathlib
import shutil
import subprocess
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = pathlib.Path(os.environ.get("SNAPKIT_DOCS_HTML", ROOT / ".build" / "docs" / "html"))
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Dom(html.parser.HTMLParser):
    """What the test needs from a DOM: ids, links, loaded resources, title, article text, error boxes."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.links, self.resources, self.errors = set(), [], [], 0
        self.title, self.body_text, self._in = "", 0, []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "link" and attrs.get("rel") == "stylesheet" or tag == "script" and attrs.get("src"):
            self.resources.append(attrs.get("href") or attrs.get("src"))
        if "system-message" in (attrs.get("class") or "").split():
            self.errors += 1
        if tag == "title" or attrs.get("itemprop") == "articleBody":
            self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag == "title":
            self._in.pop()

    def handle_data(self, data):
        if "title" in self._in:
            self.title += data
        elif self._in:
            self.body_text += len(data.strip())


def rendered(page):
    """The DOM Chromium builds for a page (scripts run), as HTML text."""
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--virtual-time-budget=3000", "--dump-dom", page.as_uri()]
    process = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0 and "<html" in process.stdout, f"{page}: the browser failed: {process.stderr[-1000:]}"
    return process.stdout


@pytest.fixture(scope="module")
def site():
    assert BROWSER, "no Chromium: `make docs` installs it (apt-get install chromium)"
    assert (SITE / "index.html").is_file(), f"no docs site at {SITE}: run `make docs` first"
    pages = sorted(path for path in SITE.rglob("*.html") if "_static" not in path.parts)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(pages, pool.map(lambda page: Dom(rendered(page)), pages)))


def test_site_has_the_guides_and_a_page_for_every_module_and_role(site):
    names = {str(page.relative_to(SITE)) for page in site}
    guides = {f"guides/{path.stem}.html" for path in (ROOT / "docs").glob("*.md")}
    modules = {f"collections/snapkit/cloud/{path.stem}_module.html" for path in (ROOT / "plugins" / "modules").glob("*.py")}
    roles = {f"collections/snapkit/cloud/{path.name}_role.html" for path in (ROOT / "roles").iterdir()}
    assert guides and modules and roles
    assert guides | modules | roles | {"index.html"} <= names


def test_every_page_renders(site):
    broken = {}
    for page, dom in site.items():
        if page.name in ("search.html", "genindex.html"):
            continue  # filled in by the search script, no article of their own
        if not dom.title.strip() or dom.body_text < 50 or dom.errors:
            broken[str(page.relative_to(SITE))] = f"title={dom.title.strip()!r} text={dom.body_text} errors={dom.errors}"
    assert not broken


def test_every_internal_link_and_resource_resolves(site):
    dangling = []
    for page, dom in site.items():
        for href in dom.links + dom.resources:
            url = urllib.parse.urlsplit(href)
            if url.scheme and url.scheme != "file":
                continue  # external: not followed offline
            target = page if not url.path else (page.parent / urllib.parse.unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                dangling.append(f"{page.relative_to(SITE)} -> {href} (no such file)")
            elif url.fragment and target in site and url.fragment not in site[target].ids:
                dangling.append(f"{page.relative_to(SITE)} -> {href} (no such anchor)")
    assert not dangling
