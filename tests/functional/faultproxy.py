"""A loopback HTTP proxy that records the CLI's requests and fails chosen ones.

The ``openstack`` process under test is pointed at it with ``http_proxy``
(requests honours it for 127.0.0.1 as long as ``no_proxy`` does not name
the host), so every request, keystone's included, passes through a thread
of the test process. A :class:`Fault` picks one request by method, URL
regex and occurrence and answers it with a 5xx, resets the connection, or
holds it without answering, either before the cloud sees the request or
after the cloud has done it (the answer is lost on the way back).

Only plain HTTP: the local cloud and a devstack gate serve their APIs so.
"""

import dataclasses
import http.client
import http.server
import pathlib
import re
import select
import socket
import socketserver
import struct
import threading
import time
import urllib.parse

WRITE_METHODS = ('POST', 'PUT', 'PATCH', 'DELETE')
# Headers that describe one hop, not the message: never forwarded.
_HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-connection',
               'proxy-authorization', 'proxy-authenticate', 'te', 'trailer',
               'transfer-encoding', 'upgrade'}
STATUS, RESET, TIMEOUT, DELAY = 'status', 'reset', 'timeout', 'delay'


@dataclasses.dataclass
class Fault:
    """Fail the ``occurrence``-th request matching ``method`` and ``url``.

    ``url`` is a regex searched in the whole URL. ``kind`` is STATUS
    (answer ``status``), RESET (TCP reset, no answer), TIMEOUT (answer
    nothing for up to ``hold`` seconds: longer than the client waits) or
    DELAY (pass the request on after ``hold`` seconds, or as soon as
    ``until()`` is true: to widen a race window on purpose).
    With ``after`` the cloud gets and performs the request first; with
    ``answer`` (a regex), only requests whose answer from the cloud
    matches count, e.g. the status poll that reports ACTIVE.
    """

    method: str
    url: str
    occurrence: int = 1
    kind: str = STATUS
    status: int = 500
    after: bool = False
    answer: str = None
    hold: float = 60.0
    until: object = None
    seen: int = 0
    fired: bool = False

    def matches(self, method, url):
        return (not self.fired and method == self.method
                and re.search(self.url, url) is not None)

    def counts(self):
        """One more matching request: True when it is the one to fail."""
        self.seen += 1
        self.fired = self.seen == self.occurrence
        return self.fired


@dataclasses.dataclass
class Request:
    method: str
    url: str
    status: int = None        # None: no answer reached the client
    fault: Fault = None
    # A fault that depends on the cloud's answer to this request.
    pending: Fault = None
    at: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def path(self):
        parts = urllib.parse.urlsplit(self.url)
        return parts.path + ('?' + parts.query if parts.query else '')

    @property
    def is_write(self):
        """Changes the cloud: a token request (a POST) counts as a read."""
        return (self.method in WRITE_METHODS
                and not self.path.rstrip('/').endswith('/auth/tokens'))


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'faultproxy'

    def log_message(self, *args):
        pass   # the record of requests is the log

    def _relay(self):
        proxy = self.server.proxy
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        record = Request(self.command, self.path)
        fault = proxy.record(record)
        if fault and fault.kind == DELAY:
            proxy.delay(fault)
            fault = None
        if fault and not fault.after:
            return self._fail(fault)
        target = urllib.parse.urlsplit(self.path)
        upstream = http.client.HTTPConnection(target.hostname, target.port,
                                              timeout=proxy.upstream_timeout)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, record.path, body=body,
                             headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        except OSError as exc:
            record.status = 502
            return self._answer(502, [], str(exc).encode())
        finally:
            upstream.close()
        fault = fault or proxy.judge(record, payload)
        if fault:
            return self._fail(fault)
        record.status = answer.status
        self._answer(answer.status, answer.getheaders(), payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _relay

    def _answer(self, status, headers, payload):
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in _HOP_BY_HOP | {'content-length'}:
                self.send_header(key, value)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(payload)

    def _fail(self, fault):
        if fault.kind == STATUS:
            self.server.proxy.answered(fault)
            body = ('{"error": {"code": %d, "message": "fault injected by '
                    'the test proxy"}}' % fault.status).encode()
            self._answer(fault.status,
                         [('Content-Type', 'application/json')], body)
            return
        if fault.kind == TIMEOUT:
            self._hold(fault.hold)
        # SO_LINGER 0: close() sends a RST instead of a clean FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack('ii', 1, 0))
        self.close_connection = True
        self.connection.close()

    def _hold(self, seconds):
        """Say nothing until the client gives up (closes) or ``seconds``."""
        deadline = time.monotonic() + seconds
        stopping = self.server.proxy.stopping
        while time.monotonic() < deadline and not stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.2)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                return


