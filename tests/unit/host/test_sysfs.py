import dataclasses
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
        fakehost.Dev('0000:41:00.0', '10de:20b5', 0x030200, '10de:1533',
                     'vfio-pci', 60, 0, sriov_totalvfs=16),
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
