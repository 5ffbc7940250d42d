"""Read a host's PCI devices, IOMMU and vfio state from sysfs and procfs.

With ``osc_gpu.host.mdev`` (mdev types, kernel modules, mdevctl), the only
modules of ``osc_gpu.host`` that touch the file system, and only to read.
Every path is taken relative to ``root`` ("/" on a real host, a fixture
tree in tests), so a copied or faked /sys and /proc can be checked on any
machine. Reads what pciutils reads (lib/sysfs.c); never runs lspci.
"""

import os
import re

from osc_gpu.host import facts
from osc_gpu.host import mdev
from osc_gpu.rules.echo import quoted, quoted_bytes, quoted_path

PCI_DEVICES = 'sys/bus/pci/devices'
IOMMU_GROUPS = 'sys/kernel/iommu_groups'
IOMMU_UNITS = 'sys/class/iommu'
VFIO_PCI_DRIVER = 'sys/bus/pci/drivers/vfio-pci'
VFIO_PCI_MODULE = 'sys/module/vfio_pci'
CMDLINE = 'proc/cmdline'
CPUINFO = 'proc/cpuinfo'
OSRELEASE = 'proc/sys/kernel/osrelease'

_CPU_VENDORS = {'GenuineIntel': 'intel', 'AuthenticAMD': 'amd'}

# What Linux writes, and nothing else is taken: a value that does not fit
# is reported (escaped) rather than guessed at, passed on or written into
# a configuration.
PCI_ADDRESS = re.compile(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]')
_FORMATS = {
    # name: (pattern, what it should look like)
    'id': (re.compile(r'0x[0-9a-f]{4}', re.I), 'a PCI id like 0x10de'),
    'class': (re.compile(r'0x[0-9a-f]{6}', re.I),
              'a PCI class like 0x030200'),
    'int': (re.compile(r'-?[0-9]{1,9}'), 'a number'),
    'flag': (re.compile(r'[01]'), '0 or 1'),
    'name': (re.compile(r'[A-Za-z0-9_.+-]{1,64}'),
             'a name like vfio-pci or dmar0'),
    'group': (re.compile(r'[0-9]{1,9}'), 'an IOMMU group number'),
    'count': (re.compile(r'[0-9]{1,9}'), 'a number of 0 or more'),
    'address': (PCI_ADDRESS, 'a PCI address like 0000:81:00.0'),
    # mdev parents (PCI devices, or virtual ones like the mtty sample) and
    # mdev type ids ("<driver>-<type>": nvidia-11, i915-GVTg_V5_4)
    'mdev': (re.compile(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]'
                        r'|[A-Za-z0-9_.+-]{1,64}'),
             'a device or mdev type name like 0000:84:00.0 or nvidia-11'),
    'uuid': (re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                        r'[0-9a-f]{12}'), 'an mdev UUID'),
    'hostname': (re.compile(r'[A-Za-z0-9]([A-Za-z0-9.-]{0,252})?'),
                 'a host name like compute-1.example.com'),
    'release': (re.compile(r'[A-Za-z0-9._+~-]{1,64}'),
                'a kernel release like 5.15.0-91-generic'),
}
_REQUIRED = ('vendor', 'device', 'class')
VALUE_MAX = 4096            # a sysfs attribute is at most a page
TEXT_MAX = 64 << 20         # modules.dep, cpuinfo: whole, within reason


class RootError(ValueError):
    """The root directory cannot be read as a Linux host."""


def check_root(root):
    """Refuse a root that does not exist or has no PCI devices directory."""
    if not os.path.isdir(root):
        raise RootError(f'--root {quoted_path(root)} is not a directory: give '
                        'the directory that holds sys/ and proc/ (default /)')
    if not os.path.isdir(os.path.join(root, PCI_DEVICES)):
        raise RootError(f'--root {quoted_path(root)} has no {PCI_DEVICES}: '
                        'give the root of a Linux host (default /), or run '
                        'this on the compute node itself')


def shown_name(name):
    """A file name from os.listdir/readlink, escaped like its bytes."""
    return quoted_bytes(os.fsencode(name))


