import dataclasses
import os
import shutil

import pytest

from osc_gpu.host import facts
from osc_gpu.host import sysfs
from tests.unit.host import fakehost


def read(name):
    return sysfs.read_host(fakehost.fixture_root(name))


def test_reads_p4_host_like_lspci_would():
    host = read('p4-nvidia')
    p4 = host.devices['0000:81:00.0']
    assert p4 == facts.PciDevice(
        address='0000:81:00.0', vendor_id='10de', product_id='1bb3',
        class_code=0x030200, subsystem_vendor_id='10de',
        subsystem_product_id='11d8', numa_node=1, driver='nvidia',
        iommu_group='40', sriov_totalvfs=None, boot_vga=False)
    assert p4.ids == '10de:1bb3'
    assert p4.subsystem == '10de:11d8'
    assert p4.pci_class == '0302'
    assert p4.slot == '0000:81:00'
    assert p4.is_gpu and not p4.is_bridge
    assert p4.nova_device_type == 'type-PCI'
    assert [d.address for d in host.gpus()] == [
        '0000:02:00.0', '0000:81:00.0', '0000:81:01.0']
    assert [d.address for d in host.gpus('1a03')] == ['0000:02:00.0']


def test_reads_host_wide_facts():
    host = read('p4-nvidia')
    assert host.cpu_vendor == 'intel'
    assert host.kernel_release == '5.15.0-91-generic'
    assert 'intel_iommu=on' in host.cmdline_args
    assert host.iommu_units == ('dmar0', 'dmar1')
    assert host.iommu_groups['40'] == ('0000:81:00.0',)
    assert host.iommu_groups['17'] == ('0000:01:00.0', '0000:02:00.0')
    assert host.vfio == facts.VfioModule(
        False, True, 'lib/modules/5.15.0-91-generic/modules.dep')


def test_console_and_bridge_and_unbound_devices():
    host = read('p4-nvidia')
    console = host.devices['0000:02:00.0']
    assert console.boot_vga and console.driver == 'ast'
    bridge = host.devices['0000:01:00.0']
    assert bridge.is_bridge and bridge.driver is None
    assert bridge.subsystem is None
    assert [p.address for p in host.group_peers(console)] == ['0000:01:00.0']


def test_numa_node_minus_one_means_unknown(tmp_path):
    assert read('no-gpu').devices['0000:00:00.0'].numa_node == 0
    bare = fakehost.Host(
        (fakehost.Dev('0000:05:00.0', '10de:1eb8', 0x030200),))
    device = sysfs.read_host(fakehost.build(bare, tmp_path)).devices[
        '0000:05:00.0']
    assert device.numa_node is None
    assert device.driver is None and device.iommu_group is None


def test_vfio_states(tmp_path):
    assert read('p4-vfio').vfio == facts.VfioModule(
        True, True, 'sys/bus/pci/drivers/vfio-pci')
    for vfio, expected in (
            ('builtin', facts.VfioModule(
                True, True, 'sys/bus/pci/drivers/vfio-pci')),
            (None, facts.VfioModule(False, False, 'not found'))):
        host = dataclasses.replace(fakehost.HOSTS['no-gpu'], vfio=vfio)
        root = fakehost.build(host, tmp_path / str(vfio))
        assert sysfs.read_host(root).vfio == expected


def test_vfio_found_in_modules_builtin(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['no-gpu'], vfio='builtin')
    root = fakehost.build(host, tmp_path)
    # Listed as built in, but the driver directories are not there.
    shutil.rmtree(tmp_path / 'sys/bus/pci/drivers/vfio-pci')
    shutil.rmtree(tmp_path / 'sys/module/vfio_pci')
    assert sysfs.read_host(root).vfio == facts.VfioModule(
        True, True, 'lib/modules/5.15.0-91-generic/modules.builtin')


def test_iommu_off_host_has_no_groups():
    host = read('iommu-off')
    assert host.iommu_groups == {}
    assert host.iommu_units == ()
    assert host.devices['0000:81:00.0'].iommu_group is None


def test_amd_host():
    host = read('amd-host')
    assert host.cpu_vendor == 'amd'
    assert host.iommu_units == ('ivhd0', 'ivhd1')
    mi210 = host.devices['0000:c1:00.0']
    assert (mi210.ids, mi210.class_code, mi210.is_gpu) == (
        '1002:740f', 0x038000, True)


