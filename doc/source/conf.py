"""Sphinx configuration for the osc-gpu documentation (``make docs``)."""

import os
import sys

# Local extensions (doc/source/_ext).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '_ext'))
# The release notes' own (releasenotes/source/_ext), so the notes read the
# same here and in the release notes build.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..',
                                'releasenotes', 'source', '_ext'))

project = 'osc-gpu'
copyright = 'osc-gpu developers'
author = 'osc-gpu developers'

extensions = [
    # .. autoprogram-cliff:: writes the CLI reference from the commands'
    # own argparse parsers, so --help and these pages say the same thing.
    'cliff.sphinxext',
    # .. release-notes:: renders releasenotes/notes/ from git history,
    # titling notes made before the first tag "Unreleased" (reno alone
    # says "0.0.0").
    'untagged_notes',
    # .. deliberate-strictness::, .. nova-extra-specs:: and
    # .. nova-image-properties:: render osc-gpu's rule tables.
    'rules_tables',
]

# Commands are documented as operators type them.
autoprogram_cliff_application = 'openstack'
# Options every command shares (--help and cliff's output formatting) are
# described once at the top of cli/index.rst rather than under each command.
autoprogram_cliff_ignored = [
    '--help', '--format', '--column', '--noindent', '--prefix',
    '--max-width', '--fit-width', '--print-empty', '--quote',
    '--sort-column', '--sort-ascending', '--sort-descending',
]

root_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'sphinx'

# A theme that ships with Sphinx: nothing to fetch at build time.
html_theme = 'alabaster'
html_theme_options = {
    'description': 'GPU passthrough for OpenStackClient',
    'fixed_sidebar': True,
    # Room for 100-column command output without scrolling.
    'page_width': '1160px',
}
html_static_path = []
html_title = 'osc-gpu documentation'

# These pages are generated from outside doc/source (the commands' parsers,
# git history), which Sphinx does not watch: read them again on every build
# so an incremental `make docs` never shows stale help or notes.
_GENERATED_PAGES = ['cli/index', 'releasenotes']


def _always_reread(app, env, added, changed, removed):
    return [page for page in _GENERATED_PAGES if page in env.found_docs]


def setup(app):
    app.connect('env-get-outdated', _always_reread)
