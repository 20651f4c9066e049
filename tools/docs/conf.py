# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sphinx configuration of the snapkit.cloud docs site (``make docs``; see tools/docs/build.sh).

The site is built offline: instead of intersphinx (which downloads other sites' inventories), labels
that belong to the Ansible docs (other collections' plugins, Ansible's reference appendices) become
links to docs.ansible.com. Any other unresolved reference stays a warning, and warnings fail the build.
"""

from docutils import nodes

project = "snapkit.cloud"
copyright = "Contributors to the snapkit.cloud project"  # pylint: disable=redefined-builtin
title = html_short_title = "snapkit.cloud"
extensions = ["sphinx_antsibull_ext"]
pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_modindex = False
html_use_index = False
html_copy_source = False
default_role = "any"
nitpicky = True

ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"
# Labels of Ansible's own docs that antsibull-docs refers to.
ANSIBLE_LABELS = {
    "common_return_values": "reference_appendices/common_return_values.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
}


def ansible_docs_url(target):
    """Where a label of the Ansible docs lives, or None when the label is not theirs."""
    if target in ANSIBLE_LABELS:
        return ANSIBLE_DOCS + ANSIBLE_LABELS[target]
    if target.startswith("ansible_collections.") and not target.startswith("ansible_collections.snapkit.cloud."):
        namespace, name, label = target.split(".", 3)[1:]
        # "<plugin>_<type>" is a plugin's page; "<plugin>_<type>__parameter-x" an option on it.
        page, _sep, anchor = label.partition("__")
        return f"{ANSIBLE_DOCS}collections/{namespace}/{name}/{page}.html" + (f"#{anchor}" if anchor else "")
    return None


def link_to_ansible_docs(_app, _env, node, contnode):
    url = node.get("refdomain") in ("std", "") and ansible_docs_url(node.get("reftarget", ""))
    if not url:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference.append(contnode)
    return reference


def link_logo_to_front_page(_app, _pagename, _templatename, context, _doctree):
    """The theme's logo links to "/" (a web server's root); make it this site's front page, relative to each page."""
    context["theme_documentation_home_url"] = context["pathto"]("index")


def setup(app):
    app.connect("missing-reference", link_to_ansible_docs)
    app.connect("html-page-context", link_logo_to_front_page)


# The theme's top bar links to the project and to Ansible's documentation.
html_theme_options = {
    "topbar_links": {
        "Repository": "https://github.com/snapkit/snapkit.cloud",
        "Ansible documentation": "https://docs.ansible.com/",
    },
    "show_extranav": False,
    "show_rtd_ethical_ads": False,
}
