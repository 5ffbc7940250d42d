"""Nova's server list and placement's per-provider allocations, faked at
the HTTP layer on a :class:`FakeCloud` with a :class:`FakePlacement`.

Servers answer as nova 34 does at the requested microversion: from 2.47
the flavor is embedded with its extra specs, from 2.98 the image with
its properties. The list pages as nova pages it: at most ``max_limit``
servers a page, and a ``servers_links`` next link when a page is full.
A server given devices holds them in placement (allocations and usage).
"""

import re
import urllib.parse
import uuid

from tests.unit import fakecloud


def _microversion(request):
    header = request.headers.get('OpenStack-API-Version', '')
    match = re.match(r'compute (\d+)\.(\d+)$', header.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (2, 1)


def _query(request):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)


class FakeFleet:
    """Servers in memory, served under the cloud's compute URL."""

    def __init__(self, cloud, placement, max_limit=1000):
        self.cloud = cloud
        self.placement = placement
        self.max_limit = max_limit
        self.servers = {}        # id -> nova's server, all microversions
        self._register()

    # -- building ----------------------------------------------------------
    def add_server(self, name, extra_specs=None, status='ACTIVE', host=None,
                   devices=(), project_id=fakecloud.PROJECT_ID,
                   flavor='gpu.p4', flavor_id=None, image=None,
                   image_properties=None, fault=None):
        """A server; ``devices`` are provider uuids it holds one unit of
        (of each one's first class)."""
        server_id = str(uuid.uuid4())
        self.servers[server_id] = {
            'id': server_id, 'name': name, 'status': status,
            'tenant_id': project_id, 'user_id': 'u1', 'metadata': {},
            'addresses': {}, 'links': [], 'key_name': None,
            'OS-EXT-SRV-ATTR:host': host,
            'OS-EXT-SRV-ATTR:hypervisor_hostname': host,
            'OS-EXT-STS:vm_state': status.lower(),
            'flavor_id': flavor_id or uuid.uuid4().hex,
            'flavor_name': flavor,
            'extra_specs': dict(extra_specs or {}),
            'image_id': image if image is not None else str(uuid.uuid4()),
            'image_properties': dict(image_properties or {}),
            'fault': {'code': 500, 'message': fault} if fault else None}
        if devices:
            self.hold(server_id, devices)
        return server_id

    def hold(self, consumer, devices):
        """``consumer`` takes one unit of each device in placement."""
        allocations = {}
        for rp in devices:
            rc = next(iter(self.placement.inventories[rp]))
            allocations[rp] = {rc: 1}
            self.placement.usages[rp][rc] += 1
        self.placement.allocate(consumer, allocations)

    # -- inspection --------------------------------------------------------
    def list_requests(self):
        return [r for r in self.cloud.mock.request_history
                if '/servers/detail' in r.path]

    # -- routes ------------------------------------------------------------
    def _register(self):
        mock = self.cloud.mock
        compute = re.escape(self.cloud.compute_url)
        mock.get(re.compile(compute + r'/servers/detail(\?.*)?$'),
                 json=self._list)
        mock.get(re.compile(compute + r'/servers/(?!detail)([^/?]+)$'),
                 json=self._show)
        mock.get(re.compile(re.escape(self.placement.url)
                            + r'/resource_providers/([^/?]+)/allocations$'),
                 json=self._provider_allocations)

    def view(self, server, microversion):
        """``server`` as nova shows it at ``microversion``."""
        body = {k: v for k, v in server.items()
                if k not in ('flavor_id', 'flavor_name', 'extra_specs',
                             'image_id', 'image_properties', 'fault')}
        if microversion >= (2, 47):
            body['flavor'] = {'vcpus': 1, 'ram': 256, 'disk': 1,
                              'ephemeral': 0, 'swap': 0,
                              'original_name': server['flavor_name'],
                              'extra_specs': dict(server['extra_specs'])}
        else:
            body['flavor'] = {'id': server['flavor_id'], 'links': []}
        if not server['image_id']:
            body['image'] = ''
        else:
            body['image'] = {'id': server['image_id'], 'links': [
                {'rel': 'bookmark', 'href': 'http://x/images/%s'
                 % server['image_id']}]}
            if microversion >= (2, 98):
                body['image']['properties'] = dict(server['image_properties'])
        if server['fault']:
            body['fault'] = server['fault']
        return body

    def _visible(self, request):
        query = _query(request)
        everyone = query.get('all_tenants', ['false'])[0].lower() in (
            'true', '1')
        found = []
        for server in self.servers.values():
            if not everyone and server['tenant_id'] != fakecloud.PROJECT_ID:
                continue
            if 'project_id' in query and \
                    server['tenant_id'] != query['project_id'][0]:
                continue
            if 'host' in query and \
                    server['OS-EXT-SRV-ATTR:host'] != query['host'][0]:
                continue
            if 'name' in query and not re.search(query['name'][0],
                                                 server['name']):
                continue
            found.append(server)
        return found

    def _list(self, request, context):
        query = _query(request)
        servers = self._visible(request)
        limit = min(int(query.get('limit', [self.max_limit])[0]),
                    self.max_limit)
        if 'marker' in query:
            ids = [s['id'] for s in servers]
            servers = servers[ids.index(query['marker'][0]) + 1:]
        page = servers[:limit]
        body = {'servers': [self.view(s, _microversion(request))
                            for s in page]}
        if len(page) == limit and page:
            body['servers_links'] = [{'rel': 'next', 'href': '%s/servers/'
                                      'detail?limit=%d&marker=%s' % (
                                          self.cloud.compute_url, limit,
                                          page[-1]['id'])}]
        return body

    def _show(self, request, context):
        server = self.servers.get(request.path.rsplit('/', 1)[-1])
        if server is None:
            context.status_code = 404
            return {'itemNotFound': {'code': 404,
                                     'message': 'Instance not found'}}
        return {'server': self.view(server, _microversion(request))}

    def _provider_allocations(self, request, context):
        rp = request.path.split('/')[-2]
        if rp not in self.placement.providers:
            context.status_code = 404
            return {'errors': [{'status': 404, 'detail': 'not found'}]}
        return {'allocations': {
            consumer: {'resources': held[rp]}
            for consumer, held in self.placement.allocations.items()
            if rp in held}, 'resource_provider_generation': 1}
