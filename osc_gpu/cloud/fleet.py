"""Reading which server holds which GPU: nova's servers and placement.

``gpu server list`` costs the same number of requests for 3 servers as
for 300 on the same GPUs:

- nova's server list, paged as nova pages it (``[api] max_limit``, 1,000
  by default; the SDK follows the next links), at the microversion the
  SDK picks (2.100 on recent clouds). From 2.47 each server carries its
  flavor with the extra specs it was booted with, so no flavor is read;
- at the same time, placement's device providers and their usage, the
  reads of ``gpu capacity`` (a fixed number of requests);
- then the allocations of each device provider in use, eight at a time:
  bounded by the GPUs in use, never by the servers. Listing one project
  or one host reads those of the devices on the listed servers' hosts.

``gpu server show`` reads one server, its allocations (with the provider
tree that names them), and its image for the name.
"""

import dataclasses

from osc_gpu.cloud import errors
from osc_gpu.cloud import placement
from osc_gpu.rules import fleet
from osc_gpu.rules import releases

# The server's embedded flavor has its extra specs from 2.47 on; its
# embedded image has the properties it was booted with from 2.98 on.
EMBEDDED_FLAVOR = releases.Microversion(2, 47)
EMBEDDED_IMAGE_PROPERTIES = releases.Microversion(2, 98)


@dataclasses.dataclass
class Fleet:
    """Servers and what placement says they hold."""

    servers: list                       # fleet.Server, in nova's order
    held: dict = None                   # fleet.holdings(); None: unknown
    gpu_classes: frozenset = frozenset()    # classes of device providers
    reporting: frozenset = None         # hypervisors with device providers
    notes: list = dataclasses.field(default_factory=list)
    # Why no device is known, when placement could not be read.
    unknown_why: str = ''

    def rows(self, alias_classes=()):
        """``[fleet.Row]`` of the GPU servers."""
        return fleet.join(self.servers, self.held,
                          self.gpu_classes | frozenset(alias_classes),
                          self.reporting)


def _microversion(conn):
    """The compute microversion the SDK lists and shows servers at."""
    from openstack.compute.v2 import server as sdk_server
    text = sdk_server.Server._get_microversion(conn.compute)
    return releases.Microversion.parse(text) if text else \
        releases.Microversion(2, 1)


def _image_facts(image, microversion):
    """``(id, properties or None)`` of a server's embedded image."""
    image_id = getattr(image, 'id', None) or ''
    if not image_id or microversion < EMBEDDED_IMAGE_PROPERTIES:
        return image_id, None
    # The SDK files every key it does not know, 'links' too, as a
    # property.
    properties = dict(getattr(image, 'properties', None) or {})
    properties.pop('links', None)
    return image_id, properties


def server_facts(server, microversion):
    """A :class:`fleet.Server` from an SDK server listed at
    ``microversion``."""
    flavor = server.flavor
    name, specs = '', None
    if flavor is not None:
        name = (getattr(flavor, 'original_name', None)
                or getattr(flavor, 'name', None)
                or getattr(flavor, 'id', None) or '')
        if microversion >= EMBEDDED_FLAVOR:
            specs = dict(flavor.extra_specs or {})
    image_id, properties = _image_facts(server.image, microversion)
    return fleet.Server(
        id=server.id, name=server.name or '',
        project_id=server.project_id or '', status=server.status or '',
        host=server.compute_host or '',
        hypervisor=server.hypervisor_hostname or '', flavor=name,
        extra_specs=specs, image_id=image_id, image_properties=properties,
        fault=(server.fault or {}).get('message') or '')


def list_servers(conn, all_projects=False, project_id=None, host=None):
    """``[fleet.Server]`` as ``openstack server list`` asks for them."""
    query = {}
    if project_id:
        query['project_id'] = project_id
    if host is not None:
        query['compute_host'] = host
    microversion = _microversion(conn)
    with errors.reporting('listing servers'):
        servers = [server_facts(s, microversion) for s in
                   conn.compute.servers(details=True,
                                        all_projects=all_projects, **query)]
    if host is not None:
        # nova drops filters a caller's policy does not allow, host among
        # them, without a word.
        servers = [s for s in servers if s.host == host]
    return servers


def with_flavor_specs(gpu_cloud, servers):
    """``servers`` with the extra specs of flavors nova did not embed
    (compute API before 2.47): one read per flavor, not per server."""
    missing = sorted({s.flavor for s in servers
                      if s.extra_specs is None and s.flavor})
    if not missing:
        return servers
    found = dict(zip(missing, placement._in_parallel(
        [lambda f=f: gpu_cloud.find_flavor(f, ignore_missing=True)
         for f in missing])))
    return [dataclasses.replace(s, flavor=found[s.flavor].name,
                                extra_specs=dict(found[s.flavor].extra_specs
                                                 or {}))
            if s.extra_specs is None and found.get(s.flavor) else s
            for s in servers]


