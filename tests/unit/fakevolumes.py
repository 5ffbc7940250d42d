"""Cinder, faked at the HTTP layer on a :class:`FakeCloud`: volumes with
their image metadata, snapshots, and ``os-set_image_metadata``."""

import re
import uuid


class FakeVolumes:
    """Volumes and snapshots in memory, served under ``cloud.volume_url``."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.url = cloud.volume_url
        self.volumes = {}
        self.snapshots = {}
        self.actions = []          # (volume id, action body)
        self._register()

    def add_volume(self, name, image_metadata=None, size=1):
        volume = {'id': str(uuid.uuid4()), 'name': name, 'size': size,
                  'status': 'available', 'bootable': 'true',
                  'volume_image_metadata': dict(image_metadata or {}),
                  'attachments': [], 'metadata': {}}
        self.volumes[volume['id']] = volume
        return volume

    def add_snapshot(self, name, volume):
        snapshot = {'id': str(uuid.uuid4()), 'name': name,
                    'volume_id': volume['id'], 'status': 'available',
                    'size': volume['size'], 'metadata': {}}
        self.snapshots[snapshot['id']] = snapshot
        return snapshot

    def requests(self):
        return [r for r in self.cloud.mock.request_history
                if r.url.startswith(self.url.rsplit('/', 1)[0])]

    def _register(self):
        mock, root = self.cloud.mock, self.url.rsplit('/', 1)[0]
        version = {'id': 'v3.0', 'status': 'CURRENT', 'version': '3.71',
                   'min_version': '3.0',
                   'links': [{'rel': 'self', 'href': self.url + '/'}]}
        mock.get(re.compile(re.escape(root) + r'/?$'),
                 json={'versions': [version]})
        mock.get(re.compile(re.escape(self.url) + r'/?$'),
                 json={'version': version})
        for kind in ('volumes', 'snapshots'):
            base = re.escape(self.url) + '/' + kind
            mock.get(re.compile(base + r'/([^/?]+)$'), json=self._get(kind))
            mock.get(re.compile(base + r'(/detail)?(\?.*)?$'),
                     json=self._list(kind))
        mock.post(re.compile(re.escape(self.url)
                             + r'/volumes/([^/?]+)/action$'),
                  json=self._action, status_code=200)

    def _get(self, kind):
        def answer(request, context):
            found = getattr(self, kind).get(request.path.rsplit('/', 1)[-1])
            if found is None:
                context.status_code = 404
                return {'itemNotFound': {'code': 404,
                                         'message': 'not found'}}
            return {kind[:-1]: found}
        return answer

    def _list(self, kind):
        def answer(request, context):
            name = request.qs.get('name', [None])[0]
            return {kind: [v for v in getattr(self, kind).values()
                           if name is None or v['name'].lower() == name]}
        return answer

    def _action(self, request, context):
        volume_id = request.path.split('/')[-2]
        body = request.json()
        self.actions.append((volume_id, body))
        if 'os-set_image_metadata' in body:
            self.volumes[volume_id]['volume_image_metadata'].update(
                body['os-set_image_metadata']['metadata'])
            return {'metadata': self.volumes[volume_id][
                'volume_image_metadata']}
        return None
