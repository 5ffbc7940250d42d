"""Reading PCI devices, their usage and allocations from placement.

The placement part of the SDK adapter. Capacity costs two requests
however large the cloud, made at the same time:

- ``GET /resource_providers?required=COMPUTE_MANAGED_PCI_DEVICE`` lists
  every device provider with its name and root;
- ``GET /allocation_candidates?resources=VCPU:1`` returns, from 1.29, the
  capacity, usage and traits of every provider in every tree with a free
  VCPU, fully used GPUs included; a compute root with the trait
  ``COMPUTE_STATUS_DISABLED`` (nova sets it while the host's nova-compute
  service is disabled) hands out no GPU.

Only devices on hosts without a free VCPU are missing from the second
answer; those are read one by one, a bounded number at a time, and then
``GET /resource_providers?required=COMPUTE_STATUS_DISABLED`` tells which
of their hosts are disabled.

Requests go to placement's endpoint in the catalog with an explicit
microversion, through keystoneauth without the SDK proxy: placement
serves its one API at that URL, and the proxy's version discovery would
cost every command one more round trip for a document it does not need.
The SDK's own ``allocation_candidates()`` is not used either: it keeps
only the summaries of providers named in each allocation request, i.e.
the roots, and drops the device children we came for.
"""

import concurrent.futures

from openstack import exceptions as sdk_exceptions

from osc_gpu.rules import capacity
from osc_gpu.cloud import errors

PCI_DEVICE_TRAIT = 'COMPUTE_MANAGED_PCI_DEVICE'
# nova (Train+) puts it on the compute node's root provider while the
# host's nova-compute service is disabled.
DISABLED_TRAIT = 'COMPUTE_STATUS_DISABLED'
# ``required`` on the provider list needs 1.18 (root_provider_uuid: 1.14).
PROVIDERS_MICROVERSION = '1.18'
# From 1.29 provider summaries cover whole trees, not only the roots.
CANDIDATES_MICROVERSION = '1.29'
# Inventories, usages and allocations read the same since 1.12.
PROVIDER_MICROVERSION = '1.12'
# ``in_tree`` on the provider list.
TREE_MICROVERSION = '1.14'
# Enough to overlap round trips without flooding one placement API.
MAX_WORKERS = 8


class PciNotInPlacement(errors.CloudError):
    """No PCI device provider at all: placement cannot tell capacity."""


def _placement(conn):
    """A keystoneauth adapter on placement's catalog endpoint (or the
    configured override), with the connection's session and retries."""
    from keystoneauth1 import adapter
    config = conn.config
    return adapter.Adapter(
        session=conn.session, service_type='placement',
        interface=config.get_interface('placement'),
        region_name=config.get_region_name('placement'),
        endpoint_override=config.get_endpoint('placement'),
        connect_retries=config.get_connect_retries('placement'),
        status_code_retries=config.get_status_code_retries('placement'))


def _get(conn, path, microversion, params=None):
    response = _placement(conn).get(
        path, params=params, microversion=microversion, raise_exc=False,
        headers={'Accept': 'application/json'})
    sdk_exceptions.raise_from_response(response)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise errors.NotTheApi(response)
    return data


def _in_parallel(calls, max_workers=MAX_WORKERS):
    """Results of ``calls`` (no-argument callables), in their order."""
    if len(calls) == 1:
        return [calls[0]()]
    workers = max(1, min(max_workers, len(calls)))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def device_providers(conn):
    """Every PCI device provider (one request), as placement lists them."""
    with errors.reporting('listing PCI device providers in placement'):
        data = _get(conn, '/resource_providers', PROVIDERS_MICROVERSION,
                    {'required': PCI_DEVICE_TRAIT})
    return data.get('resource_providers', [])


def disabled_roots(conn):
    """Uuids of the compute roots whose nova-compute is disabled."""
    with errors.reporting('listing disabled computes in placement'):
        data = _get(conn, '/resource_providers', PROVIDERS_MICROVERSION,
                    {'required': DISABLED_TRAIT})
    return {p['uuid'] for p in data.get('resource_providers', [])}


def tree_summaries(conn):
    """Capacity and usage of every provider in trees with a free VCPU."""
    with errors.reporting('reading provider usage from placement '
                          '(allocation candidates)'):
        data = _get(conn, '/allocation_candidates', CANDIDATES_MICROVERSION,
                    {'resources': 'VCPU:1'})
    return data.get('provider_summaries', {})


