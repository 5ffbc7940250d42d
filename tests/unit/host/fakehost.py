"""Fake compute hosts: a compact description -> a /sys + /proc tree.

The trees under tests/fixtures/hosts/ are built from ``HOSTS`` below and
committed, so operators can try the commands on them
(``openstack gpu host check --root tests/fixtures/hosts/p4-nvidia``).
After changing a description, rebuild them with:

    .venv/bin/python -m tests.unit.host.fakehost tests/fixtures/hosts

Tests do not read those trees: ``fixture_root(name)`` builds the host from
its description into a temporary directory, once per process. A tree is
mostly symlinks (driver, iommu_group and their back links), which an sdist
cannot carry, so tests run from an unpacked sdist too; in a git checkout
test_fakehost_fixtures checks that the committed trees are the same.

Tests also build variants into a temporary directory with
``build(dataclasses.replace(HOSTS[name], ...), tmp_path)``. The layout is
the one Linux has: devices/<address> with one file per attribute, driver
and iommu_group symlinks, drivers/<name>/<address> and
iommu_groups/<N>/devices/<address> back links.
"""

import atexit
import dataclasses
import functools
import os
import shutil
import sys
import tempfile


REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..',
                                     '..'))
# The committed trees, for operators and the demo (see the docstring).
FIXTURES = os.path.join(REPO, 'tests', 'fixtures', 'hosts')


@functools.cache
def _scratch():
    directory = tempfile.mkdtemp(prefix='osc-gpu-hosts-')
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


@functools.cache
def fixture_root(name):
    """Root of the fixture host ``name`` (a key of HOSTS), e.g. 'p4-nvidia'.

    The one way tests, unit and functional, find a fixture host. It is
    built on first use; commands only read it, so a process shares one.
    """
    return build(HOSTS[name], os.path.join(_scratch(), name))


@dataclasses.dataclass(frozen=True)
class MdevTypeSpec:
    """One mdev type a device offers (mdev_supported_types/<type_id>)."""

    type_id: str
    name: str
    available: int
    description: str = ''
    device_api: str = 'vfio-pci'
    created: tuple = ()             # UUIDs of the mdevs of this type


@dataclasses.dataclass(frozen=True)
class Dev:
    address: str
    ids: str                    # vendor:product
    pci_class: int              # 24-bit class, e.g. 0x030200
    subsystem: str = ''
    driver: str | None = None
    group: int | None = None
    numa: int = -1
    sriov_totalvfs: int | None = None
    boot_vga: bool | None = False   # None: no boot_vga file at all
    revision: str = '0xa1'
    mdev_types: tuple = ()          # MdevTypeSpec: an mdev parent
    physfn: str | None = None       # a VF: its PF's address
    variant: bool = False           # a VF on NVIDIA's vGPU variant driver


@dataclasses.dataclass(frozen=True)
class Host:
    devices: tuple
    cpu: str = 'intel'          # 'intel', 'amd' or '' (no vendor_id line)
    cmdline: str = 'ro intel_iommu=on iommu=pt'
    kernel: str = '5.15.0-91-generic'
    iommu_units: tuple = ('dmar0', 'dmar1')
    vfio: str | None = 'module'  # 'loaded', 'module', 'builtin' or None
    iommu: bool = True          # False: no groups at all
    modules: tuple = ()         # /proc/modules (no file when empty)
    mdevctl: bool = False       # usr/sbin/mdevctl installed
    hostname: str | None = None  # /proc/sys/kernel/hostname

    def replace_device(self, address, **changes):
        return dataclasses.replace(self, devices=tuple(
            dataclasses.replace(d, **changes) if d.address == address else d
            for d in self.devices))

    def add(self, *devices):
        return dataclasses.replace(self, devices=self.devices + devices)


def _p4(address, driver, group):
    return Dev(address, '10de:1bb3', 0x030200, '10de:11d8', driver, group, 1)


# An A100 80GB on vfio-pci that can do SR-IOV (no VFs enabled): nova's
# type-PF. Tests add it to a host: fakehost.HOSTS['no-gpu'].add(A100_PF).
A100_PF = Dev('0000:41:00.0', '10de:20b5', 0x030200, '10de:1533', 'vfio-pci',
              60, 0, sriov_totalvfs=16)


