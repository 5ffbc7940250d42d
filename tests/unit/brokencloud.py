"""A broken cloud on loopback: a tiny HTTP server answering one breakage.

Keystone, nova, glance and placement share one ``http.server`` in a thread
of the test process. Keystone works (or is the part that breaks); the
chosen service answers every request with the chosen breakage: an HTML
page, a 500, an empty body, JSON of the wrong shape, or a version document
whose microversion is missing or not a version. ``dead_auth_url()`` is a
loopback port where nothing listens.

With no breakage, nova answers just enough for ``gpu flavor create``
(version document, flavor create, extra specs, delete), and ``hold`` keeps
the request whose path matches unanswered (until the client goes away or
``release`` is set): the window a test sends a signal in.

The server is bounded: it stops by itself after ``lifetime`` seconds even
if a test forgets to stop it, and it only ever binds 127.0.0.1.
"""

import http.server
import json
import re
import socket
import socketserver
import threading
import time
import uuid

PROJECT_ID = 'b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6'

CLOUDS_YAML = """
clouds:
  broken:
    auth:
      auth_url: {auth_url}
      username: admin
      password: not-a-secret
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    api_timeout: 5
"""

HTML = (b'<!DOCTYPE html>\n<html><head><title>Welcome</title></head>\n'
        b'<body><h1>It works!</h1></body></html>\n')

# breakage -> (status, content type, body); None: the version breakages,
# which answer only version discovery wrongly and the rest as 404.
BREAKAGES = {
    'html': (200, 'text/html', HTML),
    'status 500': (500, 'text/html',
                   b'<html><body><h1>500 Internal Server Error</h1>\n'
                   b'</body></html>\n'),
    'empty body': (200, 'application/json', b''),
    'not json': (200, 'application/json', b'ok\n\x1b[31mred'),
    'json list': (200, 'application/json', b'[1, 2, 3]'),
    'json of another shape': (200, 'application/json',
                              b'{"pop": ["a", "b"], "version": 3}'),
    'no microversion': None,
    'bad microversion': None,
}
# Breakages only a versioned API (nova) can have.
VERSION_BREAKAGES = ('no microversion', 'bad microversion')
SERVICES = ('identity', 'compute', 'image', 'placement')


