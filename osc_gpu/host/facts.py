"""What a compute host looks like to nova's PCI passthrough, as plain data.

``osc_gpu.host.sysfs`` fills these from a (possibly fake) root directory;
everything else in ``osc_gpu.host`` only reads them, so it has no I/O.
"""

import dataclasses

from osc_gpu.rules import gpu_models

# PCI base classes (class >> 16).
DISPLAY_BASE = 0x03       # VGA 0300, 3D 0302, other 0380
ACCELERATOR_BASE = 0x12   # processing accelerators
BRIDGE_BASE = 0x06

# vfio-pci, and what else the kernel accepts in a group handed to VFIO
# (its "driver_allowed" list).
VFIO_DRIVERS = ('vfio-pci',)
VFIO_ALLOWED_DRIVERS = ('pci-stub',)

# NVIDIA's vGPU manager (vGPU host driver); it offers the mdev types, or
# drives the VFs of the kernel variant driver.
VGPU_MANAGER_MODULE = 'nvidia_vgpu_vfio'


@dataclasses.dataclass(frozen=True)
class PciDevice:
    address: str                 # DDDD:BB:SS.F, lowercase
    vendor_id: str               # 4 hex digits, lowercase, no 0x
    product_id: str
    class_code: int              # 24-bit 0xBBSSPP
    subsystem_vendor_id: str = ''
    subsystem_product_id: str = ''
    numa_node: int | None = None
    driver: str | None = None
    iommu_group: str | None = None
    sriov_totalvfs: int | None = None
    boot_vga: bool = False
    sriov_numvfs: int | None = None
    physfn: str | None = None     # a VF's PF (its physfn link)
    virtfns: tuple = ()           # a PF's enabled VFs (virtfnN links)
    # A VF on NVIDIA's vGPU kernel variant driver: its sysfs directory has
    # an "nvidia" directory (Ubuntu 24.04 Noble, RHEL 10 and later).
    vgpu_variant: bool = False

    @property
    def ids(self):
        return f'{self.vendor_id}:{self.product_id}'

    @property
    def subsystem(self):
        # As lspci: no subsystem when its vendor is 0000 or ffff.
        if self.subsystem_vendor_id in ('', '0000', 'ffff'):
            return None
        return f'{self.subsystem_vendor_id}:{self.subsystem_product_id}'

    @property
    def pci_class(self):
        """Class and subclass as 4 hex digits, as lspci -nn prints them."""
        return f'{self.class_code >> 8:04x}'

    @property
    def slot(self):
        """DDDD:BB:SS, shared by all functions of one card."""
        return self.address.rsplit('.', 1)[0]

    @property
    def is_gpu(self):
        base = self.class_code >> 16
        return base in (DISPLAY_BASE, ACCELERATOR_BASE)

    @property
    def is_bridge(self):
        return self.class_code >> 16 == BRIDGE_BASE

    @property
    def is_vf(self):
        return self.physfn is not None

    @property
    def is_vfio_bound(self):
        """Bound to vfio-pci, or a VF on NVIDIA's vfio variant driver."""
        return self.driver in VFIO_DRIVERS or self.vgpu_variant

    @property
    def is_vfio_ready(self):
        """Unbound or bound to a driver that VFIO accepts in a group."""
        return (self.driver is None or self.is_vfio_bound
                or self.driver in VFIO_ALLOWED_DRIVERS)

    @property
    def nova_device_type(self):
        """The dev_type nova-compute's libvirt driver will record."""
        if self.is_vf:
            return 'type-VF'
        return 'type-PF' if self.sriov_totalvfs is not None else 'type-PCI'


@dataclasses.dataclass(frozen=True)
class MdevType:
    """One mdev type a device offers (``mdev_supported_types/<id>``)."""

    parent: str             # the device offering it, e.g. 0000:84:00.0
    type_id: str            # what nova's enabled_mdev_types names: nvidia-11
    name: str = ''          # e.g. 'GRID M60-0B' (optional in the ABI)
    available: int = 0      # available_instances: how many more fit now
    device_api: str = ''    # e.g. vfio-pci
    description: str = ''   # NVIDIA's: '..., max_instance=16'
    created: int = 0        # mdevs of this type that exist on the parent

    @property
    def max_instance(self):
        """Instances of this type one physical GPU holds, from NVIDIA's
        description (``max_instance=16``); None when it does not say."""
        for item in self.description.replace('\n', ',').split(','):
            key, _, value = item.partition('=')
            if key.strip() == 'max_instance' and value.strip().isdigit() \
                    and value.strip().isascii():
                return int(value)
        return None


@dataclasses.dataclass(frozen=True)
class VfioModule:
    loaded: bool          # vfio-pci registered as a PCI driver or module
    available: bool       # loaded, built in, or listed in modules.dep
    source: str           # where it was found, for the report


@dataclasses.dataclass(frozen=True)
class ReadError:
    """A sysfs/procfs entry holding what Linux never writes there."""

    path: str             # relative to the root, e.g. sys/bus/pci/devices
    message: str          # one line, the path first, the value escaped


@dataclasses.dataclass(frozen=True)
class HostFacts:
    devices: dict                          # address -> PciDevice
    iommu_groups: dict                     # group -> tuple of addresses
    iommu_units: tuple = ()                # e.g. ('dmar0', 'dmar1')
    cmdline: str = ''
    cpu_vendor: str | None = None          # 'intel', 'amd' or None
    kernel_release: str | None = None
    vfio: VfioModule = VfioModule(False, False, 'not found')
    errors: tuple = ()                     # ReadError, devices left out
    mdev_types: dict = dataclasses.field(default_factory=dict)
    #                                        parent -> tuple of MdevType
    modules: frozenset = frozenset()       # loaded, from /proc/modules
    mdevctl: str | None = None             # where mdevctl is, or None
    hostname: str | None = None

    @property
    def vgpu_manager(self):
        """NVIDIA's vGPU manager kernel module is loaded."""
        return VGPU_MANAGER_MODULE in self.modules

    @property
    def cmdline_args(self):
        return self.cmdline.split()

    def group_peers(self, device):
        """Other devices in the device's IOMMU group."""
        if device.iommu_group is None:
            return []
        return [self.devices[a]
                for a in self.iommu_groups.get(device.iommu_group, ())
                if a != device.address and a in self.devices]

    def gpus(self, vendor_id=None):
        return [d for d in sorted(self.devices.values(),
                                  key=lambda d: d.address)
                if d.is_gpu and (vendor_id is None
                                 or d.vendor_id == vendor_id)]


class OnDevice:
    """What a record about one PCI device (its ``device``) is named by:
    the GPU report's entries and the vGPU view share these."""

    @property
    def address(self):
        return self.device.address

    @property
    def name(self):
        return gpu_models.model_name(self.device.vendor_id,
                                     self.device.product_id)

    @property
    def label(self):
        """'0000:81:00.0 (Tesla P4)', the way findings name a GPU."""
        return f'{self.address} ({self.name})'
