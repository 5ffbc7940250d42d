"""Title the notes of a project with no tag yet as unreleased.

reno files every note made before a project's first tag under "0.0.0",
its stand-in for "no version yet", while unreleased_version_title (in
releasenotes/config.yaml) renames only "X.Y.Z-N", the commits after a
tag. Until the first tag, this gives those notes that same title rather
than a version that was never released. Loaded after reno.sphinxext by
releasenotes/source/conf.py and doc/source/conf.py.
"""

import os

from docutils import nodes
from reno import config as reno_config
from reno import sphinxext as reno_sphinxext

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__),
                                     '..', '..', '..'))
UNTAGGED = '0.0.0'


class ReleaseNotes(reno_sphinxext.ReleaseNotesDirective):

    def run(self):
        sections = super().run()
        unreleased = reno_config.Config(REPO).unreleased_version_title
        for section in sections:
            for title in section.findall(nodes.title):
                if unreleased and title.astext() == UNTAGGED:
                    title[:] = [nodes.Text(unreleased)]
        return sections


def setup(app):
    app.setup_extension('reno.sphinxext')
    app.add_directive('release-notes', ReleaseNotes, override=True)
    return {'parallel_read_safe': True}