def _own_capacity(conn, device):
    path = '/resource_providers/%s' % device.uuid
    try:
        with errors.reporting("reading inventory and usage of '%s'"
                              % device.name):
            inventories = _get(conn, path + '/inventories',
                               PROVIDER_MICROVERSION)['inventories']
            usages = _get(conn, path + '/usages',
                          PROVIDER_MICROVERSION)['usages']
    except errors.NotFound:
        # Removed since the list was read (host deleted): nothing to count.
        return []
    return capacity.capacity_from_inventory(device, inventories, usages)


def pci_capacity(conn, host=None, max_workers=MAX_WORKERS):
    """``[DeviceCapacity]`` of every PCI device in placement.

    ``host`` keeps one hypervisor host's devices (ValueError naming the
    hosts that have some when it has none). Raises
    :class:`PciNotInPlacement` when no compute reports PCI devices.
    """
    providers, summaries = _in_parallel(
        [lambda: device_providers(conn), lambda: tree_summaries(conn)])
    if not providers:
        raise PciNotInPlacement(capacity.NOT_REPORTED)
    devices = capacity.mark_disabled(
        [capacity.device_from_provider(p) for p in providers],
        capacity.roots_with_trait(summaries, DISABLED_TRAIT))
    if host is not None:
        devices = capacity.on_host(devices, host)
    found, missing = capacity.capacity_from_summaries(devices, summaries)
    if missing:
        # Their hosts, with no free VCPU, are not in the summaries.
        missing = capacity.mark_disabled(missing, disabled_roots(conn))
        for caps in _in_parallel(
                [lambda d=d: _own_capacity(conn, d) for d in missing],
                max_workers):
            found.extend(caps)
    return found


def allocated_devices(conn, consumer_uuid, known=()):
    """``[AllocatedDevice]`` that ``consumer_uuid`` (a server) holds.

    Placement is the only API that knows which GPU a server got. Costs
    one request, plus one per host tree holding its devices (nova puts
    them all on one host, so one) unless ``known`` (``capacity.Device``
    from :func:`pci_capacity`) already names them.
    """
    with errors.reporting("reading the allocations of '%s'" % consumer_uuid):
        allocations = _get(conn, '/allocations/%s' % consumer_uuid,
                           PROVIDER_MICROVERSION).get('allocations', {})
    named = capacity.devices_known(allocations, known)
    unnamed = [u for u in capacity.device_candidates(allocations)
               if u not in {d.uuid for d in named}]
    found = list(named)
    while unnamed:
        with errors.reporting('reading the provider tree of %s' % unnamed[0]):
            tree = _get(conn, '/resource_providers', TREE_MICROVERSION,
                        {'in_tree': unnamed[0]})['resource_providers']
        in_tree = {p['uuid'] for p in tree}
        found.extend(capacity.devices_in_allocation(
            {u: a for u, a in allocations.items() if u in in_tree}, tree))
        # A candidate outside every tree read (deleted meanwhile) would
        # loop forever: drop the one just asked for in any case.
        unnamed = [u for u in unnamed[1:] if u not in in_tree]
    return sorted(found, key=lambda d: (d.host, d.address, d.name))


def provider_allocations(conn, devices, max_workers=MAX_WORKERS):
    """``{provider uuid: {consumer: {resource class: units}}}``.

    One ``GET /resource_providers/{uuid}/allocations`` per device in
    ``devices`` (``capacity.Device``), at most ``max_workers`` at a time:
    the cost follows the devices asked about, never the servers. A device
    removed since it was listed holds nothing.
    """
    def read(device):
        try:
            with errors.reporting("reading the allocations of device '%s'"
                                  % device.name):
                data = _get(conn, '/resource_providers/%s/allocations'
                            % device.uuid, PROVIDER_MICROVERSION)
        except errors.NotFound:
            return {}
        return {consumer: dict(allocation.get('resources', {}))
                for consumer, allocation
                in data.get('allocations', {}).items()}
    if not devices:
        return {}
    answers = _in_parallel([lambda d=d: read(d) for d in devices],
                           max_workers)
    return {d.uuid: answer for d, answer in zip(devices, answers)}


def host_reports_pci(conn, host):
    """Whether the compute node ``host`` (its hypervisor host name) has
    PCI device providers, i.e. runs with ``[pci] report_in_placement``.

    Two small requests: the node's provider by name, then its tree's
    device providers. None when placement has no node of that name.
    """
    with errors.reporting("looking up compute node '%s' in placement"
                          % host):
        nodes = _get(conn, '/resource_providers', PROVIDERS_MICROVERSION,
                     {'name': host})['resource_providers']
        if not nodes:
            return None
        devices = _get(conn, '/resource_providers', PROVIDERS_MICROVERSION,
                       {'in_tree': nodes[0]['uuid'],
                        'required': PCI_DEVICE_TRAIT})['resource_providers']
    return bool(devices)