INTEL_PLATFORM = (
    Dev('0000:00:00.0', '8086:2020', 0x060000, '8086:0000', None, 0, 0,
        revision='0x07'),
    Dev('0000:01:00.0', '1a03:1150', 0x060400, '', None, 17, 0,
        revision='0x04'),
    Dev('0000:02:00.0', '1a03:2000', 0x030000, '15d9:1b95', 'ast', 17, 0,
        boot_vga=True, revision='0x41'),
    Dev('0000:18:00.0', '8086:1521', 0x020000, '15d9:1521', 'igb', 20, 0,
        revision='0x01'),
    Dev('0000:80:02.0', '8086:2030', 0x060400, '8086:0000', 'pcieport', 38,
        1, revision='0x07'),
    Dev('0000:80:03.0', '8086:2031', 0x060400, '8086:0000', 'pcieport', 39,
        1, revision='0x07'),
)

AMD_PLATFORM = (
    Dev('0000:00:00.0', '1022:1480', 0x060000, '1022:1480', None, 0, 0,
        revision='0x00'),
    Dev('0000:62:00.0', '1a03:1150', 0x060400, '', None, 30, 0,
        revision='0x06'),
    Dev('0000:63:00.0', '1a03:2000', 0x030000, '1a03:2000', 'ast', 30, 0,
        boot_vga=True, revision='0x52'),
    Dev('0000:c0:01.1', '1022:1483', 0x060400, '1022:1453', 'pcieport', 51,
        0, revision='0x00'),
)

# An HPE ProLiant-like host: its console is the iLO's Matrox G200eH3, which
# this kernel gives no boot_vga file.
ILO_PLATFORM = (
    INTEL_PLATFORM[0],
    Dev('0000:01:00.0', '103c:3306', 0x088000, '103c:1300', 'hpilo', 17, 0,
        revision='0x07'),
    Dev('0000:01:00.1', '102b:0538', 0x030000, '103c:1300', 'mgag200', 17,
        0, boot_vga=None, revision='0x02'),
) + INTEL_PLATFORM[3:]

P4_CMDLINE = ('BOOT_IMAGE=/boot/vmlinuz-5.15.0-91-generic '
              'root=UUID=6a1f0c2e-3b1d-4c5e-9f7a-2d8e1b4c6a90 ro '
              'intel_iommu=on iommu=pt console=tty0 console=ttyS0,115200n8')

HOSTS = {
    'p4-nvidia': Host(
        INTEL_PLATFORM + (_p4('0000:81:00.0', 'nvidia', 40),
                          _p4('0000:81:01.0', 'nvidia', 41)),
        cmdline=P4_CMDLINE),
    'p4-vfio': Host(
        INTEL_PLATFORM + (_p4('0000:81:00.0', 'vfio-pci', 40),
                          _p4('0000:81:01.0', 'nvidia', 41)),
        cmdline=P4_CMDLINE, vfio='loaded'),
    'iommu-off': Host(
        INTEL_PLATFORM + (_p4('0000:81:00.0', 'nouveau', None),),
        cmdline='BOOT_IMAGE=/boot/vmlinuz-5.15.0-91-generic ro quiet',
        iommu_units=(), iommu=False),
    'gpu-with-audio': Host(
        INTEL_PLATFORM + (
            Dev('0000:3b:00.0', '10de:2230', 0x030000, '10de:1459',
                'vfio-pci', 45, 0),
            Dev('0000:3b:00.1', '10de:1aef', 0x040300, '10de:1459',
                'snd_hda_intel', 45, 0)),
        cmdline='ro intel_iommu=on iommu=pt vfio-pci.ids=10de:2230',
        vfio='loaded'),
    'amd-host': Host(
        AMD_PLATFORM + (Dev('0000:c1:00.0', '1002:740f', 0x038000,
                            '1002:0c34', 'vfio-pci', 52, 0,
                            revision='0x02'),),
        cpu='amd', cmdline='ro iommu=pt', kernel='6.8.0-45-generic',
        iommu_units=('ivhd0', 'ivhd1'), vfio='loaded'),
    'no-gpu': Host(INTEL_PLATFORM),
    'bmc-vga': Host(
        ILO_PLATFORM + (Dev('0000:81:00.0', '10de:1eb8', 0x030200,
                            '10de:12a2', 'vfio-pci', 40, 1),),
        cmdline='ro intel_iommu=on iommu=pt vfio-pci.ids=10de:1eb8',
        vfio='loaded'),
    'm60-t4': Host(
        INTEL_PLATFORM + (
            Dev('0000:81:00.0', '10de:13f2', 0x030000, '10de:115e',
                'vfio-pci', 40, 1),
            Dev('0000:81:01.0', '10de:1eb8', 0x030200, '10de:12a2',
                'vfio-pci', 41, 1)),
        cmdline=('ro intel_iommu=on iommu=pt '
                 'vfio-pci.ids=10de:13f2,10de:1eb8'),
        vfio='loaded'),
}