def _devices_unknown(exc):
    return "devices not shown: %s" % exc


def _capacities(conn):
    """``(capacities, None)``, or ``(None, note)`` when placement cannot
    tell which device is in use."""
    try:
        return placement.pci_capacity(conn), None
    except placement.PciNotInPlacement as exc:
        return None, _devices_unknown(exc)
    except errors.CloudError as exc:
        if exc.status_code != 403:
            raise
        return None, _devices_unknown(exc)


def project_id_of(gpu_cloud, name_or_id, domain=None):
    """The id of a project, as ``openstack server list --project`` finds
    it: a caller keystone will not answer (403) gets the value as the
    id."""
    try:
        return gpu_cloud.find_project_id(name_or_id, domain)
    except errors.CloudError as exc:
        if exc.status_code != 403:
            raise
        return name_or_id


def read_fleet(gpu_cloud, all_projects=False, project_id=None, host=None):
    """The :class:`Fleet` ``gpu server list`` shows.

    ``project_id`` lists that project's servers (all projects searched,
    as ``openstack server list --project`` does); ``host`` those on one
    compute host.
    """
    conn = gpu_cloud.conn
    # Each thread builds what it uses (compute, placement): nothing races.
    servers, (caps, note) = placement._in_parallel([
        lambda: list_servers(conn, all_projects or bool(project_id),
                             project_id, host),
        lambda: _capacities(conn)])
    servers = with_flavor_specs(gpu_cloud, servers)
    if caps is None:
        return Fleet(servers, unknown_why=note)
    whole = all_projects and not project_id and host is None
    devices = fleet.in_use(caps, None if whole else
                           {s.hypervisor for s in servers if s.hypervisor})
    held = fleet.holdings(devices,
                          placement.provider_allocations(conn, devices))
    notes = []
    unlisted = fleet.unlisted_consumers(held, servers) if whole else []
    if unlisted:
        notes.append(
            "%d device allocation%s belong%s to no listed server (%s): a "
            "migration in progress holds its source's devices under the "
            "migration's id, else the allocation outlived its server; see "
            "'openstack resource provider allocation show <id>'"
            % (len(unlisted), '' if len(unlisted) == 1 else 's',
               's' if len(unlisted) == 1 else '', ', '.join(unlisted[:3])
               + (', ...' if len(unlisted) > 3 else '')))
    return Fleet(servers, held,
                 frozenset(c.resource_class for c in caps),
                 frozenset(c.device.host for c in caps), notes)


def _held_devices(conn, server):
    """``(devices or None, note)`` of one server, from placement."""
    try:
        devices = placement.allocated_devices(conn, server.id)
    except errors.CloudError as exc:
        if exc.status_code != 403:
            raise
        return None, _devices_unknown(exc)
    if devices or not server.hypervisor or not fleet.flavor_gpus(
            server.extra_specs).aliases:
        return devices, None
    # Asks for PCI devices and holds none on its host: does that host
    # tell placement about its devices at all?
    if placement.host_reports_pci(conn, server.hypervisor) is False:
        return None, ('devices not shown: %s reports no PCI device to '
                      'placement ([pci] report_in_placement is off), and '
                      'nova has no other API that names them'
                      % server.hypervisor)
    return devices, None


def _image_of(gpu_cloud, server):
    """``(name, server)``: the image's name (its id if it cannot be
    read) and ``server`` with the image's properties where nova did not
    embed them."""
    if not server.image_id:
        return '', server
    try:
        image = gpu_cloud.find_image(server.image_id)
    except errors.CloudError:
        return server.image_id, server
    if server.image_properties is None:
        server = dataclasses.replace(
            server, image_properties=gpu_cloud.image_properties(image))
    return image.name or server.image_id, server


def read_server(gpu_cloud, name_or_id):
    """``(server, image name, devices or None, notes)`` for ``gpu server
    show``."""
    conn = gpu_cloud.conn
    with errors.reporting("looking up server '%s'" % name_or_id):
        found = conn.compute.find_server(name_or_id, ignore_missing=False,
                                         details=True)
    server = with_flavor_specs(
        gpu_cloud, [server_facts(found, _microversion(conn))])[0]
    devices, note = _held_devices(conn, server)
    image_name, server = _image_of(gpu_cloud, server)
    return server, image_name, devices, [note] if note else []