class HostReader:
    """Read ``HostFacts`` below ``root``; what does not fit is an error."""

    def __init__(self, root='/'):
        self.root = root
        self.errors = []

    def path(self, relative):
        return os.path.join(self.root, relative)

    def error(self, relative, message):
        self.errors.append(facts.ReadError(relative, f'{relative} {message}'))

    def read_head(self, relative, limit):
        """Up to ``limit`` bytes of the file. Non-blocking, so a FIFO or a
        terminal planted where a file belongs reads as empty or fails,
        instead of waiting forever."""
        fd = os.open(self.path(relative), os.O_RDONLY | os.O_NONBLOCK)
        try:
            chunks, size = [], 0
            while size < limit:
                chunk = os.read(fd, min(limit - size, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return b''.join(chunks)
        finally:
            os.close(fd)

    def read_bytes(self, relative, limit=VALUE_MAX):
        try:
            return self.read_head(relative, limit)
        except OSError:
            return None

    def read_text(self, relative, default=None):
        """The file's text, or ``default`` when it cannot be read. Bytes
        that are not UTF-8 read as U+FFFD: only for files whose words are
        looked up, never echoed (cpuinfo, module lists)."""
        data = self.read_bytes(relative, TEXT_MAX)
        if data is None:
            return default
        return data.decode('utf-8', 'replace').strip()

    def read_value(self, relative, kind, required=False):
        """A one-word sysfs value of ``kind`` (see _FORMATS), or None."""
        try:
            data = self.read_head(relative, VALUE_MAX)
        except FileNotFoundError:
            if required:
                self.error(relative, 'is missing')
            return None
        except OSError as exc:
            self.error(relative, f'cannot be read ({exc.strerror})')
            return None
        return self.check_value(relative, data.strip(), kind)

    def check_value(self, relative, data, kind, verb='holds'):
        """``data`` as text when it is a ``kind``; else None and an error
        naming it, escaped."""
        pattern, wanted = _FORMATS[kind]
        text = data.decode('ascii', 'replace')
        if pattern.fullmatch(text):
            return text.lower() if kind in ('id', 'class') else text
        if not data:
            self.error(relative, f'is empty, not {wanted}')
        else:
            self.error(relative, f'{verb} {quoted_bytes(data)}, not {wanted}')
        return None

    def read_lines(self, relative, limit):
        """Free text (an mdev type's name or description): UTF-8 lines of
        printable characters, at most ``limit`` bytes; '' if missing."""
        data = self.read_bytes(relative, limit + 1)
        if data is None:
            return ''
        data = data.strip()
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            text = None
        if text is None or len(data) > limit or not all(
                line.isprintable() for line in text.split('\n')):
            self.error(relative, f'holds {quoted_bytes(data)}, not lines of '
                       f'printable UTF-8 text (at most {limit} bytes)')
            return ''
        return text

    def list_dir(self, relative):
        try:
            return sorted(n for n in os.listdir(self.path(relative))
                          if not n.startswith('.'))
        except OSError:
            return []

    def link_name(self, relative, kind):
        """Basename of a symlink's target, as pciutils reads driver links."""
        try:
            name = os.path.basename(os.readlink(self.path(relative)))
        except OSError:
            return None
        return self.check_value(relative, os.fsencode(name), kind,
                                'links to')

    def read(self):
        release = self.read_value(OSRELEASE, 'release')
        devices = {d.address: d for d in self.read_devices()}
        return facts.HostFacts(
            devices=devices,
            iommu_groups=self.read_iommu_groups(),
            iommu_units=tuple(self.read_iommu_units()),
            cmdline=self.read_cmdline(),
            cpu_vendor=self.read_cpu_vendor(),
            kernel_release=release,
            vfio=self.read_vfio(release),
            mdev_types=mdev.read_mdev_types(self),
            modules=mdev.read_modules(self),
            mdevctl=mdev.find_mdevctl(self),
            hostname=mdev.read_hostname(self),
            errors=tuple(self.errors),
        )

    def read_devices(self):
        devices = []
        for name in self.list_dir(PCI_DEVICES):
            if not PCI_ADDRESS.fullmatch(name):
                self.error(PCI_DEVICES, f'has an entry {shown_name(name)}, '
                           'not a PCI address like 0000:81:00.0')
                continue
            device = self.read_device(name)
            if device is not None:
                devices.append(device)
        return devices

    def read_device(self, address):
        """The device, or None (and errors) when sysfs holds what Linux
        never writes there."""
        base = f'{PCI_DEVICES}/{address}'
        before = len(self.errors)
        values = {name: self.read_value(f'{base}/{name}', kind,
                                        name in _REQUIRED)
                  for name, kind in (
                      ('vendor', 'id'), ('device', 'id'), ('class', 'class'),
                      ('subsystem_vendor', 'id'), ('subsystem_device', 'id'),
                      ('numa_node', 'int'), ('sriov_totalvfs', 'count'),
                      ('sriov_numvfs', 'count'), ('boot_vga', 'flag'))}
        driver = self.link_name(f'{base}/driver', 'name')
        group = self.link_name(f'{base}/iommu_group', 'group')
        physfn = self.link_name(f'{base}/physfn', 'address')
        virtfns = self.read_virtfns(base)
        if len(self.errors) > before:
            return None

        def hex_id(name):
            value = values[name]
            return value[2:] if value else ''

        def number(name):
            value = values[name]
            return int(value, 0) if value is not None else None

        numa_node = number('numa_node')
        return facts.PciDevice(
            address=address,
            vendor_id=hex_id('vendor'),
            product_id=hex_id('device'),
            class_code=number('class'),
            subsystem_vendor_id=hex_id('subsystem_vendor'),
            subsystem_product_id=hex_id('subsystem_device'),
            numa_node=None if numa_node is None or numa_node < 0
            else numa_node,
            driver=driver,
            iommu_group=group,
            sriov_totalvfs=number('sriov_totalvfs'),
            boot_vga=values['boot_vga'] == '1',
            sriov_numvfs=number('sriov_numvfs'),
            physfn=physfn,
            virtfns=virtfns,
            vgpu_variant=physfn is not None and os.path.isdir(
                self.path(f'{base}/nvidia')),
        )

    def read_virtfns(self, base):
        """A PF's VFs, by their virtfnN links, in N's order."""
        found = []
        for name in self.list_dir(base):
            number = name[len('virtfn'):]
            if name.startswith('virtfn') and number.isdigit() and \
                    number.isascii():
                vf = self.link_name(f'{base}/{name}', 'address')
                if vf is not None:
                    found.append((int(number), vf))
        return tuple(vf for _, vf in sorted(found))

    def read_iommu_groups(self):
        return {g: tuple(self.list_dir(f'{IOMMU_GROUPS}/{g}/devices'))
                for g in self.list_dir(IOMMU_GROUPS)
                if _FORMATS['group'][0].fullmatch(g)}

    def read_iommu_units(self):
        return [u for u in self.list_dir(IOMMU_UNITS) if self.check_value(
            IOMMU_UNITS, os.fsencode(u), 'name', 'has an entry')]

    def read_cmdline(self):
        data = self.read_bytes(CMDLINE) or b''
        try:
            text = data.decode('utf-8').strip()
        except UnicodeDecodeError:
            self.error(CMDLINE, f'holds {quoted_bytes(data.strip())}, which '
                       'is not UTF-8')
            return ''
        odd = [a for a in text.split() if not a.isprintable()]
        if odd:
            self.error(CMDLINE, f'holds {quoted(odd[0])}, with characters '
                       'no kernel argument has')
            return ''
        return text

    def read_cpu_vendor(self):
        for line in (self.read_text(CPUINFO, '') or '').splitlines():
            key, _, value = line.partition(':')
            if key.strip() == 'vendor_id':
                return _CPU_VENDORS.get(value.strip())
        return None

    def read_vfio(self, release):
        if os.path.isdir(self.path(VFIO_PCI_DRIVER)):
            return facts.VfioModule(True, True, VFIO_PCI_DRIVER)
        if os.path.isdir(self.path(VFIO_PCI_MODULE)):
            return facts.VfioModule(True, True, VFIO_PCI_MODULE)
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
