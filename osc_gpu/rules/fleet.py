"""Which server holds which GPU: nova's servers joined with placement.

Pure: ``osc_gpu.cloud.fleet`` lists the servers (from compute
microversion 2.47 each one carries its flavor's extra specs, as booted)
and reads, in placement, the device providers in use and who holds them;
these functions join the answers into one row per GPU server.

A GPU server is one whose flavor asks for GPUs (``pci_passthrough:alias``,
or ``resources[N]:<class>`` of a GPU class) or that holds units of a
device provider, whatever made it. A server whose flavor asks for GPUs
but that holds none (ERROR, SHELVED_OFFLOADED, still building) is a row
with no devices, not dropped.

Nova has no API naming a server's PCI devices (``os-pci`` went in Pike);
placement names each device provider ``<hypervisor host>_<PCI address>``,
which is all there is to tell which GPU a server got.
"""

import dataclasses
import re

from osc_gpu.rules import aliases
from osc_gpu.rules import capacity
from osc_gpu.rules import gpu_request
from osc_gpu.rules import hiding

# Placement's standard classes for GPUs (mediated and physical).
GPU_CLASSES = frozenset(('VGPU', 'PGPU'))
# nova's default class for a PCI device in placement.
PCI_CLASS_PREFIX = 'CUSTOM_PCI_'
_RESOURCES_KEY = re.compile(r'^resources[a-zA-Z0-9_-]*:([A-Z0-9_]+)$')


@dataclasses.dataclass(frozen=True)
class Server:
    """What the join needs of one server in nova's list."""

    id: str
    name: str
    project_id: str = ''
    status: str = ''
    host: str = ''              # nova's compute host (OS-EXT-SRV-ATTR:host)
    # OS-EXT-SRV-ATTR:hypervisor_hostname: the name placement gives the
    # compute node, so the first part of its device providers' names.
    hypervisor: str = ''
    flavor: str = ''            # the flavor's name as booted, or its id
    extra_specs: dict = None    # None: not known (flavor gone, old API)
    image_id: str = ''          # '' when booted from a volume
    image_properties: dict = None   # None: not known
    fault: str = ''


@dataclasses.dataclass(frozen=True)
class ResourceAsk:
    """``resources[N]:<class>=<count>`` of a flavor, for a GPU class."""

    key: str
    resource_class: str
    count: int

    def __str__(self):
        return '%s=%d' % (self.key, self.count)


@dataclasses.dataclass(frozen=True)
class FlavorGpus:
    """The GPUs a flavor's extra specs ask for, read as nova boots them."""

    aliases: tuple = ()          # gpu_request.GpuRequest
    resources: tuple = ()        # ResourceAsk
    # A pci_passthrough:alias nova cannot boot, verbatim: still an ask.
    unreadable: str = ''

    def __bool__(self):
        return bool(self.aliases or self.resources or self.unreadable)

    @property
    def text(self):
        """``P4:1``, ``resources:VGPU=1``, both comma-joined, or ''."""
        parts = [self.unreadable] if self.unreadable else [
            str(r) for r in self.aliases]
        return ','.join(parts + [str(r) for r in self.resources])


@dataclasses.dataclass(frozen=True)
class Row:
    """One GPU server: ``devices`` is None when placement cannot tell."""

    server: Server
    gpus: FlavorGpus
    devices: tuple = None        # capacity.AllocatedDevice


def is_gpu_class(resource_class, also=()):
    """Whether a flavor asking for ``resource_class`` asks for a GPU:
    VGPU, PGPU, nova's ``CUSTOM_PCI_*`` or one of ``also`` (the classes
    of the cloud's aliases and of its device providers)."""
    return (resource_class in GPU_CLASSES
            or resource_class.startswith(PCI_CLASS_PREFIX)
            or resource_class in also)


def flavor_gpus(extra_specs, gpu_classes=()):
    """:class:`FlavorGpus` of a flavor's extra specs (``{}`` for None)."""
    specs = extra_specs or {}
    requests, unreadable = (), ''
    value = specs.get(gpu_request.ALIAS_SPEC_KEY)
    if value is not None:
        try:
            requests = gpu_request.read_alias_spec(value)[0]
        except gpu_request.InvalidGpuRequest:
            unreadable = value
    asks = []
    for key, amount in sorted(specs.items()):
        match = _RESOURCES_KEY.match(key)
        if not match or not is_gpu_class(match.group(1), gpu_classes):
            continue
        try:
            count = int(amount)
        except (TypeError, ValueError):
            continue
        if count > 0:
            asks.append(ResourceAsk(key, match.group(1), count))
    return FlavorGpus(tuple(requests), tuple(asks), unreadable)


