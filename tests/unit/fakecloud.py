"""A cloud faked at the HTTP layer, for running real ``openstack`` commands.

Keystone, nova, glance and placement answer through requests-mock, so the
whole stack (OSC shell, osc-lib auth, openstacksdk, keystoneauth) runs for
real and tests can count and inspect every request that left the client.
"""

import io
import json
import logging
import os
import re
import sys
import urllib.parse
import uuid

from openstackclient import shell

PROJECT_ID = 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5'
PASSWORD = 'never-print-me-7e3'
TOKEN = 'gAAAAA-token-never-print-me'

CLOUDS_YAML = """
clouds:
  fake:
    auth:
      auth_url: {auth_url}
      username: admin
      password: {password}
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
"""


def _catalog(urls):
    def entry(service_type, name, url):
        return {'type': service_type, 'name': name, 'id': uuid.uuid4().hex,
                'endpoints': [{'interface': 'public', 'region': 'RegionOne',
                               'region_id': 'RegionOne', 'url': url,
                               'id': uuid.uuid4().hex}]}
    return [entry(service, service, url) for service, url in urls.items()]


class FakeCloud:
    """Registers a minimal, consistent cloud on a requests-mock Mocker."""

    def __init__(self, mocker, tmp_path, monkeypatch,
                 compute_max_version='2.104'):
        self.mock = mocker
        self.flavors = {}
        # Hosts unique to this cloud: keystoneauth and the SDK cache tokens
        # and version discovery per URL for the life of the process.
        domain = '%s.test' % uuid.uuid4().hex[:12]
        self.auth_url = 'http://keystone.%s/identity/v3' % domain
        self.compute_root = 'http://nova.%s/compute' % domain
        self.compute_url = self.compute_root + '/v2.1'
        self.image_url = 'http://glance.%s/image' % domain
        self.placement_url = 'http://placement.%s/placement' % domain
        self.volume_url = 'http://cinder.%s/volume/v3' % domain
        clouds = tmp_path / 'clouds.yaml'
        clouds.write_text(CLOUDS_YAML.format(auth_url=self.auth_url,
                                             password=PASSWORD))
        # Only this cloud: any OS_* the caller's shell has (an openrc's
        # OS_AUTH_URL, OS_REGION_NAME...) would override clouds.yaml.
        for var in list(os.environ):
            if var.startswith('OS_'):
                monkeypatch.delenv(var)
        monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
        monkeypatch.setenv('OS_CLOUD', 'fake')
        self.images = {}
        self.servers = {}
        # Status sequence each new server goes through, one per GET.
        self.server_statuses = ['BUILD', 'ACTIVE']
        self.server_fault = None
        self._register_identity()
        self._register_compute(compute_max_version)
        self._register_image()
        self._register_servers()

    # -- wiring --------------------------------------------------------
    def _register_identity(self):
        self.mock.get(self.auth_url, json={'version': {
            'id': 'v3.14', 'status': 'stable',
            'links': [{'rel': 'self', 'href': self.auth_url + '/'}]}})
        token = {'token': {
            'methods': ['password'], 'expires_at': '2099-01-01T00:00:00Z',
            'issued_at': '2026-01-01T00:00:00Z',
            'project': {'id': PROJECT_ID, 'name': 'admin',
                        'domain': {'id': 'default', 'name': 'Default'}},
            'user': {'id': 'u1', 'name': 'admin',
                     'domain': {'id': 'default', 'name': 'Default'}},
            'roles': [{'id': 'r1', 'name': 'admin'}],
            'catalog': _catalog({
                'identity': self.auth_url, 'compute': self.compute_url,
                'image': self.image_url,
                'placement': self.placement_url,
                'block-storage': self.volume_url})}}
        self.mock.post(self.auth_url + '/auth/tokens', json=token,
                       status_code=201,
                       headers={'X-Subject-Token': TOKEN})
        # No unified limits until a test adds some (fakekeystone.py):
        # gpu server create's quota preflight reads them.
        for limits in ('registered_limits', 'limits'):
            self.mock.get(re.compile(re.escape(self.auth_url) + '/%s(\\?.*)?$'
                                     % limits),
                          json={limits: [], 'links': {}})

    def _register_compute(self, max_version):
        version = {'id': 'v2.1', 'status': 'CURRENT', 'version': max_version,
                   'min_version': '2.1',
                   'links': [{'rel': 'self', 'href': self.compute_url + '/'}]}
        self.mock.get(self.compute_url, json={'version': version})
        self.mock.get(self.compute_url + '/', json={'version': version})
        self.mock.get(self.compute_root + '/', json={'versions': [version]})
        self.mock.get(self.compute_root, json={'versions': [version]})
        flavor_url = self.compute_path(r'/flavors/([^/?]+)$')
        specs_url = self.compute_path(r'/flavors/[^/]+/os-extra_specs$')
        self.mock.post(self.compute_url + '/flavors', json=self._create_flavor)
        self.mock.get(flavor_url, json=self._get_flavor)
        self.mock.delete(flavor_url, status_code=202, json=self._delete_flavor)
        self.mock.get(self.compute_path(r'/flavors/detail'),
                      json=self._list_flavors)
        self.mock.post(specs_url, json=self._set_specs)
        self.mock.get(specs_url, json=self._get_specs)

    def compute_path(self, pattern):
        return re.compile(re.escape(self.compute_url) + pattern)

    # -- flavor behaviour ----------------------------------------------
    def add_flavor(self, name, extra_specs=None, **attrs):
        flavor = {'id': attrs.pop('id', uuid.uuid4().hex), 'name': name,
                  'vcpus': 1, 'ram': 256, 'disk': 0,
                  'OS-FLV-EXT-DATA:ephemeral': 0, 'swap': 0,
                  'os-flavor-access:is_public': True, 'description': None,
                  'rxtx_factor': 1.0, 'OS-FLV-DISABLED:disabled': False,
                  'extra_specs': dict(extra_specs or {}), 'links': []}
        flavor.update(attrs)
        self.flavors[flavor['id']] = flavor
        return flavor

    def _create_flavor(self, request, context):
        body = request.json()['flavor']
        if any(f['name'] == body['name'] for f in self.flavors.values()):
            context.status_code = 409
            return {'conflictingRequest': {
                'code': 409,
                'message': 'Flavor with name %s already exists.'
                           % body['name']}}
        if body.get('id') in self.flavors:
            context.status_code = 409
            return {'conflictingRequest': {
                'code': 409,
                'message': 'Flavor with ID %s already exists.' % body['id']}}
        attrs = {k: v for k, v in body.items() if k != 'name'}
        if 'os-flavor-access:is_public' not in attrs:
            attrs['os-flavor-access:is_public'] = True
        context.status_code = 200
        return {'flavor': self.add_flavor(body['name'], **attrs)}

    def _find(self, key):
        return self.flavors.get(key) or next(
            (f for f in self.flavors.values() if f['name'] == key), None)

    def _get_flavor(self, request, context):
        flavor = self.flavors.get(request.path.rsplit('/', 1)[-1])
        if flavor is None:
            context.status_code = 404
            return {'itemNotFound': {'code': 404,
                                     'message': 'Flavor could not be found.'}}
        return {'flavor': flavor}

    def _delete_flavor(self, request, context):
        self.flavors.pop(request.path.rsplit('/', 1)[-1], None)
        return None

    def _list_flavors(self, request, context):
        return {'flavors': list(self.flavors.values())}

    def _flavor_id(self, request):
        return request.path.split('/flavors/')[1].split('/')[0]

    def _set_specs(self, request, context):
        flavor = self.flavors[self._flavor_id(request)]
        flavor['extra_specs'].update(request.json()['extra_specs'])
        return {'extra_specs': flavor['extra_specs']}

    def _get_specs(self, request, context):
        return {'extra_specs': self.flavors[self._flavor_id(request)][
            'extra_specs']}

    def fail_extra_specs(self, status=500):
        self.mock.post(self.compute_path(r'/flavors/[^/]+/os-extra_specs$'),
                       status_code=status,
                       json={'computeFault': {'code': status,
                                              'message': 'boom'}})

    # -- images ----------------------------------------------------------
    def _register_image(self):
        root = self.image_url
        version = {'id': 'v2.16', 'status': 'CURRENT',
                   'links': [{'rel': 'self', 'href': root + '/v2/'}]}
        self.mock.get(root, json={'versions': [version]})
        self.mock.get(root + '/', json={'versions': [version]})
        image_url = re.compile(re.escape(root) + r'/v2/images/([^/?]+)$')
        self.mock.get(image_url, json=self._get_image)
        self.mock.patch(image_url, json=self._patch_image)
        self.mock.get(re.compile(re.escape(root) + r'/v2/images(\?.*)?$'),
                      json=self._list_images)

    def add_image(self, name, **properties):
        image = {'id': str(uuid.uuid4()), 'name': name, 'status': 'active',
                 'visibility': 'public', 'disk_format': 'raw',
                 'container_format': 'bare', 'tags': []}
        image.update(properties)
        self.images[image['id']] = image
        return image

    def _get_image(self, request, context):
        image = self.images.get(request.path.rsplit('/', 1)[-1])
        if image is None:
            context.status_code = 404
            return {'message': 'Image not found'}
        return image

    def _list_images(self, request, context):
        name = request.qs.get('name', [None])[0]
        return {'images': [i for i in self.images.values()
                           if name is None or i['name'].lower() == name]}

    def _patch_image(self, request, context):
        image = self.images[request.path.rsplit('/', 1)[-1]]
        for op in request.json():
            key = op['path'].lstrip('/')
            if op['op'] in ('add', 'replace'):
                image[key] = op['value']
            elif op['op'] == 'remove':
                image.pop(key, None)
        return image

    # -- servers ---------------------------------------------------------
    def _register_servers(self):
        servers = self.compute_url + '/servers'
        server_url = self.compute_path(r'/servers/([^/?]+)$')
        self.mock.post(servers, json=self._create_server, status_code=202)
        self.mock.get(self.compute_path(r'/servers/detail'),
                      json=self._list_servers)
        self.mock.get(server_url, json=self._get_server)
        self.mock.delete(server_url, json=self._delete_server,
                         status_code=204)
        self.mock.delete(self.compute_path(r'/servers/[^/]+/tags/[^/]+$'),
                         json=self._delete_tag, status_code=204)
        self.mock.delete(self.compute_path(r'/servers/[^/]+/metadata/[^/]+$'),
                         json=self._delete_metadata_item, status_code=204)
        self.mock.get(self.compute_path(r'/os-server-groups(\?.*)?$'),
                      json=self._list_server_groups)
        self.mock.get(self.compute_path(r'/os-server-groups/[^/?]+$'),
                      json=self._get_server_group)
        self.server_groups = {}

    def _create_server(self, request, context):
        body = request.json()['server']
        server = {'id': str(uuid.uuid4()), 'name': body['name'],
                  'status': 'BUILD', 'request': body,
                  'metadata': body.get('metadata', {}),
                  'tags': list(body.get('tags', [])),
                  'OS-EXT-SRV-ATTR:host': None, 'links': [],
                  'polls': list(self.server_statuses)}
        self.servers[server['id']] = server
        return {'server': {'id': server['id'], 'links': [],
                           'adminPass': 'x'}}

    def _embedded(self, server):
        """What nova 2.100 shows of a server beyond the fake's own keys."""
        request = server.get('request') or {}
        flavor = self.flavors.get(request.get('flavorRef')) or {}
        return {
            'flavor': server.get('flavor') or {
                'original_name': flavor.get('name'), 'vcpus':
                flavor.get('vcpus'), 'ram': flavor.get('ram'),
                'disk': flavor.get('disk'), 'ephemeral': 0, 'swap': 0,
                'extra_specs': flavor.get('extra_specs', {})},
            'image': ({'id': request['imageRef'], 'links': []}
                      if request.get('imageRef') else ''),
            'addresses': {}, 'key_name': request.get('key_name'),
            'description': request.get('description'),
            'os-extended-volumes:volumes_attached': [],
            'config_drive': request.get('config_drive', ''),
        }

    def _shown(self, server):
        shown = self._embedded(server)
        shown.update({k: v for k, v in server.items()
                      if k not in ('request', 'polls')})
        return shown

    def _get_server(self, request, context):
        server = self.servers.get(request.path.rsplit('/', 1)[-1])
        if server is None:
            context.status_code = 404
            return {'itemNotFound': {'code': 404,
                                     'message': 'Instance not found'}}
        if server['polls']:
            server['status'] = server['polls'].pop(0)
        if server['status'] == 'ACTIVE':
            server['OS-EXT-SRV-ATTR:host'] = 'gpu-node-1'
        if server['status'] == 'ERROR' and self.server_fault:
            server['fault'] = {'code': 500, 'message': self.server_fault}
        return {'server': self._shown(server)}

    def _list_servers(self, request, context):
        name = request.qs.get('name', [None])[0]
        tag = request.qs.get('tags', [None])[0]
        return {'servers': [
            {'id': s['id'], 'name': s['name'], 'status': s['status'],
             'metadata': s.get('metadata', {}), 'flavor': s.get('flavor'),
             'tags': s.get('tags', [])}
            for s in self.servers.values() if name in (None, s['name'])
            and (tag is None or tag.lower() in
                 [t.lower() for t in s.get('tags', [])])]}

    def _delete_server(self, request, context):
        self.servers.pop(request.path.rsplit('/', 1)[-1], None)
        return None

    def _server_part(self, request, context):
        """The server of ``/servers/{id}/<part>/<key>``, or None after
        answering as nova does (404 missing, 409 while not built)."""
        parts = request.path.split('/')
        server = self.servers.get(parts[-3])
        if server is None:
            context.status_code = 404
            return None
        if server['status'] != 'ACTIVE':
            context.status_code = 409
            return None
        return server

    def _delete_tag(self, request, context):
        server = self._server_part(request, context)
        tag = urllib.parse.unquote(request.path.rsplit('/', 1)[-1])
        if server is not None:
            tags = [t for t in server['tags'] if t.lower() != tag.lower()]
            if len(tags) == len(server['tags']):
                context.status_code = 404
            server['tags'] = tags
        return None

    def _delete_metadata_item(self, request, context):
        server = self._server_part(request, context)
        key = urllib.parse.unquote(request.path.rsplit('/', 1)[-1])
        if server is not None:
            server['metadata'] = {k: v for k, v in server['metadata'].items()
                                  if k.lower() != key.lower()}
        return None

    def add_server_group(self, name, policy='anti-affinity'):
        group = {'id': str(uuid.uuid4()), 'name': name, 'policy': policy,
                 'members': [], 'rules': {}}
        self.server_groups[group['id']] = group
        return group

    def _get_server_group(self, request, context):
        group = self.server_groups.get(request.path.rsplit('/', 1)[-1])
        if group is None:
            context.status_code = 404
            return {'itemNotFound': {'code': 404, 'message': 'not found'}}
        return {'server_group': group}

    def _list_server_groups(self, request, context):
        return {'server_groups': list(self.server_groups.values())}

    # -- inspection ----------------------------------------------------
    def requests(self, method=None):
        return [r for r in self.mock.request_history
                if method is None or r.method == method]

    def writes(self):
        return [(r.method, r.path) for r in self.mock.request_history
                if r.method in ('POST', 'PUT', 'PATCH', 'DELETE')
                and not r.path.endswith('/auth/tokens')]


def run(argv, capsys):
    """Run ``openstack ARGV``; returns (exit code, stdout, stderr)."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    saved_argv, sys.argv = sys.argv, ['openstack']   # the program name
    try:
        code = shell.main(list(argv))
    finally:
        sys.argv = saved_argv
        # The shell adds a console handler bound to this test's stderr.
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(argv, capsys):
    code, out, err = run(list(argv) + ['-f', 'json'], capsys)
    return code, (json.loads(out) if out.strip() else None), err


__all__ = ['FakeCloud', 'run', 'run_json', 'io']
