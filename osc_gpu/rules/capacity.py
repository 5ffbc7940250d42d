"""GPU capacity per host from what placement says about PCI devices.

Pure data and arithmetic: ``osc_gpu.cloud.placement`` reads the cloud and hands
the answers to these functions, so every rule about how nova lays PCI
devices out in placement can be tested without one.

With ``[pci] report_in_placement`` nova gives each device its own child
resource provider, named ``<hypervisor hostname>_<PCI address>``, holding
one inventory (``CUSTOM_PCI_<VENDOR>_<PRODUCT>`` or the alias's
``resource_class``). A later vGPU reader only has to produce the same
``DeviceCapacity`` records from its own child providers.
"""

import dataclasses
import re

NOT_REPORTED = (
    'PCI devices are not reported to placement: enable '
    '[pci] report_in_placement = true on the computes (Zed or later); nova '
    'has no other API that lists PCI devices')

# nova/compute/pci_placement_translator.py names a device provider
# f"{hypervisor_hostname}_{address.upper()}"; the address is the only part
# we can recognise, so it is matched from the end (host names may hold "_").
_PCI_NAME = re.compile(
    r'^(?P<host>.+)_(?P<address>[0-9A-Fa-f]{4}:[0-9A-Fa-f]{2}:'
    r'[0-9A-Fa-f]{2}\.[0-7])$')

# Classes placement keeps on the compute root or on neutron's bandwidth
# providers: whatever else a child provider holds is a device.
_NOT_DEVICE_CLASSES = frozenset((
    'VCPU', 'PCPU', 'MEMORY_MB', 'DISK_GB', 'SRIOV_NET_VF', 'IPV4_ADDRESS',
    'NUMA_SOCKET', 'NUMA_CORE', 'NUMA_THREAD', 'NUMA_MEMORY_MB'))
_NOT_DEVICE_PREFIXES = ('NET_BW_', 'NET_PACKET_RATE_')


def is_device_class(resource_class):
    return (resource_class not in _NOT_DEVICE_CLASSES
            and not resource_class.startswith(_NOT_DEVICE_PREFIXES))


@dataclasses.dataclass(frozen=True)
class Device:
    """One device resource provider, as the provider list shows it."""

    uuid: str
    name: str
    host: str
    address: str
    root_uuid: str
    # nova-compute on its host is disabled: nova schedules nothing there.
    disabled: bool = False


@dataclasses.dataclass(frozen=True)
class DeviceCapacity:
    """One resource class of one device: how many units exist, how many
    are taken. ``total`` is what placement can hand out, i.e. without
    ``reserved`` units (nova reserves a ``one_time_use`` device once used).
    Nothing is free on a disabled compute: nova would not schedule to it.
    """

    device: Device
    resource_class: str
    total: int
    used: int

    @property
    def host(self):
        return self.device.host

    @property
    def disabled(self):
        return self.device.disabled

    @property
    def free(self):
        if self.device.disabled:
            return 0
        return max(self.total - self.used, 0)


@dataclasses.dataclass(frozen=True)
class HostCapacity:
    host: str
    resource_class: str
    total: int
    used: int
    free: int
    disabled: bool = False


@dataclasses.dataclass(frozen=True)
class Availability:
    """What a preflight needs.

    ``free`` is ``{resource_class: {host: free units}}`` over every host
    with devices of the class (0 when all are used or the host is
    disabled); ``disabled`` is ``{host: {resource_class: units that would
    be free}}`` for the hosts whose nova-compute is disabled.
    """

    free: dict
    disabled: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class AllocatedDevice:
    """A device some consumer (a server) holds units of."""

    uuid: str
    name: str
    host: str
    address: str
    resource_class: str
    amount: int


def split_device_name(name):
    """``(host, PCI address)`` of a nova device provider name.

    A name in another shape keeps the whole name as host and no address,
    so such a device still counts, under a name the operator can search.
    """
    match = _PCI_NAME.match(name or '')
    if match:
        return match.group('host'), match.group('address')
    return name, ''


def device_from_provider(provider):
    """A :class:`Device` from one entry of ``GET /resource_providers``."""
    host, address = split_device_name(provider['name'])
    return Device(uuid=provider['uuid'], name=provider['name'], host=host,
                  address=address,
                  root_uuid=provider.get('root_provider_uuid') or '')


def mark_disabled(devices, disabled_roots):
    """The devices, those under a disabled compute root marked so.

    nova sets the trait ``COMPUTE_STATUS_DISABLED`` on the compute node's
    root provider while its nova-compute service is disabled.
    """
    roots = set(disabled_roots)
    return [dataclasses.replace(d, disabled=True)
            if d.root_uuid in roots and not d.disabled else d
            for d in devices]


def roots_with_trait(summaries, trait):
    """Uuids of the root providers in ``provider_summaries`` (1.17+ list
    each provider's traits) that have ``trait``."""
    return {uuid for uuid, summary in summaries.items()
            if trait in summary.get('traits', ())
            and summary.get('root_provider_uuid', uuid) == uuid}


def usable_units(inventory):
    """Units placement can allocate, computed as placement does."""
    return int((inventory['total'] - inventory.get('reserved', 0))
               * inventory.get('allocation_ratio', 1.0))