def dead_auth_url():
    """An auth URL on a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return 'http://127.0.0.1:%d/identity/v3' % port


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # a client that went away (killed, timed out) is expected


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _handle(self):
        cloud = self.server.cloud
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        service = self.path.strip('/').split('/')[0]
        cloud.requests.append((self.command, self.path))
        if cloud.hold and re.search(cloud.hold, self.path):
            cloud.held.set()
            cloud.release.wait(cloud.hold_seconds)
        if service == cloud.broken:
            status, kind, body = cloud.broken_answer(self.path)
        else:
            status, kind, body = cloud.working_answer(self.command, self.path)
        self.send_response(status)
        self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(body)))
        if self.path.endswith('/auth/tokens'):
            self.send_header('X-Subject-Token', 'gAAAA-broken-cloud')
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class BrokenCloud:
    """``with BrokenCloud('compute', 'html') as cloud:``; ``cloud.env()``."""

    def __init__(self, broken=None, breakage=None, lifetime=60.0,
                 hold=None, hold_seconds=20.0):
        assert broken is None or (broken in SERVICES
                                  and breakage in BREAKAGES)
        self.broken, self.breakage = broken, breakage
        self.requests = []
        self.hold, self.hold_seconds = hold, hold_seconds
        self.held = threading.Event()      # a held request arrived
        self.release = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._stop = threading.Event()
        self._server = _Server(('127.0.0.1', 0), _Handler)
        self._server.cloud = self
        self._server.timeout = 0.1
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name='brokencloud')

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self._server.server_address[1]

    @property
    def auth_url(self):
        return self.url + '/identity/v3'

    def _serve(self):
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            self._server.handle_request()
        self._server.server_close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.release.set()
        self._thread.join(5)

    def writes(self):
        """(method, path) of every request that changes something."""
        return [(m, p) for m, p in self.requests
                if m in ('POST', 'PUT', 'PATCH', 'DELETE')
                and not p.endswith('/auth/tokens')]

    # -- answers -------------------------------------------------------
    def broken_answer(self, path):
        answer = BREAKAGES[self.breakage]
        if answer is not None:
            return answer
        if not _is_version_document(path):
            return 404, 'application/json', b'{"itemNotFound": {}}'
        version = {'id': 'v2.1', 'status': 'CURRENT', 'min_version': '2.1',
                   'links': [{'rel': 'self',
                              'href': self.url + '/compute/v2.1/'}]}
        if self.breakage == 'bad microversion':
            version['version'] = 'two point ninety'
        body = ({'version': version} if path.rstrip('/').endswith('v2.1')
                else {'versions': [version]})
        return 200, 'application/json', json.dumps(body).encode()

    def working_answer(self, method, path):
        if path.rstrip('/').endswith('/identity/v3') and method == 'GET':
            return _json({'version': {
                'id': 'v3.14', 'status': 'stable',
                'links': [{'rel': 'self', 'href': self.auth_url + '/'}]}})
        if path.endswith('/auth/tokens'):
            return _json(self._token(), 201)
        if path.startswith('/compute'):
            return self._nova(method, path)
        return 404, 'application/json', b'{"error": {"code": 404}}'

    def _nova(self, method, path):
        """Just enough of nova for ``gpu flavor create``."""
        if _is_version_document(path):
            version = {'id': 'v2.1', 'status': 'CURRENT', 'version': '2.90',
                       'min_version': '2.1', 'links': [
                           {'rel': 'self',
                            'href': self.url + '/compute/v2.1/'}]}
            return _json({'version': version}
                         if path.rstrip('/').endswith('v2.1')
                         else {'versions': [version]})
        if method == 'POST' and path.endswith('/flavors'):
            return _json({'flavor': {
                'id': 'f-' + uuid.uuid4().hex[:8], 'name': 'flavor',
                'ram': 256, 'vcpus': 1, 'disk': 0, 'swap': 0,
                'OS-FLV-EXT-DATA:ephemeral': 0, 'description': None,
                'os-flavor-access:is_public': True, 'links': []}})
        if method == 'POST' and path.endswith('/os-extra_specs'):
            return _json({'extra_specs': {}})
        if method == 'DELETE':
            return 202, 'application/json', b''
        return 404, 'application/json', b'{"itemNotFound": {}}'

    def _token(self):
        domain = {'id': 'default', 'name': 'Default'}
        catalog = [
            {'type': service, 'name': service, 'id': uuid.uuid4().hex,
             'endpoints': [{'interface': 'public', 'region': 'RegionOne',
                            'region_id': 'RegionOne', 'id': uuid.uuid4().hex,
                            'url': self._endpoint(service)}]}
            for service in SERVICES]
        return {'token': {
            'methods': ['password'], 'expires_at': '2099-01-01T00:00:00Z',
            'issued_at': '2026-01-01T00:00:00Z',
            'project': {'id': PROJECT_ID, 'name': 'admin', 'domain': domain},
            'user': {'id': 'u1', 'name': 'admin', 'domain': domain},
            'roles': [{'id': 'r1', 'name': 'admin'}], 'catalog': catalog}}

    def _endpoint(self, service):
        return self.url + {'identity': '/identity/v3',
                           'compute': '/compute/v2.1',
                           'image': '/image',
                           'placement': '/placement'}[service]


def _is_version_document(path):
    return path.rstrip('/').split('?')[0] in ('/compute', '/compute/v2.1')


def _json(body, status=200):
    return status, 'application/json', json.dumps(body).encode()


def clouds_yaml(path, auth_url):
    """Write a clouds.yaml for cloud ``broken`` at ``auth_url``."""
    path.write_text(CLOUDS_YAML.format(auth_url=auth_url))
    return path
