"""``GpuCloud``: what osc-gpu needs from a cloud, over openstacksdk.

Commands get the connection from OSC's client manager and wrap it here, so
microversion choices and the calls' shapes live in one class; placement
reads are in ``placement.py``, multi-step changes in the workflow modules.
"""

from osc_gpu.cloud import errors
from osc_gpu.cloud import placement
from osc_gpu.rules import aliases
from osc_gpu.rules import echo
from osc_gpu.rules import capacity
from osc_gpu.rules import inputs
from osc_gpu.rules import releases
from osc_gpu.rules import vgpu
from osc_gpu.rules import server_request


def _shown_version(version):
    if float('inf') in version:
        return "'latest'"
    return echo.quoted('.'.join(str(v) for v in version))


class GpuCloud:
    """What osc-gpu needs from a cloud, on top of an SDK connection."""

    def __init__(self, connection, config=None):
        self.conn = connection
        self.config = config or {}
        self._compute_max = None

    def alias_map(self):
        """Alias -> resource classes, from clouds.yaml and known models."""
        try:
            return aliases.AliasMap.from_cloud_config(self.config)
        except aliases.InvalidAliasMap as exc:
            raise errors.CloudError(str(exc)) from None

    # -- compute API version -------------------------------------------
    def compute_max_microversion(self):
        if self._compute_max is None:
            with errors.reporting('reading the compute API version'):
                data = self.conn.compute.get_endpoint_data()
            mv = getattr(data, 'max_microversion', None)
            if not mv:
                # keystoneauth swallows a failed version discovery; guessing
                # "no microversions" would pick a pre-Pike release and the
                # wrong keys. Every release since Kilo (2.1) reports one.
                raise errors.CloudError(
                    'reading the compute API version failed: the compute '
                    'endpoint did not say which microversions it supports '
                    '(is nova-api up? try again)')
            # keystoneauth gives (major, minor) tuples; 'latest' is inf.
            if len(mv) != 2 or mv[0] != 2 or not isinstance(mv[1], int) \
                    or mv[1] < 1:
                raise errors.CloudError(
                    'reading the compute API version failed: the compute '
                    'endpoint gives %s as its newest microversion, which no '
                    'nova release does (is the catalog endpoint nova-api?)'
                    % _shown_version(mv))
            self._compute_max = releases.Microversion(*mv[:2])
        return self._compute_max

    def release(self):
        return releases.release_for_max_microversion(
            self.compute_max_microversion())

    def supports(self, microversion):
        return self.compute_max_microversion() >= microversion

    # -- flavors -------------------------------------------------------
    def create_flavor(self, **attrs):
        with errors.reporting("creating flavor '%s'" % attrs.get('name')):
            return self.conn.compute.create_flavor(**attrs)

    def set_flavor_extra_specs(self, flavor, specs):
        """POST the extra specs, at 2.86 where nova then validates them."""
        action = "setting extra specs on flavor '%s'" % flavor.name
        mv = releases.EXTRA_SPEC_VALIDATION
        with errors.reporting(action):
            if self.supports(mv):
                from openstack import exceptions as sdk_exc
                response = self.conn.compute.post(
                    '/flavors/%s/os-extra_specs' % flavor.id,
                    json={'extra_specs': specs}, microversion=str(mv))
                sdk_exc.raise_from_response(response)
                return response.json().get('extra_specs', specs)
            return self.conn.compute.create_flavor_extra_specs(
                flavor, specs).extra_specs

    def delete_flavor(self, flavor):
        with errors.reporting("deleting flavor '%s'" % flavor.name):
            self.conn.compute.delete_flavor(flavor, ignore_missing=True)

    def find_flavor(self, name_or_id, ignore_missing=False):
        """A flavor with its extra specs, or None when missing and allowed."""
        with errors.reporting("looking up flavor '%s'" % name_or_id):
            flavor = self.conn.compute.find_flavor(
                name_or_id, ignore_missing=ignore_missing,
                get_extra_specs=True)
        return flavor

    def flavors(self):
        """All flavors visible to the caller, public and private."""
        with errors.reporting('listing flavors'):
            return list(self.conn.compute.flavors(details=True,
                                                  is_public=None))

    def add_flavor_access(self, flavor, project_id):
        with errors.reporting("giving project '%s' access to flavor '%s'"
                              % (project_id, flavor.name)):
            self.conn.compute.flavor_add_tenant_access(flavor, project_id)

    def flavor_project_ids(self, flavor):
        """Ids of the projects with access to a private flavor."""
        with errors.reporting("reading the access list of flavor '%s'"
                              % flavor.name):
            return [entry['tenant_id'] for entry in
                    self.conn.compute.get_flavor_access(flavor)]

    def project_name(self, project_id):
        """The name of a project, or its id when it cannot be read."""
        try:
            with errors.reporting("reading project '%s'" % project_id):
                return self.conn.identity.get_project(project_id).name
        except errors.CloudError:
            return project_id

    def find_project_id(self, name_or_id, domain=None):
        with errors.reporting("looking up project '%s'" % name_or_id):
            kwargs = {}
            if domain:
                kwargs['domain_id'] = self.conn.identity.find_domain(
                    domain, ignore_missing=False).id
            return self.conn.identity.find_project(
                name_or_id, ignore_missing=False, **kwargs).id

    # -- images --------------------------------------------------------
    def find_image(self, name_or_id):
        with errors.reporting("looking up image '%s'" % name_or_id):
            return self.conn.image.find_image(name_or_id,
                                              ignore_missing=False)

    @staticmethod
    def image_properties(image, keys=()):
        """Custom and well-known properties of ``image`` as one flat dict."""
        flat = dict(image.properties or {})
        for key in keys:
            value = getattr(image, key, None) if hasattr(type(image), key) \
                else None
            if value is not None:
                flat[key] = value
        return flat

    def set_image_properties(self, image, properties, current=None):
        """Set ``properties`` in one JSON-patch PATCH, which glance applies
        whole or not at all.

        Not the SDK's ``update_image``: it diffs the whole resource and
        also sends "remove" operations for attributes glance manages itself
        (``stores``, ``owner_specified.*``), which glance refuses with 409.
        """
        from openstack import exceptions as sdk_exc
        current = self.image_properties(image, tuple(properties)) \
            if current is None else current
        ops = [{'op': 'replace' if key in current else 'add',
                'path': '/%s' % key, 'value': str(value)}
               for key, value in properties.items()]
        with errors.reporting("setting properties on image '%s'" % image.name):
            response = self.conn.image.patch(
                '/images/%s' % image.id, json=ops, headers={
                    'Content-Type':
                        'application/openstack-images-v2.1-json-patch'})
            sdk_exc.raise_from_response(response)
            return self.conn.image.get_image(image.id)

    # -- servers -------------------------------------------------------
    def create_server(self, **attrs):
        with errors.reporting("creating server '%s'" % attrs.get('name')):
            return self.conn.compute.create_server(**attrs)

    def get_server(self, server_id):
        with errors.reporting("reading server '%s'" % server_id):
            return self.conn.compute.get_server(server_id)

    def delete_server(self, server):
        with errors.reporting("deleting server '%s'" % server.name):
            self.conn.compute.delete_server(server, ignore_missing=True)

    def servers_named(self, name):
        """Servers named exactly ``name`` (nova's filter is a regex)."""
        with errors.reporting("looking for server '%s'" % name):
            return [s for s in self.conn.compute.servers(details=True,
                                                         name=name)
                    if s.name == name]

    def servers_marked(self, name, mark, as_tag=True):
        """Servers named ``name`` that carry the create mark ``mark``: as
        a tag (compute 2.26+ filters by it), else as metadata."""
        if not as_tag:
            return [s for s in self.servers_named(name)
                    if (s.metadata or {}).get(
                        server_request.MARK_METADATA_KEY) == mark]
        with errors.reporting("looking for server '%s'" % name):
            return [s for s in self.conn.compute.servers(details=True,
                                                         tags=mark)
                    if s.name == name]

    def remove_server_mark(self, server, mark, as_tag=True):
        """Remove the create mark: one DELETE of the tag, or of the
        metadata key (nova allows either only once the server is ACTIVE)."""
        with errors.reporting("removing osc-gpu's create mark from server "
                              "'%s'" % server.name):
            if as_tag:
                path = '/servers/%s/tags/%s' % (server.id, mark)
            else:
                path = '/servers/%s/metadata/%s' % (
                    server.id, server_request.MARK_METADATA_KEY)
            from openstack import exceptions as sdk_exc
            response = self.conn.compute.delete(
                path, microversion=str(server_request.TAGS_AT_CREATE)
                if as_tag else None)
            if response.status_code != 404:
                sdk_exc.raise_from_response(response)

    def server_gone(self, server):
        with errors.reporting("reading server '%s'" % server.name):
            return self.conn.compute.find_server(
                server.id, ignore_missing=True) is None

    def find_server_group_id(self, name_or_id):
        with errors.reporting("looking up server group '%s'" % name_or_id):
            return self.conn.compute.find_server_group(
                name_or_id, ignore_missing=False).id

    # -- lookups made for a boot: one request each ----------------------
    def find_flavor_for_boot(self, name_or_id):
        """The flavor with its extra specs, from one flavor list (which
        carries the specs from 2.61) instead of the SDK's GET by ID that
        fails for a name, then the list."""
        flavors = self.flavors()
        found = next((f for f in flavors if f.id == name_or_id), None) or \
            next((f for f in flavors if f.name == name_or_id), None)
        if found is None:
            # A private flavor the project cannot list may be read by ID.
            return self.find_flavor(name_or_id)
        if found.extra_specs is None:
            with errors.reporting("reading the extra specs of flavor '%s'"
                                  % found.name):
                found = self.conn.compute.fetch_flavor_extra_specs(found)
        return found

    def find_image_for_boot(self, name_or_id):
        """The image by ID, or by name from one filtered list."""
        from openstack import exceptions as sdk_exc
        with errors.reporting("looking up image '%s'" % name_or_id):
            if inputs.is_uuid_like(name_or_id):
                try:
                    return self.conn.image.get_image(name_or_id)
                except sdk_exc.NotFoundException:
                    pass        # an image may be named like an ID
            found = list(self.conn.image.images(name=name_or_id))
            if not found:
                raise sdk_exc.NotFoundException(
                    'No Image found for %s' % name_or_id)
            if len(found) > 1:
                raise sdk_exc.DuplicateResource(
                    'More than one Image exists with the name %s: use its '
                    'ID' % name_or_id)
            return found[0]

    # -- block storage (cinder) ----------------------------------------
    def find_volume(self, name_or_id):
        with errors.reporting("looking up volume '%s'" % name_or_id):
            return self.conn.block_storage.find_volume(name_or_id,
                                                       ignore_missing=False)

    def find_snapshot(self, name_or_id):
        with errors.reporting("looking up volume snapshot '%s'"
                              % name_or_id):
            return self.conn.block_storage.find_snapshot(
                name_or_id, ignore_missing=False)

    def volume_or_none(self, volume_id):
        """The volume, or None when it is gone."""
        with errors.reporting("reading volume '%s'" % volume_id):
            return self.conn.block_storage.find_volume(volume_id,
                                                       ignore_missing=True)

    def set_volume_image_properties(self, volume, properties):
        """cinder's os-set_image_metadata: what ``openstack volume set
        --image-property`` does."""
        with errors.reporting("setting image properties on volume '%s'"
                              % (volume.name or volume.id)):
            self.conn.block_storage.set_volume_image_metadata(
                volume, **{k: str(v) for k, v in properties.items()})

    def find_network_id(self, name_or_id):
        with errors.reporting("looking up network '%s'" % name_or_id):
            return self.conn.network.find_network(
                name_or_id, ignore_missing=False).id

    # -- GPUs in placement (see placement.py) --------------------------
    def gpu_capacity(self, host=None):
        """``[DeviceCapacity]`` of every PCI device placement knows.

        Raises :class:`placement.PciNotInPlacement` when none is reported,
        ValueError when ``host`` has none.
        """
        return placement.pci_capacity(self.conn, host=host)

    def gpu_availability(self):
        """``capacity.Availability`` for a preflight, or None without PCI
        data in placement.

        Hosts whose devices of a class are all used, or whose nova-compute
        is disabled, appear with 0, so a refusal can show them.
        """
        try:
            return capacity.availability(placement.pci_capacity(self.conn))
        except placement.PciNotInPlacement:
            return None

    def gpu_inventory(self, host=None):
        """``gpu_inventory.GpuInventory``: PCI devices and the GPUs that
        offer vGPUs, from two placement reads however many hosts.

        Raises ``placement.PciNotInPlacement`` when placement knows no GPU,
        ValueError when ``host`` has none.
        """
        from osc_gpu.cloud import gpu_inventory
        return gpu_inventory.read(self.conn, host=host)

    def vgpu_gpus(self, host=None):
        """``[vgpu_capacity.VgpuGpu]``: the GPUs that offer vGPUs."""
        try:
            return self.gpu_inventory(host).vgpus
        except placement.PciNotInPlacement:
            return []

    def vgpu_availability(self):
        """The GPUs that offer vGPUs, for a preflight; or, when placement
        refuses to list them (its policy is admin-only by default), why."""
        try:
            return self.vgpu_gpus()
        except errors.CloudError as exc:
            if exc.status_code != 403:
                raise
            return str(exc)

    def vgpu_classes(self):
        """The custom vGPU classes clouds.yaml declares (gpu_vgpu_types)."""
        try:
            return set(vgpu.declared_types(self.config).values())
        except ValueError as exc:
            raise errors.CloudError(str(exc)) from None

    def disabled_reasons(self, hosts):
        """``{host: reason}`` nova-compute on ``hosts`` was disabled for.

        One os-services request, made only when a refusal names disabled
        hosts. Hosts are hypervisor names (placement's); a service host
        matches it whole or as its short name. '' when nova has no reason,
        None when it cannot be told: the refusal matters more than its
        detail, so a failed read does not replace it.
        """
        try:
            with errors.reporting('reading the nova-compute services'):
                services = list(self.conn.compute.services(
                    binary='nova-compute'))
        except errors.CloudError:
            return {h: None for h in hosts}
        by_host = {}
        for service in services:
            by_host[service.host] = service.disabled_reason or ''
            by_host.setdefault(service.host.split('.')[0],
                               service.disabled_reason or '')
        return {h: by_host.get(h, by_host.get(h.split('.')[0]))
                for h in hosts}

    def allocated_gpu_devices(self, server_id, known=()):
        """Names of the device providers placement gave the server;
        ``known`` devices (``capacity.Device``) need no further read."""
        return [d.name for d in placement.allocated_devices(
            self.conn, server_id, known)]