def test_sriov_and_accelerator_class(tmp_path):
    host = fakehost.HOSTS['no-gpu'].add(
        fakehost.A100_PF,
        fakehost.Dev('0000:42:00.0', '1002:74a1', 0x120000, '1002:74a1',
                     'vfio-pci', 61, 0))
    read_back = sysfs.read_host(fakehost.build(host, tmp_path))
    a100 = read_back.devices['0000:41:00.0']
    assert a100.sriov_totalvfs == 16
    assert a100.nova_device_type == 'type-PF'
    assert read_back.devices['0000:42:00.0'].is_gpu


def test_unknown_cpu_vendor(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['no-gpu'], cpu='')
    assert sysfs.read_host(fakehost.build(host, tmp_path)).cpu_vendor is None


def test_empty_root_reads_as_empty_host(tmp_path):
    host = sysfs.read_host(str(tmp_path))
    assert host.devices == {} and host.iommu_groups == {}
    assert host.cmdline == '' and host.kernel_release is None


def test_check_root(tmp_path):
    sysfs.check_root(fakehost.fixture_root('no-gpu'))
    with pytest.raises(sysfs.RootError, match="is not a directory"):
        sysfs.check_root(str(tmp_path / 'missing'))
    with pytest.raises(sysfs.RootError, match='has no sys/bus/pci/devices'):
        sysfs.check_root(str(tmp_path))


# what Linux never writes: left out, named, escaped -------------------------

P4 = 'sys/bus/pci/devices/0000:81:00.0'


def hostile(tmp_path, relative, data=None, link=None):
    """m60-t4 with one entry replaced: file bytes, a link, or removed."""
    root = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['p4-nvidia'], root)
    path = root / relative
    if path.is_symlink() or path.is_file():
        path.unlink()
    if link is not None:
        os.symlink(link, path)
    elif data is not None:
        path.write_bytes(data)
    return sysfs.read_host(str(root))


@pytest.mark.parametrize('name, data, message', [
    ('vendor', b'\xff\xfe\n', "vendor holds '\\xff\\xfe', not a PCI id "
                              'like 0x10de'),
    ('vendor', b'', 'vendor is empty, not a PCI id like 0x10de'),
    ('vendor', b'\n', 'vendor is empty, not a PCI id like 0x10de'),
    ('vendor', None, 'vendor is missing'),
    ('device', b'0x1bb3\x1b[2J\n', "device holds '0x1bb3\\x1b[2J', not a "
                                   'PCI id like 0x10de'),
    ('device', b'0x1bb30\n', "device holds '0x1bb30', not a PCI id"),
    ('class', b'VGA\n', "class holds 'VGA', not a PCI class like 0x030200"),
    ('class', None, 'class is missing'),
    ('subsystem_vendor', b'10de\n', "subsystem_vendor holds '10de', not a "
                                    'PCI id'),
    ('numa_node', b'one\n', "numa_node holds 'one', not a number"),
    ('sriov_totalvfs', b'\xc3\xa9\n', "sriov_totalvfs holds '\\xc3\\xa9', "
                                      'not a number'),
    ('vendor', b'0x' + b'a' * 70, "vendor holds '0xaaaaaaaaaaaaaaaaaaaaaaaa"
                                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'... "
                                  '(72 bytes), not a PCI id'),
])
def test_a_device_file_linux_never_writes(tmp_path, name, data, message):
    host = hostile(tmp_path, f'{P4}/{name}', data)
    assert '0000:81:00.0' not in host.devices
    assert '0000:81:01.0' in host.devices
    [error] = host.errors
    assert error.path == f'{P4}/{name}'
    assert error.message.startswith(f'{P4}/{message}')


def test_an_unreadable_device_file(tmp_path):
    root = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['p4-nvidia'], root)
    (root / P4 / 'vendor').unlink()
    (root / P4 / 'vendor').mkdir()
    [error] = sysfs.read_host(str(root)).errors
    assert error.message == f'{P4}/vendor cannot be read (Is a directory)'