# vGPU hosts ----------------------------------------------------------------
# Type ids, names and descriptions in the style of NVIDIA's vGPU manager
# (illustrative: the ids a real host offers depend on its driver release).

def _m60_type(number, profile, instances, heads, framebuffer, frl=60):
    return MdevTypeSpec(
        f'nvidia-{number}', f'GRID M60-{profile}', instances,
        f'num_heads={heads}, frl_config={frl}, framebuffer={framebuffer}M, '
        f'max_resolution=2560x1600, max_instance={instances}')


M60_TYPES = (
    _m60_type(11, '0B', 16, 2, 512, 45), _m60_type(12, '0Q', 16, 2, 512),
    _m60_type(13, '1A', 8, 1, 1024), _m60_type(14, '1B', 8, 4, 1024, 45),
    _m60_type(15, '1Q', 8, 4, 1024), _m60_type(16, '2A', 4, 1, 2048),
    _m60_type(17, '2B', 4, 2, 2048, 45), _m60_type(18, '2Q', 4, 4, 2048),
)
# One server runs on the first M60 with an nvidia-11 vGPU: that GPU now
# offers only nvidia-11 (a GPU without SR-IOV runs one type at a time).
M60_IN_USE = tuple(
    dataclasses.replace(t, available=15, created=(
        '4b20d080-1b54-4048-85b3-a6a62d165c01',))
    if t.type_id == 'nvidia-11' else dataclasses.replace(t, available=0)
    for t in M60_TYPES)
VGPU_MODULES = ('nvidia_vgpu_vfio', 'nvidia', 'mdev', 'vfio_iommu_type1',
                'vfio', 'kvm_intel', 'kvm')


def _a16_types(available):
    return tuple(MdevTypeSpec(
        f'nvidia-{number}', f'NVIDIA A16-{profile}', available,
        f'num_heads=4, frl_config=60, framebuffer={framebuffer}M, '
        f'max_resolution=5120x2880, max_instance={16 * 1024 // framebuffer}')
        for number, profile, framebuffer in (
            (700, '1B', 1024), (701, '2Q', 2048), (702, '4Q', 4096),
            (703, '8Q', 8192), (704, '16Q', 16384)))


def _sriov_gpu(address, ids, subsystem, group, vfs, totalvfs=16, first=4,
               **tags):
    """A PF at function 0 and VFs from function ``first`` on (4 to 7 on
    NVIDIA's boards), each VF in its own IOMMU group; ``tags`` go to each
    VF."""
    slot = address.rsplit('.', 1)[0]
    pf = Dev(address, ids, 0x030200, subsystem, 'nvidia', group, 1,
             sriov_totalvfs=totalvfs)
    return (pf,) + tuple(
        Dev(f'{slot}.{first + n}', ids, 0x030200, subsystem, 'nvidia',
            group + 1 + n, 1, physfn=address, **tags) for n in range(vfs))


A16_VF_TYPES = _a16_types(1)
# What nova's fakelibvirt offers on an mdev-capable GPU (GRID M60-0B).
FAKELIBVIRT_TYPES = (MdevTypeSpec('nvidia-11', 'GRID M60-0B', 16),
                     MdevTypeSpec('nvidia-12', 'GRID M60-0B', 8))

HOSTS.update({
    # NVIDIA GRID on a board without SR-IOV: each GPU offers mdev types.
    'm60-vgpu': Host(
        INTEL_PLATFORM + (
            Dev('0000:84:00.0', '10de:13f2', 0x030000, '10de:115e',
                'nvidia', 40, 1, mdev_types=M60_IN_USE),
            Dev('0000:85:00.0', '10de:13f2', 0x030000, '10de:115e',
                'nvidia', 41, 1, mdev_types=M60_TYPES)),
        modules=VGPU_MODULES, mdevctl=True, hostname='vgpu-m60'),
    # SR-IOV vGPU before the variant driver (nova 2024.1 Caracal era): the
    # VFs enabled by sriov-manage are the mdev parents, one vGPU each.
    'a16-vgpu': Host(
        INTEL_PLATFORM
        + _sriov_gpu('0000:41:00.0', '10de:25b6', '10de:14a9', 60, 4,
                     mdev_types=A16_VF_TYPES)
        + _sriov_gpu('0000:42:00.0', '10de:25b6', '10de:14a9', 70, 4,
                     mdev_types=A16_VF_TYPES),
        kernel='5.15.0-91-generic', modules=VGPU_MODULES, mdevctl=True,
        hostname='vgpu-a16'),
    # NVIDIA's kernel variant driver (Ubuntu 24.04 Noble, RHEL 10): no
    # mdevs; each VF has an "nvidia" directory and is passed through.
    'l4-variant': Host(
        INTEL_PLATFORM
        + _sriov_gpu('0000:3d:00.0', '10de:27b8', '10de:16ca', 60, 4,
                     totalvfs=32, variant=True),
        kernel='6.8.0-45-generic', modules=VGPU_MODULES[:2] + (
            'vfio_pci_core', 'vfio_iommu_type1', 'vfio', 'kvm_intel', 'kvm'),
        hostname='vgpu-l4'),
    # The local cloud's gpu-node-3 (tools/devcloud_lib, fakelibvirt): two
    # mdev GPUs offering nvidia-11 (16) and nvidia-12 (8), and an A16
    # whose 4 VFs, at functions 1 to 4, are passed through.
    'vgpu-node': Host(
        INTEL_PLATFORM + tuple(
            Dev(f'0000:81:0{n}.0', '10de:0ffe', 0x030200, '', 'nvidia',
                40 + n, 1, mdev_types=FAKELIBVIRT_TYPES) for n in (0, 1))
        + _sriov_gpu('0000:81:02.0', '10de:25b6', '10de:14a9', 50, 4,
                     first=1, variant=True),
        modules=VGPU_MODULES, mdevctl=True, hostname='gpu-node-3'),
})

