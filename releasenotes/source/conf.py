"""Sphinx configuration of the release notes on their own.

``tox -e releasenotes`` builds them into releasenotes/build/html, where
OpenStack's build-openstack-releasenotes job (release-notes-jobs-python3
in .zuul.yaml) looks for them. The documentation shows the same notes
(doc/source/releasenotes.rst).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '_ext'))

project = 'osc-gpu'
copyright = 'osc-gpu developers'
author = 'osc-gpu developers'

extensions = [
    # .. release-notes:: renders releasenotes/notes/ from git history,
    # titling notes made before the first tag "Unreleased".
    'untagged_notes',
]

# Each section carries the version (git tag) it was released in; the book
# as a whole has none, so Sphinx shows no "0.0.0"-like version anywhere.
version = ''
release = ''

root_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'sphinx'
html_theme = 'alabaster'
html_static_path = []
html_title = 'osc-gpu'
