"""The GPUs of a host as an operator sees them: model, role, IOMMU group.

Pure: works on ``HostFacts``.
"""

import dataclasses

from osc_gpu.host import facts
from osc_gpu.host import vgpu
from osc_gpu.rules import gpu_models

PASSTHROUGH = 'passthrough'
HOST_CONSOLE = 'host console'
# Shared, not passed through whole: as vGPUs (osc_gpu.host.vgpu), or an
# SR-IOV PF whose enabled VFs are the devices to pass through.
VGPU = 'vgpu'
SRIOV_PF = 'sr-iov pf'

# A few class names (class >> 8) so reports read like lspci.
CLASS_NAMES = {
    0x0106: 'SATA controller',
    0x0108: 'NVMe controller',
    0x0200: 'Ethernet controller',
    0x0300: 'VGA compatible controller',
    0x0302: '3D controller',
    0x0380: 'Display controller',
    0x0403: 'Audio device',
    0x0600: 'Host bridge',
    0x0601: 'ISA bridge',
    0x0604: 'PCI bridge',
    0x0c03: 'USB controller',
    0x0c80: 'Serial bus controller',
    0x1200: 'Processing accelerators',
}


def class_name(device):
    return CLASS_NAMES.get(device.class_code >> 8,
                           f'Class {device.pci_class}')


def describe(device):
    """One-line identity, e.g. '0000:81:00.1 Audio device [10de:1aef]'."""
    return f'{device.address} {class_name(device)} [{device.ids}]'


@dataclasses.dataclass(frozen=True)
class GpuEntry(facts.OnDevice):
    device: object                 # facts.PciDevice
    model: object                  # gpu_models.GpuModel or None
    role: str                      # PASSTHROUGH, HOST_CONSOLE, VGPU...
    peers: tuple = ()              # other devices in its IOMMU group
    functions: tuple = ()          # other functions of the same card
    vgpu: object = None            # vgpu.VgpuGpu when role is VGPU

    @property
    def alias(self):
        """The suggested alias; a VF's ends in -VF (its PF shares its
        ids, and would be a device of another kind)."""
        alias = gpu_models.suggested_alias(self.device.vendor_id,
                                           self.device.product_id)
        return f'{alias}-VF' if self.device.is_vf else alias

    @property
    def grouped_functions(self):
        """Its other functions that must follow it to vfio-pci.

        Those in its IOMMU group; with the IOMMU off, all of them, since
        the functions of one card share a group once it is on.
        """
        if self.device.iommu_group is None:
            return self.functions
        return tuple(f for f in self.functions if f in self.peers)


def is_console(device):
    """The host's own display: the firmware's boot VGA device, or a BMC's
    display chip even when an add-in card is the boot VGA (or the kernel
    gives it no boot_vga file). Never a passthrough candidate."""
    return device.boot_vga or gpu_models.is_bmc_display(device.vendor_id,
                                                        device.product_id)


def console_reason(device):
    """Why a console is one, for the report: 'BMC display' or 'boot VGA'."""
    if gpu_models.is_bmc_display(device.vendor_id, device.product_id):
        return 'BMC display'
    return 'boot VGA'


def _role(device, shared):
    if is_console(device):
        return HOST_CONSOLE
    if shared is not None:
        return VGPU
    return SRIOV_PF if device.virtfns else PASSTHROUGH


def list_gpus(host, vendor_id=None):
    """Every GPU of the host (optionally one vendor's), by PCI address.

    VFs that offer mdev types are left out: their PF stands for them.
    """
    shared = {v.address: v for v in vgpu.list_vgpus(host)}
    entries = []
    for device in host.gpus(vendor_id):
        if vgpu.is_mdev_vf(host, device):
            continue
        functions = tuple(
            d for d in sorted(host.devices.values(), key=lambda d: d.address)
            if d.slot == device.slot and d.address != device.address
            and not d.is_gpu)
        entries.append(GpuEntry(
            device=device,
            model=gpu_models.find_model(device.vendor_id, device.product_id),
            role=_role(device, shared.get(device.address)),
            peers=tuple(host.group_peers(device)),
            functions=functions,
            vgpu=shared.get(device.address),
        ))
    return entries


def passthrough_gpus(entries):
    return [e for e in entries if e.role == PASSTHROUGH]


def vgpu_gpus(entries):
    return [e for e in entries if e.role == VGPU]
