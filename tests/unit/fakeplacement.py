"""Placement, faked at the HTTP layer on a :class:`FakeCloud`.

Holds compute hosts (a root provider with VCPU) and their PCI device
children, and answers the reads osc-gpu makes the way placement does,
including the microversion rules that matter: ``required`` needs 1.18,
and allocation-candidate summaries cover whole trees only from 1.29.
"""

import re
import urllib.parse
import uuid

MAX_VERSION = '1.39'


def _version(request):
    header = request.headers.get('OpenStack-API-Version', '')
    match = re.match(r'placement (\d+)\.(\d+)$', header.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (1, 0)


def _error(context, status, detail):
    context.status_code = status
    return {'errors': [{'status': status, 'title': 'Error', 'detail': detail}]}


class FakePlacement:
    """Providers in memory, served under ``cloud.placement_url``."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.url = cloud.placement_url
        self.providers = {}       # uuid -> provider dict
        self.inventories = {}     # uuid -> {rc: inventory}
        self.usages = {}          # uuid -> {rc: used}
        self.traits = {}          # uuid -> set of traits
        self.allocations = {}     # consumer -> {rp uuid: {rc: amount}}
        self.services = {}        # host -> nova-compute service (os-services)
        self.known_traits = set()  # custom traits PUT /traits made
        self.other_writers = {}   # rp -> traits another client adds first
        self._register()

    # -- building the cloud ------------------------------------------
    def add_provider(self, name, parent=None, inventories=None, traits=()):
        rp_uuid = str(uuid.uuid4())
        root = self.providers[parent]['root_provider_uuid'] if parent \
            else rp_uuid
        self.providers[rp_uuid] = {
            'uuid': rp_uuid, 'name': name, 'generation': 1,
            'parent_provider_uuid': parent, 'root_provider_uuid': root}
        self.inventories[rp_uuid] = {
            rc: dict({'total': 1, 'reserved': 0, 'min_unit': 1,
                      'max_unit': 1, 'step_size': 1,
                      'allocation_ratio': 1.0}, **inv)
            for rc, inv in (inventories or {}).items()}
        self.usages[rp_uuid] = {rc: 0 for rc in self.inventories[rp_uuid]}
        self.traits[rp_uuid] = set(traits)
        return rp_uuid

    def add_host(self, host, gpus=0, resource_class='CUSTOM_PCI_10DE_1BB3',
                 used=0, vcpus=16, vcpus_used=0, disabled=None):
        """A compute with ``gpus`` devices, the first ``used`` taken.

        ``disabled`` (a reason, '' for none) disables its nova-compute:
        the root gets COMPUTE_STATUS_DISABLED, as nova sets it.
        """
        root = self.add_provider(host, inventories={
            'VCPU': {'total': vcpus, 'max_unit': vcpus},
            'MEMORY_MB': {'total': 65536, 'max_unit': 65536}},
            traits=('COMPUTE_NODE',))
        self.usages[root]['VCPU'] = vcpus_used
        self.services[host] = {
            'id': str(uuid.uuid4()), 'binary': 'nova-compute', 'host': host,
            'zone': 'nova', 'status': 'enabled', 'state': 'up',
            'disabled_reason': None, 'forced_down': False,
            'updated_at': '2026-01-01T00:00:00.000000'}
        if disabled is not None:
            self.disable(host, disabled)
        devices = []
        for index in range(gpus):
            device = self.add_provider(
                '%s_0000:%02x:00.0' % (host, 0x81 + index), parent=root,
                inventories={resource_class: {}},
                traits=('COMPUTE_MANAGED_PCI_DEVICE', 'OWNER_NOVA'))
            if index < used:
                self.usages[device][resource_class] = 1
            devices.append(device)
        return root, devices

    def add_vgpu_gpu(self, root, address, total=16, used=0, traits=(),
                     resource_class='VGPU'):
        """A physical GPU offering vGPUs under the compute ``root``, named
        as nova's libvirt driver names it (``<host>_pci_0000_81_00_0``),
        with only OWNER_NOVA unless ``traits`` adds the operator's."""
        name = '%s_pci_%s' % (self.providers[root]['name'],
                              address.replace(':', '_').replace('.', '_'))
        gpu = self.add_provider(name, parent=root, inventories={
            resource_class: {'total': total, 'max_unit': total}},
            traits=('OWNER_NOVA',) + tuple(traits))
        self.usages[gpu][resource_class] = used
        self.known_traits.update(traits)
        return gpu

    def race_trait_write(self, rp_uuid, *traits):
        """Make another client add ``traits`` to ``rp_uuid`` between the
        next read of its traits and the write that follows: that write
        then carries a stale generation and gets 409. Each call races one
        more write."""
        self.other_writers.setdefault(rp_uuid, []).append(traits)

    def disable(self, host, reason=''):
        """Disable nova-compute on ``host`` as ``openstack compute service
        set --disable`` does: service status, reason and root trait."""
        self.services[host].update(status='disabled',
                                   disabled_reason=reason or None)
        root = next(rp for rp, p in self.providers.items()
                    if p['name'] == host and not p['parent_provider_uuid'])
        self.traits[root].add('COMPUTE_STATUS_DISABLED')

    def forget(self, rp_uuid):
        """Keep listing a provider whose own reads answer 404, as one
        deleted between two requests would."""
        del self.inventories[rp_uuid]
        del self.usages[rp_uuid]

    def allocate(self, consumer, allocations):
        """Record ``{rp uuid: {rc: amount}}`` for ``consumer``."""
        self.allocations[consumer] = allocations

    # -- inspection ----------------------------------------------------
    def requests(self):
        return [r for r in self.cloud.mock.request_history
                if r.url.startswith(self.url)]

    # -- routes --------------------------------------------------------
    def _register(self):
        mock, base = self.cloud.mock, re.escape(self.url)
        version = {'id': 'v1.0', 'status': 'CURRENT',
                   'max_version': MAX_VERSION, 'min_version': '1.0',
                   'links': [{'rel': 'self', 'href': self.url + '/'}]}
        mock.get(re.compile(base + r'/?$'), json={'versions': [version]})
        mock.get(re.compile(base + r'/resource_providers(\?.*)?$'),
                 json=self._list_providers)
        mock.get(re.compile(base + r'/resource_providers/([^/?]+)'
                                   r'/inventories$'),
                 json=self._provider_part('inventories'))
        mock.get(re.compile(base + r'/resource_providers/([^/?]+)/usages$'),
                 json=self._provider_part('usages'))
        traits_url = re.compile(base + r'/resource_providers/([^/?]+)'
                                r'/traits$')
        mock.get(traits_url, json=self._provider_traits)
        mock.put(traits_url, json=self._set_provider_traits)
        mock.put(re.compile(base + r'/traits/([^/?]+)$'),
                 json=self._create_trait)
        mock.get(re.compile(base + r'/allocation_candidates(\?.*)?$'),
                 json=self._candidates)
        mock.get(re.compile(base + r'/allocations/([^/?]+)$'),
                 json=self._consumer_allocations)
        mock.get(re.compile(re.escape(self.cloud.compute_url)
                            + r'/os-services(\?.*)?$'),
                 json=self._services)

    @staticmethod
    def _query(request):
        return {k: v[0] for k, v in
                urllib.parse.parse_qs(urllib.parse.urlsplit(
                    request.url).query).items()}

    def _list_providers(self, request, context):
        query = self._query(request)
        mv = _version(request)
        if 'required' in query and mv < (1, 18):
            return _error(context, 400, "Invalid query string parameters: "
                          "'required' was unexpected")
        if 'in_tree' in query and mv < (1, 14):
            return _error(context, 400, "Invalid query string parameters: "
                          "'in_tree' was unexpected")
        found = list(self.providers.values())
        if 'required' in query:
            names = query['required'].split(',')
            forbidden = {n[1:] for n in names if n.startswith('!')}
            if forbidden and mv < (1, 22):
                return _error(context, 400, "Invalid query string "
                              "parameters: Expected 'required' parameter "
                              "value of format")
            wanted = set(names) - {'!' + n for n in forbidden}
            found = [p for p in found if wanted <= self.traits[p['uuid']]
                     and not forbidden & self.traits[p['uuid']]]
        if 'name' in query:
            found = [p for p in found if p['name'] == query['name']]
        if 'in_tree' in query:
            tree = self.providers.get(query['in_tree'])
            root = tree['root_provider_uuid'] if tree else None
            found = [p for p in found if p['root_provider_uuid'] == root]
        return {'resource_providers': [dict(p) for p in found]}

    def _provider_part(self, part):
        def answer(request, context):
            rp_uuid = request.path.split('/')[-2]
            if rp_uuid not in getattr(self, part):
                return _error(context, 404, 'No resource provider with uuid '
                              '%s found' % rp_uuid)
            return {part: getattr(self, part)[rp_uuid],
                    'resource_provider_generation': 1}
        return answer

    # -- traits (1.6+): read-modify-write with the provider generation --
    def _provider_traits(self, request, context):
        rp_uuid = request.path.split('/')[-2]
        if _version(request) < (1, 6):
            return _error(context, 404, 'The resource could not be found.')
        if rp_uuid not in self.providers:
            return _error(context, 404, 'No resource provider with uuid %s '
                          'found' % rp_uuid)
        return {'traits': sorted(self.traits[rp_uuid]),
                'resource_provider_generation':
                    self.providers[rp_uuid]['generation']}

    def _set_provider_traits(self, request, context):
        rp_uuid = request.path.split('/')[-2]
        provider = self.providers.get(rp_uuid)
        if provider is None:
            return _error(context, 404, 'No resource provider with uuid %s '
                          'found' % rp_uuid)
        races = self.other_writers.get(rp_uuid)
        if races:
            self.known_traits.update(races[0])
            self.traits[rp_uuid].update(races.pop(0))
            provider['generation'] += 1
        body = request.json()
        if body['resource_provider_generation'] != provider['generation']:
            context.status_code = 409
            return {'errors': [{
                'status': 409, 'title': 'Conflict',
                'code': 'placement.concurrent_update',
                'detail': 'resource provider generation conflict'}]}
        unknown = [t for t in body['traits'] if t.startswith('CUSTOM_')
                   and t not in self.known_traits]
        if unknown:
            return _error(context, 400, 'No such trait(s): %s'
                          % ', '.join(unknown))
        self.traits[rp_uuid] = set(body['traits'])
        provider['generation'] += 1
        return {'traits': sorted(self.traits[rp_uuid]),
                'resource_provider_generation': provider['generation']}

    def _create_trait(self, request, context):
        # request.path is lower-cased; trait names are not.
        name = urllib.parse.urlsplit(request.url).path.rsplit('/', 1)[-1]
        context.status_code = 204 if name in self.known_traits else 201
        self.known_traits.add(name)
        return None

    def _capacity(self, rp_uuid):
        return {rc: int((inv['total'] - inv['reserved'])
                        * inv['allocation_ratio'])
                for rc, inv in self.inventories[rp_uuid].items()}

    def _candidates(self, request, context):
        query = self._query(request)
        rc, amount = query['resources'].split(':')
        roots = [rp for rp, p in self.providers.items()
                 if p['parent_provider_uuid'] is None
                 and self._capacity(rp).get(rc, 0)
                 - self.usages[rp].get(rc, 0) >= int(amount)]
        whole_trees = _version(request) >= (1, 29)
        summaries = {}
        for rp, provider in self.providers.items():
            if provider['root_provider_uuid'] not in roots:
                continue
            if provider['parent_provider_uuid'] and not whole_trees:
                continue
            summaries[rp] = {'resources': {
                name: {'capacity': cap, 'used': self.usages[rp][name]}
                for name, cap in self._capacity(rp).items()}}
            if _version(request) >= (1, 17):
                summaries[rp]['traits'] = sorted(self.traits[rp])
            if whole_trees:
                summaries[rp].update(
                    parent_provider_uuid=provider['parent_provider_uuid'],
                    root_provider_uuid=provider['root_provider_uuid'])
        return {'allocation_requests': [
                    {'allocations': {root: {'resources': {rc: int(amount)}}}}
                    for root in roots],
                'provider_summaries': summaries}

    def _services(self, request, context):
        query = self._query(request)
        return {'services': [
            s for s in self.services.values()
            if all(s.get(k) == v for k, v in query.items()
                   if k in ('binary', 'host'))]}

    def _consumer_allocations(self, request, context):
        consumer = request.path.rsplit('/', 1)[-1]
        return {'allocations': {
            rp: {'generation': 1, 'resources': resources}
            for rp, resources in self.allocations.get(consumer, {}).items()}}
