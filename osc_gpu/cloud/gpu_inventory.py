"""Every GPU placement knows, passed through or shared as vGPUs, in two reads.

What ``gpu capacity``, ``gpu vgpu type list`` and the vGPU preflight show
comes from two requests, made at the same time, however many hosts:

- ``GET /allocation_candidates?resources=VCPU:1`` (1.29): the capacity,
  usage and traits of every provider in every tree with a free VCPU. PCI
  devices carry ``COMPUTE_MANAGED_PCI_DEVICE``; a root with
  ``COMPUTE_STATUS_DISABLED`` is a compute whose nova-compute is
  disabled.
- ``GET /resource_providers?required=!COMPUTE_MANAGED_PCI_DEVICE`` (1.22):
  the names the summaries lack, of the compute roots (the host names) and
  of the GPUs that offer vGPUs (``<host>_pci_0000_81_00_0``), but not of
  the PCI devices, which the table counts per host and needs no name for.

Only hosts without a free VCPU are missing from the summaries: then one
list of PCI devices and one of disabled roots find what is on them, and
their devices are read one by one, a bounded number at a time.
"""

import dataclasses

from osc_gpu.cloud import errors
from osc_gpu.cloud import placement
from osc_gpu.rules import capacity
from osc_gpu.rules import vgpu_capacity

NAMED_MICROVERSION = '1.22'       # forbidden traits (!TRAIT) in required
NO_GPU = (
    'placement knows no GPU: PCI devices are reported only with [pci] '
    'report_in_placement = true on the computes (Zed or later), and GPUs '
    'offer vGPUs only with [devices] enabled_mdev_types')


@dataclasses.dataclass(frozen=True)
class GpuInventory:
    """``pci``: ``capacity.DeviceCapacity`` of the PCI devices (no names:
    host and class are what capacity counts); ``vgpus``:
    ``vgpu_capacity.VgpuGpu`` of the GPUs that offer vGPUs."""

    pci: list
    vgpus: list

    @property
    def hosts(self):
        return sorted({c.host for c in self.pci}
                      | {g.host for g in self.vgpus})


def named_providers(conn):
    """Every provider but the PCI devices, with names (one request)."""
    with errors.reporting('listing compute nodes and vGPU GPUs in '
                          'placement'):
        data = placement._get(conn, '/resource_providers',
                              NAMED_MICROVERSION,
                              {'required': '!' + placement.PCI_DEVICE_TRAIT})
    return data.get('resource_providers', [])


def _pci_from_summaries(summaries, root_names):
    found = []
    for uuid, summary in summaries.items():
        if placement.PCI_DEVICE_TRAIT not in summary.get('traits', ()):
            continue
        root = summary.get('root_provider_uuid') or ''
        device = capacity.Device(
            uuid, '', root_names.get(root, ''), '', root,
            disabled=placement.DISABLED_TRAIT in summaries.get(
                root, {}).get('traits', ()))
        found.extend(capacity.DeviceCapacity(device, rc, a['capacity'],
                                             a['used'])
                     for rc, a in sorted(summary.get('resources',
                                                     {}).items()))
    return found


def _own_vgpu(conn, provider, host, host_traits):
    """A vGPU GPU on a host missing from the summaries, from its own
    inventories, usages and traits (three reads)."""
    path = '/resource_providers/%s' % provider['uuid']
    try:
        with errors.reporting("reading the vGPUs of '%s'" % provider['name']):
            inventories = placement._get(conn, path + '/inventories',
                                         placement.PROVIDER_MICROVERSION)
            usages = placement._get(conn, path + '/usages',
                                    placement.PROVIDER_MICROVERSION)
            traits = placement._get(conn, path + '/traits',
                                    placement.PROVIDER_MICROVERSION)
    except errors.NotFound:
        return []       # removed since the list was read
    resources = {rc: {'capacity': capacity.usable_units(inventory),
                      'used': usages['usages'].get(rc, 0)}
                 for rc, inventory in inventories['inventories'].items()}
    return vgpu_capacity.gpus_of_provider(provider, host, resources,
                                          traits['traits'], host_traits)


def _missing_hosts(conn, missing_roots, vgpu_missing, root_names,
                   max_workers):
    """PCI and vGPU capacity of the GPUs on hosts with no free VCPU."""
    devices, disabled = placement._in_parallel(
        [lambda: placement.device_providers(conn),
         lambda: placement.disabled_roots(conn)])
    devices = capacity.mark_disabled(
        [capacity.device_from_provider(p) for p in devices
         if p.get('root_provider_uuid') in missing_roots], disabled)
    calls = [lambda d=d: placement._own_capacity(conn, d) for d in devices]
    calls += [lambda p=p: _own_vgpu(
        conn, p, root_names.get(p.get('root_provider_uuid')),
        (placement.DISABLED_TRAIT,)
        if p.get('root_provider_uuid') in disabled else ())
        for p in vgpu_missing]
    pci, vgpus = [], []
    for found in placement._in_parallel(calls, max_workers) if calls else ():
        for item in found:
            (vgpus if isinstance(item, vgpu_capacity.VgpuGpu)
             else pci).append(item)
    return pci, vgpus


def read(conn, host=None, max_workers=placement.MAX_WORKERS):
    """The :class:`GpuInventory` of the cloud, or of one ``host``.

    Raises :class:`placement.PciNotInPlacement` when placement knows no
    GPU at all, ValueError naming the hosts with GPUs when ``host`` has
    none.
    """
    summaries, named = placement._in_parallel(
        [lambda: placement.tree_summaries(conn),
         lambda: named_providers(conn)])
    root_names = {p['uuid']: p['name'] for p in named
                  if not p.get('parent_provider_uuid')}
    vgpus, vgpu_missing = vgpu_capacity.from_summaries(named, summaries)
    inventory = GpuInventory(_pci_from_summaries(summaries, root_names),
                             vgpus)
    hosts = inventory.hosts
    if host is not None:
        inventory = GpuInventory(
            [c for c in inventory.pci if c.host == host],
            [g for g in inventory.vgpus if g.host == host])
        root_names = {u: n for u, n in root_names.items() if n == host}
        vgpu_missing = [p for p in vgpu_missing
                        if p.get('root_provider_uuid') in root_names]
    missing_roots = set(root_names) - set(summaries)
    if missing_roots:
        pci, vgpus = _missing_hosts(conn, missing_roots, vgpu_missing,
                                    root_names, max_workers)
        inventory = GpuInventory(inventory.pci + pci, inventory.vgpus + vgpus)
    if inventory.pci or inventory.vgpus:
        return inventory
    if host is not None:
        raise ValueError("host '%s' has no GPU in placement; hosts with "
                         "GPUs: %s" % (host, _some(hosts)))
    raise placement.PciNotInPlacement(NO_GPU)


def _some(names, limit=5):
    if not names:
        return 'none'
    more = len(names) - limit
    return ', '.join(names[:limit]) + (' and %d more' % more
                                       if more > 0 else '')
