"""gunicorn entry point for an OpenStack WSGI module named in $DEVCLOUD_WSGI.

keystone, nova and neutron parse sys.argv with oslo.config when their WSGI
module is imported, and would die on gunicorn's own options: clear argv
first (gunicorn has read it by then). cinder reads its config files only
from argv: $DEVCLOUD_WSGI_ARGS puts them there.
"""
import importlib
import os
import sys

sys.argv = sys.argv[:1] + os.environ.get('DEVCLOUD_WSGI_ARGS', '').split()
application = importlib.import_module(os.environ['DEVCLOUD_WSGI']).application