@pytest.mark.parametrize('name, target, message', [
    ('driver', '../../../../bus/pci/drivers/nv\x1bidia',
     "driver links to 'nv\\x1bidia', not a name like vfio-pci or dmar0"),
    ('driver', os.fsdecode(b'../drivers/\xff'),
     "driver links to '\\xff', not a name like vfio-pci"),
    ('iommu_group', '../../../../kernel/iommu_groups/4x',
     "iommu_group links to '4x', not an IOMMU group number"),
])
def test_a_link_linux_never_makes(tmp_path, name, target, message):
    host = hostile(tmp_path, f'{P4}/{name}', link=target)
    assert '0000:81:00.0' not in host.devices
    [error] = host.errors
    assert error.message.startswith(f'{P4}/{message}')


@pytest.mark.parametrize('name, shown', [
    ('foo', "'foo'"),
    ('0000:81:00.0\x1b[31m', "'0000:81:00.0\\x1b[31m'"),
    (os.fsdecode(b'0000:81:00.\xff'), "'0000:81:00.\\xff'"),
    ('0000:81:00.8', "'0000:81:00.8'"),
])
def test_odd_names_under_bus_pci_devices(tmp_path, name, shown):
    root = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['p4-nvidia'], root)
    (root / 'sys/bus/pci/devices' / name).mkdir()
    host = sysfs.read_host(str(root))
    [error] = host.errors
    assert error.message == (f'sys/bus/pci/devices has an entry {shown}, '
                             'not a PCI address like 0000:81:00.0')
    assert len(host.gpus()) == 3


@pytest.mark.parametrize('relative, data, message', [
    ('proc/cmdline', b'ro intel_iommu=on \xff\n',
     "proc/cmdline holds 'ro intel_iommu=on \\xff', which is not UTF-8"),
    ('proc/cmdline', b'ro intel_iommu=on\x1b[2J\n',
     "proc/cmdline holds 'intel_iommu=on\\x1b[2J', with characters no kernel "
     'argument has'),
    ('proc/sys/kernel/osrelease', b'../../../etc\n',
     "proc/sys/kernel/osrelease holds '../../../etc', not a kernel release"),
])
def test_procfs_files_linux_never_writes(tmp_path, relative, data, message):
    host = hostile(tmp_path, relative, data)
    [error] = host.errors
    assert error.message.startswith(message)
    assert host.cmdline == '' or host.kernel_release is None


def test_odd_iommu_unit_names_are_left_out(tmp_path):
    root = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['p4-nvidia'], root)
    (root / 'sys/class/iommu/dmar\x1b9').mkdir()
    host = sysfs.read_host(str(root))
    assert host.iommu_units == ('dmar0', 'dmar1')
    [error] = host.errors
    assert error.message == ("sys/class/iommu has an entry 'dmar\\x1b9', not "
                             'a name like vfio-pci or dmar0')


def test_cpuinfo_that_is_not_utf8_still_names_the_vendor(tmp_path):
    host = hostile(tmp_path, 'proc/cpuinfo',
                   b'model name\t: \xff\nvendor_id\t: GenuineIntel\n')
    assert host.cpu_vendor == 'intel' and host.errors == ()


def test_vfio_pci_found_deep_in_a_long_modules_dep(tmp_path):
    root = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['p4-nvidia'], root)
    dep = root / 'lib/modules/5.15.0-91-generic/modules.dep'
    dep.write_text(''.join(f'kernel/drivers/misc/m{i}.ko:\n'
                           for i in range(20000)) + fakehost.VFIO_DEP)
    assert sysfs.read_host(str(root)).vfio.available


def test_a_fifo_where_a_sysfs_file_belongs_does_not_hang(tmp_path):
    root = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['p4-nvidia'], root)
    (root / P4 / 'vendor').unlink()
    os.mkfifo(root / P4 / 'vendor')
    os.mkfifo(root / 'proc/cpuinfo.fifo')
    (root / 'proc/cpuinfo').unlink()
    os.symlink('cpuinfo.fifo', root / 'proc/cpuinfo')
    host = sysfs.read_host(str(root))
    assert [e.message for e in host.errors] == [
        f'{P4}/vendor is empty, not a PCI id like 0x10de']
    assert host.cpu_vendor is None
