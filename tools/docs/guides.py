# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Adds the guides to the Sphinx sources that antsibull-docs rendered: the README becomes the front
page and every ``docs/*.md`` a page under ``guides/``.

The Markdown is rendered to HTML with markdown-it-py (already in the venv; myst-parser cannot be
installed next to the pinned markdown-it-py) and embedded as raw HTML. Links are rewritten for the
site: a link to a guide goes to its page, a link to a module, plugin or role source goes to its
reference page, and a link to any other file of the repository goes to the file in the repository.
Headings get GitHub's anchors, so ``guide.md#section`` links keep working.

Usage: guides.py <collection root> <rst dir>
"""

from __future__ import annotations

import pathlib
import posixpath
import re
import sys
import textwrap

import yaml
from markdown_it import MarkdownIt

PLUGIN_DIRS = {"modules": "module", "lookup": "lookup", "filter": "filter", "inventory": "inventory"}


def slug(text):
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


class Site:
    def __init__(self, root, rst):
        self.root, self.rst = root, rst
        galaxy = yaml.safe_load((root / "galaxy.yml").read_text())
        self.repository = galaxy["repository"].rstrip("/")
        self.markdown = MarkdownIt("commonmark", {"html": True}).enable("table")

    def page_of(self, repo_path):
        """The site page (relative to the rst root, .html) for a repository path, or None."""
        parts = repo_path.split("/")
        if parts[0] == "docs" and len(parts) == 2 and repo_path.endswith(".md"):
            return f"guides/{parts[1][:-3]}.html"
        if parts[0] == "plugins" and len(parts) == 3 and parts[1] in PLUGIN_DIRS:
            return f"collections/snapkit/cloud/{pathlib.PurePath(parts[2]).stem}_{PLUGIN_DIRS[parts[1]]}.html"
        if parts[0] == "roles" and len(parts) >= 2 and (self.root / "roles" / parts[1]).is_dir():
            return f"collections/snapkit/cloud/{parts[1]}_role.html"
        return None

    def rewrite(self, href, source, page):
        """``href`` as written in repository file ``source``, for the site page ``page``."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", href) or href.startswith("#"):
            return href
        target, _hash, fragment = href.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        site_page = self.page_of(repo_path)
        if site_page is None:
            return f"{self.repository}/blob/main/{repo_path}" + (f"#{fragment}" if fragment else "")
        relative = posixpath.relpath(site_page, posixpath.dirname(page))
        return relative + (f"#{fragment}" if fragment else "")

    def html(self, text, source, page):
        tokens = self.markdown.parse(text)
        for index, token in enumerate(tokens):
            if token.type == "table_open":  # the theme styles tables of this class
                token.attrSet("class", "docutils align-default")
            if token.type == "heading_open":
                token.attrSet("id", slug(tokens[index + 1].content))
            for child in token.children or []:
                if child.type == "link_open":
                    child.attrSet("href", self.rewrite(child.attrGet("href"), source, page))
        return self.markdown.renderer.render(tokens, self.markdown.options, {})

    def write(self, source, page, extra_rst=""):
        """Write the rst page ``page`` (.html path) from the Markdown file ``source``; return its title."""
        text = (self.root / source).read_text()
        title_match = re.search(r"^# (.+)$", text, re.MULTILINE)
        if not title_match:
            raise SystemExit(f"{source}: a guide needs a '# Title' line")
        title = title_match.group(1).strip()
        body = self.html(text.replace(title_match.group(0), "", 1), source, page)
        rst = f"{title}\n{'=' * len(title)}\n\n.. raw:: html\n\n{textwrap.indent(body, '   ')}\n{extra_rst}"
        path = self.rst / (page[:-5] + ".rst")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rst)
        return title


def main(root, rst):
    site = Site(pathlib.Path(root), pathlib.Path(rst))
    guides = sorted(path.name for path in (site.root / "docs").glob("*.md"))
    for name in guides:
        site.write(f"docs/{name}", f"guides/{name[:-3]}.html")
    toctrees = "\n".join([
        "", ".. toctree::", "   :maxdepth: 1", "   :caption: Guides", "",
        *[f"   guides/{name[:-3]}" for name in guides],
        "", ".. toctree::", "   :maxdepth: 2", "   :caption: Reference", "", "   collections/index",
        "", ".. toctree::", "   :maxdepth: 1", "   :caption: Plugin indexes", "   :glob:", "", "   collections/index_*",
        "", ".. toctree::", "   :maxdepth: 1", "   :caption: Reference indexes", "", "   collections/environment_variables", "",
    ])
    site.write("README.md", "index.html", extra_rst=toctrees)


if __name__ == "__main__":
    main(*sys.argv[1:3])