CPUINFO = {
    'intel': ('processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n'
              'model\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6230 CPU '
              '@ 2.10GHz\nflags\t\t: fpu vme de pse tsc msr pae mce vmx\n'),
    'amd': ('processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n'
            'model\t\t: 1\nmodel name\t: AMD EPYC 7543 32-Core Processor\n'
            'flags\t\t: fpu vme de pse tsc msr pae mce svm\n'),
    '': 'processor\t: 0\nmodel name\t: unknown\n',
}

VFIO_DEP = ('kernel/drivers/vfio/pci/vfio-pci.ko: '
            'kernel/drivers/vfio/pci/vfio-pci-core.ko '
            'kernel/drivers/vfio/vfio.ko\n')
OTHER_DEP = ('kernel/drivers/net/ethernet/intel/igb/igb.ko: '
             'kernel/drivers/dca/dca.ko\n'
             'kernel/sound/pci/hda/snd-hda-intel.ko: '
             'kernel/sound/pci/hda/snd-hda-codec.ko\n')


def _write(root, relative, text):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def _link(root, relative, target):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def _keep(root, relative):
    """Git keeps no empty directory: leave a .keep the readers skip."""
    _write(root, os.path.join(relative, '.keep'), '')


def _modalias(dev):
    vendor, product = dev.ids.upper().split(':')
    sub_vendor, _, sub_product = (dev.subsystem or '0000:0000').upper() \
        .partition(':')
    base, sub, prog = (dev.pci_class >> 16, (dev.pci_class >> 8) & 0xff,
                       dev.pci_class & 0xff)
    return (f'pci:v0000{vendor}d0000{product}sv0000{sub_vendor}'
            f'sd0000{sub_product}bc{base:02X}sc{sub:02X}i{prog:02X}')


def _build_device(root, dev, host):
    base = f'sys/bus/pci/devices/{dev.address}'
    vendor, product = dev.ids.split(':')
    sub_vendor, _, sub_product = (dev.subsystem or '0000:0000').partition(':')
    for name, value in (('vendor', f'0x{vendor}'), ('device', f'0x{product}'),
                        ('class', f'0x{dev.pci_class:06x}'),
                        ('subsystem_vendor', f'0x{sub_vendor}'),
                        ('subsystem_device', f'0x{sub_product}'),
                        ('revision', dev.revision),
                        ('numa_node', str(dev.numa)),
                        ('modalias', _modalias(dev))):
        _write(root, f'{base}/{name}', value + '\n')
    if dev.pci_class >> 8 == 0x0300 and dev.boot_vga is not None:
        _write(root, f'{base}/boot_vga', '1\n' if dev.boot_vga else '0\n')
    if dev.sriov_totalvfs is not None:
        vfs = [d.address for d in host.devices if d.physfn == dev.address]
        _write(root, f'{base}/sriov_totalvfs', f'{dev.sriov_totalvfs}\n')
        _write(root, f'{base}/sriov_numvfs', f'{len(vfs)}\n')
        for number, vf in enumerate(vfs):
            _link(root, f'{base}/virtfn{number}', f'../{vf}')
    if dev.physfn:
        _link(root, f'{base}/physfn', f'../{dev.physfn}')
    if dev.variant:
        _keep(root, f'{base}/nvidia')
    _build_mdev_types(root, dev)
    if dev.driver:
        _link(root, f'{base}/driver', f'../../../../bus/pci/drivers/'
                                      f'{dev.driver}')
        _link(root, f'sys/bus/pci/drivers/{dev.driver}/{dev.address}',
              f'../../devices/{dev.address}')
    if dev.group is not None and host.iommu:
        group = f'sys/kernel/iommu_groups/{dev.group}'
        _link(root, f'{base}/iommu_group',
              f'../../../../kernel/iommu_groups/{dev.group}')
        _link(root, f'{group}/devices/{dev.address}',
              f'../../../../bus/pci/devices/{dev.address}')
        pt = 'iommu=pt' in host.cmdline.split()
        _write(root, f'{group}/type', 'identity\n' if pt else 'DMA-FQ\n')