class FaultProxy:
    """Run with ``with FaultProxy() as proxy:``; give ``proxy.env()`` to
    the CLI; read ``proxy.requests``."""

    def __init__(self, upstream_timeout=120):
        self.upstream_timeout = upstream_timeout
        self.requests = []
        self.faults = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(('127.0.0.1', 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name='faultproxy', daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self._server.server_address[1]

    def env(self, base):
        """``base`` (an environment) with the proxy set and no bypass."""
        env = {k: v for k, v in base.items()
               if k.lower() not in ('no_proxy', 'http_proxy', 'all_proxy')}
        env['http_proxy'] = env['HTTP_PROXY'] = self.url
        return env

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self, *faults):
        """Forget the requests seen so far and fail ``faults`` from now."""
        with self._lock:
            self.requests = []
            self.faults = list(faults)

    def record(self, request):
        """Log ``request``; the fault it triggers, if any."""
        with self._lock:
            self.requests.append(request)
            for fault in self.faults:
                if not fault.matches(request.method, request.url):
                    continue
                if fault.answer is not None:
                    request.pending = fault
                elif fault.counts():
                    request.fault = fault
                    return fault
        return None

    def judge(self, request, payload):
        """The pending fault of ``request`` if the cloud's answer fires it."""
        fault = request.pending
        with self._lock:
            if fault and not fault.fired and re.search(
                    fault.answer, payload.decode('utf-8', 'replace')) \
                    and fault.counts():
                request.fault = fault
                return fault
        return None

    def delay(self, fault):
        deadline = time.monotonic() + fault.hold
        while time.monotonic() < deadline and not self.stopping.is_set():
            if fault.until and fault.until():
                return
            time.sleep(0.05)

    def answered(self, fault):
        with self._lock:
            for request in self.requests:
                if request.fault is fault:
                    request.status = fault.status

    @property
    def writes(self):
        return [r for r in self.requests if r.is_write]


def wait_for(predicate, seconds, interval=0.2):
    """Poll ``predicate`` until true or ``seconds`` pass; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def clouds_yaml_with(env, folder, **settings):
    """``env`` using a copy of its cloud's config with ``settings`` added.

    E.g. ``api_timeout``: OSC has no command-line option for it, but the
    SDK connection it builds honours the clouds.yaml key.
    """
    import openstack.config
    import yaml

    files = ([env['OS_CLIENT_CONFIG_FILE']]
             if env.get('OS_CLIENT_CONFIG_FILE') else None)
    config = openstack.config.OpenStackConfig(config_files=files)
    name = env['OS_CLOUD']
    # Merged with secure.yaml, if the cloud keeps its secrets there.
    cloud = dict(config.cloud_config['clouds'][name], **settings)
    path = pathlib.Path(folder) / 'clouds.yaml'
    path.touch(mode=0o600)   # it holds the password: the user's eyes only
    path.write_text(yaml.safe_dump({'clouds': {name: cloud}}))
    return dict(env, OS_CLIENT_CONFIG_FILE=str(path))
