"""Read a host's PCI devices, IOMMU and vfio state from sysfs and procfs.

The only module of ``osc_gpu.host`` that touches the file system, and only
to read. Every path is taken relative to ``root`` ("/" on a real host, a
fixture tree in tests), so a copied or faked /sys and /proc can be checked
on any machine. Reads what pciutils reads (lib/sysfs.c); never runs lspci.
"""

import os

from osc_gpu.host import facts

PCI_DEVICES = 'sys/bus/pci/devices'
IOMMU_GROUPS = 'sys/kernel/iommu_groups'
IOMMU_UNITS = 'sys/class/iommu'
VFIO_PCI_DRIVER = 'sys/bus/pci/drivers/vfio-pci'
VFIO_PCI_MODULE = 'sys/module/vfio_pci'
CMDLINE = 'proc/cmdline'
CPUINFO = 'proc/cpuinfo'
OSRELEASE = 'proc/sys/kernel/osrelease'

_CPU_VENDORS = {'GenuineIntel': 'intel', 'AuthenticAMD': 'amd'}


class RootError(ValueError):
    """The root directory cannot be read as a Linux host."""


def check_root(root):
    """Refuse a root that does not exist or has no PCI devices directory."""
    if not os.path.isdir(root):
        raise RootError(f"--root '{root}' is not a directory: give the "
                        'directory that holds sys/ and proc/ (default /)')
    if not os.path.isdir(os.path.join(root, PCI_DEVICES)):
        raise RootError(f"--root '{root}' has no {PCI_DEVICES}: give the "
                        'root of a Linux host (default /), or run this on '
                        'the compute node itself')


class HostReader:
    """Read ``HostFacts`` below ``root``."""

    def __init__(self, root='/'):
        self.root = root

    def path(self, relative):
        return os.path.join(self.root, relative)

    def read_text(self, relative, default=None):
        try:
            with open(self.path(relative), encoding='utf-8') as f:
                return f.read().strip()
        except OSError:
            return default

    def list_dir(self, relative):
        try:
            return sorted(n for n in os.listdir(self.path(relative))
                          if not n.startswith('.'))
        except OSError:
            return []

    def link_name(self, relative):
        """Basename of a symlink's target, as pciutils reads driver links."""
        try:
            return os.path.basename(os.readlink(self.path(relative)))
        except OSError:
            return None

    def read(self):
        return facts.HostFacts(
            devices={d.address: d for d in self.read_devices()},
            iommu_groups=self.read_iommu_groups(),
            iommu_units=tuple(self.list_dir(IOMMU_UNITS)),
            cmdline=self.read_text(CMDLINE, ''),
            cpu_vendor=self.read_cpu_vendor(),
            kernel_release=self.read_text(OSRELEASE),
            vfio=self.read_vfio(),
        )

    def read_devices(self):
        return [self.read_device(a) for a in self.list_dir(PCI_DEVICES)]

    def read_device(self, address):
        base = f'{PCI_DEVICES}/{address}'

        def hex_id(name):
            value = self.read_text(f'{base}/{name}', '')
            return value.lower().removeprefix('0x').zfill(4) if value else ''

        def number(name):
            value = self.read_text(f'{base}/{name}')
            try:
                return int(value, 0) if value is not None else None
            except ValueError:
                return None

        numa_node = number('numa_node')
        return facts.PciDevice(
            address=address.lower(),
            vendor_id=hex_id('vendor'),
            product_id=hex_id('device'),
            class_code=number('class') or 0,
            subsystem_vendor_id=hex_id('subsystem_vendor'),
            subsystem_product_id=hex_id('subsystem_device'),
            numa_node=None if numa_node is None or numa_node < 0
            else numa_node,
            driver=self.link_name(f'{base}/driver'),
            iommu_group=self.link_name(f'{base}/iommu_group'),
            sriov_totalvfs=number('sriov_totalvfs'),
            boot_vga=self.read_text(f'{base}/boot_vga') == '1',
        )

    def read_iommu_groups(self):
        return {g: tuple(self.list_dir(f'{IOMMU_GROUPS}/{g}/devices'))
                for g in self.list_dir(IOMMU_GROUPS) if g.isdigit()}

    def read_cpu_vendor(self):
        for line in (self.read_text(CPUINFO, '') or '').splitlines():
            key, _, value = line.partition(':')
            if key.strip() == 'vendor_id':
                return _CPU_VENDORS.get(value.strip())
        return None

    def read_vfio(self):
        if os.path.isdir(self.path(VFIO_PCI_DRIVER)):
            return facts.VfioModule(True, True, VFIO_PCI_DRIVER)
        if os.path.isdir(self.path(VFIO_PCI_MODULE)):
            return facts.VfioModule(True, True, VFIO_PCI_MODULE)
        release = self.read_text(OSRELEASE)
        if release:
            for name in ('modules.builtin', 'modules.dep'):
                listing = f'lib/modules/{release}/{name}'
                if _lists_vfio_pci(self.read_text(listing, '')):
                    built_in = name == 'modules.builtin'
                    return facts.VfioModule(built_in, True, listing)
        return facts.VfioModule(False, False, 'not found')


def _lists_vfio_pci(listing):
    for line in listing.splitlines():
        module = line.partition(':')[0].strip()
        if os.path.basename(module).split('.')[0] in ('vfio-pci', 'vfio_pci'):
            return True
    return False


def read_host(root='/'):
    return HostReader(root).read()