def _build_mdev_types(root, dev):
    if not dev.mdev_types:
        return
    base = f'sys/bus/pci/devices/{dev.address}'
    _link(root, f'sys/class/mdev_bus/{dev.address}',
          f'../../bus/pci/devices/{dev.address}')
    for mdev in dev.mdev_types:
        folder = f'{base}/mdev_supported_types/{mdev.type_id}'
        for name, value in (('name', mdev.name),
                            ('available_instances', str(mdev.available)),
                            ('device_api', mdev.device_api),
                            ('description', mdev.description)):
            _write(root, f'{folder}/{name}', value + '\n')
        if not mdev.created:
            _keep(root, f'{folder}/devices')
        for uuid in mdev.created:
            _write(root, f'{base}/{uuid}/uevent', f'MDEV_TYPE={mdev.type_id}'
                   '\n')
            _link(root, f'{base}/{uuid}/mdev_type',
                  f'../mdev_supported_types/{mdev.type_id}')
            _link(root, f'{folder}/devices/{uuid}', f'../../../{uuid}')


def _build_vgpu_host(root, host):
    if host.modules:
        _write(root, 'proc/modules', ''.join(
            f'{m} 57344 0 - Live 0x0000000000000000\n'
            for m in host.modules))
    if host.mdevctl:
        _write(root, 'usr/sbin/mdevctl', '#!/usr/bin/python3\n')
    if host.hostname:
        _write(root, 'proc/sys/kernel/hostname', host.hostname + '\n')


def _build_modules(root, host):
    modules = f'lib/modules/{host.kernel}'
    _write(root, f'{modules}/modules.dep',
           (VFIO_DEP if host.vfio in ('module', 'loaded') else '')
           + OTHER_DEP)
    _write(root, f'{modules}/modules.builtin',
           'kernel/drivers/pci/pcie/portdrv.ko\n'
           + ('kernel/drivers/vfio/pci/vfio-pci.ko\n'
              if host.vfio == 'builtin' else ''))
    drivers = {d.driver for d in host.devices if d.driver}
    if host.vfio in ('loaded', 'builtin'):
        drivers.add('vfio-pci')
    for driver in sorted(drivers - {'pcieport'}):
        module = driver.replace('-', '_')
        _write(root, f'sys/module/{module}/initstate', 'live\n')
        _link(root, f'sys/bus/pci/drivers/{driver}/module',
              f'../../../../module/{module}')


def _build_iommu_units(root, host):
    if not host.iommu_units:
        _keep(root, 'sys/class/iommu')
    for unit in host.iommu_units:
        kind = 'amd-iommu/cap' if unit.startswith('ivhd') else \
            'intel-iommu/version'
        _write(root, f'sys/devices/virtual/iommu/{unit}/{kind}',
               '0x0\n' if kind.endswith('cap') else '1:0\n')
        _link(root, f'sys/class/iommu/{unit}',
              f'../../devices/virtual/iommu/{unit}')
    if not host.iommu or not any(d.group is not None for d in host.devices):
        _keep(root, 'sys/kernel/iommu_groups')


def build(host, root):
    """Write the tree of ``host`` under ``root``; return ``root``."""
    root = str(root)
    for dev in host.devices:
        _build_device(root, dev, host)
    _build_modules(root, host)
    _build_iommu_units(root, host)
    _write(root, 'proc/cmdline', host.cmdline + '\n')
    _write(root, 'proc/cpuinfo', CPUINFO[host.cpu])
    _write(root, 'proc/sys/kernel/osrelease', host.kernel + '\n')
    _build_vgpu_host(root, host)
    return root


def rebuild_all(directory):
    for name, host in HOSTS.items():
        target = os.path.join(directory, name)
        if os.path.lexists(target):
            shutil.rmtree(target)
        build(host, target)


if __name__ == '__main__':
    rebuild_all(sys.argv[1] if len(sys.argv) > 1 else FIXTURES)
