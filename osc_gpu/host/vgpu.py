"""The GPUs of a host that are shared as vGPUs, and how.

Pure: works on ``HostFacts``. nova knows three ways (nova 34 docs,
virtual-gpu.rst and pci-passthrough.rst):

``mdev``
    the GPU offers mdev types itself (NVIDIA GRID on boards without
    SR-IOV: M10, M60, P4, T4, V100...): ``[devices] enabled_mdev_types``
    and one placement provider per GPU;
``sr-iov mdev``
    its SR-IOV VFs, enabled by NVIDIA's sriov-manage, offer the mdev types
    (Ampere and later with vGPU releases before the variant driver): one
    provider, and one vGPU, per VF, so ``max_instances`` (nova 2024.1
    Caracal and later) limits a type to what the GPUs hold;
``variant driver``
    its VFs are on NVIDIA's kernel variant driver (a VF's sysfs directory
    has an ``nvidia`` directory; Ubuntu 24.04 Noble, RHEL 10): no mdevs at
    all, nova passes the VFs through as PCI devices (``type-VF``,
    ``"managed": "no"``, nova 2025.1 Epoxy and later).

``vfs off`` is an NVIDIA GPU with SR-IOV, on its nvidia driver, on a host
whose vGPU manager is loaded, with no VF enabled yet: meant for vGPUs,
offering none.
"""

import dataclasses

from osc_gpu.host import facts
from osc_gpu.rules import gpu_models

MDEV = 'mdev'
SRIOV_MDEV = 'sr-iov mdev'
VARIANT = 'variant driver'
VFS_OFF = 'vfs off'


@dataclasses.dataclass(frozen=True)
class VgpuGpu(facts.OnDevice):
    device: object          # facts.PciDevice: the physical GPU (or PF)
    mode: str               # MDEV, SRIOV_MDEV, VARIANT or VFS_OFF
    parents: tuple = ()     # the devices nova makes a provider of
    types: tuple = ()       # MdevType offered (one per type id)
    vfs: tuple = ()         # its enabled VFs (PciDevice)
    all_types: tuple = ()   # MdevType of every parent (for created mdevs)

    @property
    def type_ids(self):
        return [t.type_id for t in self.types]

    def offers(self, type_id):
        return type_id in self.type_ids

    def type(self, type_id):
        return next((t for t in self.types if t.type_id == type_id), None)

    @property
    def created(self):
        """{type id: mdevs that exist}, over its parents."""
        counts = {}
        for mdev_type in self.all_types:
            if mdev_type.created:
                counts[mdev_type.type_id] = counts.get(
                    mdev_type.type_id, 0) + mdev_type.created
        return counts


def _types_of(host, address):
    return tuple(host.mdev_types.get(address, ()))


def _vgpu_gpu(host, device):
    vfs = tuple(host.devices[a] for a in device.virtfns
                if a in host.devices)
    own = _types_of(host, device.address)
    if own:
        return VgpuGpu(device, MDEV, (device.address,), own, vfs,
                       all_types=own)
    parents = tuple(vf.address for vf in vfs if _types_of(host, vf.address))
    if parents:
        every = tuple(t for p in parents for t in _types_of(host, p))
        first = {}
        for mdev_type in every:
            first.setdefault(mdev_type.type_id, mdev_type)
        return VgpuGpu(device, SRIOV_MDEV, parents, tuple(first.values()),
                       vfs, all_types=every)
    if any(vf.vgpu_variant for vf in vfs):
        return VgpuGpu(device, VARIANT, (), (), vfs)
    if (device.vendor_id == gpu_models.NVIDIA and host.vgpu_manager
            and not vfs and (device.sriov_totalvfs or 0) > 0
            and device.driver == 'nvidia'):
        return VgpuGpu(device, VFS_OFF)
    return None


def list_vgpus(host):
    """The host's vGPU GPUs (PFs and whole GPUs), by PCI address."""
    found = []
    for device in host.gpus():
        if device.is_vf:
            continue
        shared = _vgpu_gpu(host, device)
        if shared is not None:
            found.append(shared)
    return found


def is_mdev_vf(host, device):
    """A VF that is an mdev parent: part of its PF's vGPUs, not a GPU to
    list on its own."""
    return device.is_vf and bool(_types_of(host, device.address))


def _span(type_ids):
    if len(type_ids) > 2:
        return f'{len(type_ids)} mdev types ({type_ids[0]} to ' \
               f'{type_ids[-1]})'
    return f'mdev type{"s" if len(type_ids) > 1 else ""} ' \
           f'{" and ".join(type_ids)}'


def describe(shared):
    """One line for the report: how the GPU is shared."""
    device, vfs = shared.device, len(shared.vfs)
    total = device.sriov_totalvfs
    created = ', '.join(f'{n} {t} mdev{"s" if n > 1 else ""}'
                        for t, n in shared.created.items())
    created = f'; {created} created' if created else ''
    if shared.mode == MDEV:
        return f'vGPU: offers {_span(shared.type_ids)}{created}'
    if shared.mode == SRIOV_MDEV:
        return (f'vGPU: {vfs} of {total} SR-IOV VFs enabled, '
                f'{len(shared.parents)} offering {_span(shared.type_ids)} '
                f'(one vGPU per VF){created}')
    if shared.mode == VARIANT:
        variant = sum(1 for vf in shared.vfs if vf.vgpu_variant)
        return (f"vGPU: {variant} of {total} SR-IOV VFs on NVIDIA's variant "
                'driver, passed through as PCI devices (type-VF)')
    return (f'vGPU capable: none of its {total} SR-IOV VFs is enabled, so '
            'it offers no vGPU')