def in_use(capacities, hypervisors=None):
    """The devices with units used, once each, optionally only those on
    ``hypervisors`` (host names as placement has them)."""
    found = {}
    for cap in capacities:
        if cap.used > 0 and (hypervisors is None
                             or cap.device.host in hypervisors):
            found.setdefault(cap.device.uuid, cap.device)
    return sorted(found.values(), key=lambda d: (d.host, d.address, d.name))


def holdings(devices, allocations):
    """``{consumer: [AllocatedDevice]}``: who holds units of ``devices``.

    ``allocations`` is ``{provider uuid: {consumer: {class: units}}}``,
    as ``GET /resource_providers/{uuid}/allocations`` gives them.
    """
    held = {}
    for device in devices:
        for consumer, resources in allocations.get(device.uuid, {}).items():
            for rc, amount in sorted(resources.items()):
                if capacity.is_device_class(rc) and amount:
                    held.setdefault(consumer, []).append(
                        capacity.AllocatedDevice(
                            device.uuid, device.name, device.host,
                            device.address, rc, amount))
    return {consumer: sorted(found, key=lambda d: (d.host, d.address,
                                                   d.name))
            for consumer, found in held.items()}


def join(servers, held, gpu_classes=(), reporting=None):
    """Rows for the GPU servers among ``servers``, in their order.

    ``held`` is :func:`holdings` (None: placement could not be read, so
    no server's devices are known). ``reporting`` are the hypervisor
    hosts that report devices to placement (None: all): a server on
    another host that asks for GPUs holds unknown devices, not none.
    """
    rows = []
    for server in servers:
        gpus = flavor_gpus(server.extra_specs, gpu_classes)
        devices = None if held is None else tuple(held.get(server.id, ()))
        if not gpus and not devices:
            continue
        if (devices == () and reporting is not None and server.hypervisor
                and server.hypervisor not in reporting):
            devices = None
        rows.append(Row(server, gpus, devices))
    return rows


def unknown_devices_note(rows):
    """Why the rows without known devices have none, '' if all are
    known, when placement was read (their hosts report no devices)."""
    hosts = sorted({r.server.hypervisor for r in rows if r.devices is None})
    if not hosts:
        return ''
    return ('devices not shown on %s: no PCI device there is reported to '
            'placement ([pci] report_in_placement is off), and nova has no '
            'other API that names them' % ', '.join(hosts))


def alias_matcher(alias, classes, alias_map):
    """A test of rows for ``--alias``: the flavor names the alias, or the
    server asks for or holds one of its ``classes``."""
    wanted = set(classes)
    name = alias_map.declared_name(alias) or alias

    def same(other):
        return other == alias or (alias_map.declared_name(other) or other) \
            == name

    def matches(row):
        return (any(same(r.alias) for r in row.gpus.aliases)
                or any(r.resource_class in wanted
                       for r in row.gpus.resources)
                or any(d.resource_class in wanted
                       for d in row.devices or ()))
    return matches


def unlisted_consumers(held, servers):
    """Consumers holding devices that are none of ``servers``: a migration
    in progress (nova keeps the source's devices under the migration's
    id) or an allocation that outlived its server."""
    listed = {s.id for s in servers}
    return sorted(c for c in held or {} if c not in listed)


def model_of(resource_class):
    """The GPU model behind a class, '' when the class does not say."""
    name = aliases.model_name_of_resource_class(resource_class)
    return '' if name == resource_class else name


def device_record(device, alias_map):
    """One held device as ``-f json`` shows it."""
    return {'host': device.host, 'address': device.address,
            'provider': device.name, 'resource_class': device.resource_class,
            'model': model_of(device.resource_class),
            'aliases': alias_map.aliases_of(device.resource_class),
            'units': device.amount}


def guest_record(device):
    """What the guest sees of one held device, as far as can be known.

    The guest's PCI address is chosen by libvirt when it writes the
    domain; nova reports it nowhere. The vendor and product ids are the
    host device's (whole-GPU passthrough), so ``lspci -d`` finds it.
    """
    ids = aliases.ids_of_resource_class(device.resource_class)
    return {'model': model_of(device.resource_class),
            'vendor_id': ids[0] if ids else None,
            'product_id': ids[1] if ids else None,
            'count': device.amount,
            'host_address': device.address,
            'guest_address': None,
            'find_in_guest': 'lspci -nn -d %s:%s' % ids if ids else None}


def hidden_by(server, release):
    """What hides the hypervisor from the guest on ``release``: e.g.
    ``flavor hw:hide_hypervisor_id``, '' for nothing, None when it cannot
    be told (the flavor's specs or the image's properties unknown)."""
    place, _ = hiding.hiding_source(server.extra_specs,
                                    server.image_properties, release)
    if place is not None:
        return str(place)
    if server.extra_specs is None or server.image_properties is None:
        return None
    return ''
