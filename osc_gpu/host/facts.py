"""What a compute host looks like to nova's PCI passthrough, as plain data.

``osc_gpu.host.sysfs`` fills these from a (possibly fake) root directory;
everything else in ``osc_gpu.host`` only reads them, so it has no I/O.
"""

import dataclasses

# PCI base classes (class >> 16).
DISPLAY_BASE = 0x03       # VGA 0300, 3D 0302, other 0380
ACCELERATOR_BASE = 0x12   # processing accelerators
BRIDGE_BASE = 0x06

# vfio-pci, and what else the kernel accepts in a group handed to VFIO
# (its "driver_allowed" list).
VFIO_DRIVERS = ('vfio-pci',)
VFIO_ALLOWED_DRIVERS = ('pci-stub',)


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
    def is_vfio_ready(self):
        """Unbound or bound to a driver that VFIO accepts in a group."""
        return (self.driver is None or self.driver in VFIO_DRIVERS
                or self.driver in VFIO_ALLOWED_DRIVERS)

    @property
    def nova_device_type(self):
        """The dev_type nova-compute's libvirt driver will record."""
        return 'type-PF' if self.sriov_totalvfs is not None else 'type-PCI'


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