def capacity_from_summaries(devices, summaries):
    """Capacity of the devices that ``provider_summaries`` describe.

    Returns ``(capacities, missing)``: ``missing`` are the devices absent
    from the summaries (their host had no free VCPU), which need their own
    inventory and usage reads.
    """
    capacities, missing = [], []
    for device in devices:
        summary = summaries.get(device.uuid)
        if summary is None:
            missing.append(device)
            continue
        for rc, amounts in sorted(summary.get('resources', {}).items()):
            capacities.append(DeviceCapacity(device, rc, amounts['capacity'],
                                             amounts['used']))
    return capacities, missing


def capacity_from_inventory(device, inventories, usages):
    """Capacity of one device from its own inventories and usages."""
    return [DeviceCapacity(device, rc, usable_units(inventory),
                           usages.get(rc, 0))
            for rc, inventory in sorted(inventories.items())]


def on_host(devices, host):
    """The devices on ``host``; ValueError naming known hosts if none."""
    chosen = [d for d in devices if d.host == host]
    if not chosen:
        hosts = sorted({d.host for d in devices})
        raise ValueError(
            "host '%s' has no PCI device in placement; hosts with devices: "
            "%s" % (host, _some(hosts)))
    return chosen


def of_classes(capacities, resource_classes, what):
    """The capacities of ``resource_classes``; ValueError if none.

    ``what`` names the request in the error, e.g. "alias 'P4'".
    """
    wanted = set(resource_classes)
    chosen = [c for c in capacities if c.resource_class in wanted]
    if not chosen:
        seen = sorted({c.resource_class for c in capacities})
        raise ValueError(
            "no device of %s (%s) in placement; classes reported: %s"
            % (what, ', '.join(sorted(wanted)), _some(seen)))
    return chosen


def by_host(capacities):
    """Sum device capacities per host and class, sorted by both."""
    sums = {}
    for cap in capacities:
        total, used, free, disabled = sums.get(
            (cap.host, cap.resource_class), (0, 0, 0, False))
        sums[(cap.host, cap.resource_class)] = (
            total + cap.total, used + cap.used, free + cap.free,
            disabled or cap.disabled)
    return [HostCapacity(host, rc, *sums[(host, rc)])
            for host, rc in sorted(sums)]


def availability(capacities):
    """The :class:`Availability` of ``capacities``, for a preflight."""
    free, disabled = {}, {}
    for cap in capacities:
        hosts = free.setdefault(cap.resource_class, {})
        hosts[cap.host] = hosts.get(cap.host, 0) + cap.free
        if cap.disabled:
            held = disabled.setdefault(cap.host, {})
            held[cap.resource_class] = (held.get(cap.resource_class, 0)
                                        + max(cap.total - cap.used, 0))
    return Availability(free, disabled)


def free_by_host(capacities, resource_classes):
    """``{host: free units}`` over ``resource_classes``, hosts with any.

    What a preflight needs to say whether ``P4:2`` can land anywhere:
    ``max(free_by_host(...).values(), default=0) >= 2``.
    """
    wanted = set(resource_classes)
    free = {}
    for cap in capacities:
        if cap.resource_class in wanted and cap.free:
            free[cap.host] = free.get(cap.host, 0) + cap.free
    return free


def devices_in_allocation(allocations, tree):
    """Devices among a consumer's ``allocations`` (``GET /allocations/X``).

    ``tree`` holds the providers (``GET /resource_providers?in_tree=``)
    of the host the devices are on; allocations on providers outside it
    (the root's VCPU, a sharing disk) are not devices and are left out.
    """
    providers = {p['uuid']: p for p in tree}
    found = []
    for uuid, allocation in allocations.items():
        provider = providers.get(uuid)
        if provider is None or not provider.get('parent_provider_uuid'):
            continue
        root = providers.get(provider.get('root_provider_uuid'))
        host, address = split_device_name(provider['name'])
        if root is not None:
            # The root is named after the hypervisor host: exact, even
            # for names split_device_name cannot read.
            host = root['name']
        for rc, amount in sorted(allocation.get('resources', {}).items()):
            if is_device_class(rc):
                found.append(AllocatedDevice(uuid, provider['name'], host,
                                             address, rc, amount))
    return sorted(found, key=lambda d: (d.host, d.address, d.name))


def devices_known(allocations, devices):
    """:class:`AllocatedDevice` for the ``allocations`` on ``devices``
    (:class:`Device`, as listed before), without reading their tree."""
    by_uuid = {d.uuid: d for d in devices}
    return [AllocatedDevice(uuid, by_uuid[uuid].name, by_uuid[uuid].host,
                            by_uuid[uuid].address, rc, amount)
            for uuid, allocation in sorted(allocations.items())
            if uuid in by_uuid
            for rc, amount in sorted(allocation.get('resources', {}).items())
            if is_device_class(rc)]


def device_candidates(allocations):
    """Providers in ``allocations`` holding device classes: the ones whose
    tree must be read to name them."""
    return sorted(uuid for uuid, allocation in allocations.items()
                  if any(is_device_class(rc)
                         for rc in allocation.get('resources', {})))


def _some(names, limit=5):
    if not names:
        return 'none'
    shown = ', '.join(names[:limit])
    more = len(names) - limit
    return shown + (' and %d more' % more if more > 0 else '')
