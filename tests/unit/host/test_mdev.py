"""Reading a vGPU host: mdev types, SR-IOV links, modules, mdevctl."""

import dataclasses
import os

import pytest

from osc_gpu.host import facts
from osc_gpu.host import sysfs
from tests.unit.host import fakehost


def read(name):
    return sysfs.read_host(fakehost.fixture_root(name))


def built(tmp_path, host=None, name='m60-vgpu'):
    return fakehost.build(host or fakehost.HOSTS[name], tmp_path / 'host')


def messages(host):
    return [e.message for e in host.errors]


# the fixture hosts -----------------------------------------------------------

def test_m60_types_as_the_kernel_lists_them():
    host = read('m60-vgpu')
    assert host.errors == ()
    first = host.mdev_types['0000:84:00.0']
    assert [t.type_id for t in first] == [f'nvidia-{n}' for n in
                                          range(11, 19)]
    assert first[0] == facts.MdevType(
        parent='0000:84:00.0', type_id='nvidia-11', name='GRID M60-0B',
        available=15, device_api='vfio-pci', description=(
            'num_heads=2, frl_config=45, framebuffer=512M, '
            'max_resolution=2560x1600, max_instance=16'), created=1)
    assert first[0].max_instance == 16
    assert [t.available for t in host.mdev_types['0000:85:00.0']] == [
        16, 16, 8, 8, 8, 4, 4, 4]


def test_vgpu_host_facts():
    host = read('m60-vgpu')
    assert host.vgpu_manager
    assert 'nvidia' in host.modules
    assert host.mdevctl == '/usr/sbin/mdevctl'
    assert host.hostname == 'vgpu-m60'
    plain = read('p4-nvidia')
    assert (plain.vgpu_manager, plain.mdevctl, plain.hostname,
            plain.mdev_types) == (False, None, None, {})


def test_sriov_links_both_ways():
    host = read('a16-vgpu')
    pf = host.devices['0000:41:00.0']
    assert (pf.sriov_totalvfs, pf.sriov_numvfs) == (16, 4)
    assert pf.virtfns == ('0000:41:00.4', '0000:41:00.5', '0000:41:00.6',
                          '0000:41:00.7')
    assert pf.nova_device_type == 'type-PF' and not pf.is_vf
    vf = host.devices['0000:41:00.5']
    assert vf.physfn == '0000:41:00.0' and vf.is_vf
    assert vf.nova_device_type == 'type-VF'
    assert not vf.vgpu_variant
    assert [t.available for t in host.mdev_types['0000:41:00.5']] == [1] * 5


def test_variant_driver_vfs():
    host = read('l4-variant')
    vf = host.devices['0000:3d:00.4']
    assert vf.vgpu_variant and vf.driver == 'nvidia'
    assert vf.is_vfio_bound and vf.is_vfio_ready
    assert host.mdev_types == {}
    assert host.mdevctl is None
    # Only a VF's "nvidia" directory counts.
    assert not host.devices['0000:3d:00.0'].vgpu_variant


def test_max_instance_only_from_plain_digits():
    mdev = facts.MdevType('p', 't', description='max_instance=\u0663')
    assert mdev.max_instance is None
    assert facts.MdevType('p', 't', description='a=1\nmax_instance = 4'
                          ).max_instance == 4


def test_a_virtfn_link_wins_over_its_order_in_the_listing(tmp_path):
    root = built(tmp_path, name='a16-vgpu')
    pf = tmp_path / 'host/sys/bus/pci/devices/0000:41:00.0'
    (pf / 'virtfn10').symlink_to('../0000:41:00.7')
    (pf / 'virtfn3').unlink()
    host = sysfs.read_host(root)
    assert host.devices['0000:41:00.0'].virtfns == (
        '0000:41:00.4', '0000:41:00.5', '0000:41:00.6', '0000:41:00.7')


def test_mdevctl_in_bin_on_a_host_without_usr_sbin(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['m60-vgpu'], mdevctl=False)
    root = built(tmp_path, host)
    os.makedirs(os.path.join(root, 'bin'))
    with open(os.path.join(root, 'bin/mdevctl'), 'w') as f:
        f.write('')
    assert sysfs.read_host(root).mdevctl == '/bin/mdevctl'


# values Linux never writes ---------------------------------------------------

TYPE = 'sys/bus/pci/devices/0000:85:00.0/mdev_supported_types/nvidia-12'


@pytest.mark.parametrize('relative, data, message', [
    (f'{TYPE}/available_instances', b'-1\n',
     "sys/class/mdev_bus/0000:85:00.0/mdev_supported_types/nvidia-12/"
     "available_instances holds '-1', not a number of 0 or more"),
    (f'{TYPE}/name', b'GRID \x1b[2J\n',
     "sys/class/mdev_bus/0000:85:00.0/mdev_supported_types/nvidia-12/name "
     "holds 'GRID \\x1b[2J', not lines of printable UTF-8 text (at most "
     '1024 bytes)'),
    (f'{TYPE}/description', b'\xff\xfe',
     "sys/class/mdev_bus/0000:85:00.0/mdev_supported_types/nvidia-12/"
     "description holds '\\xff\\xfe', not lines of printable UTF-8 text"),
    (f'{TYPE}/device_api', b'vfio pci\n',
     "sys/class/mdev_bus/0000:85:00.0/mdev_supported_types/nvidia-12/"
     "device_api holds 'vfio pci', not a name like vfio-pci or dmar0"),
    (f'{TYPE}/description', b'x' * 2000,
     "sys/class/mdev_bus/0000:85:00.0/mdev_supported_types/nvidia-12/"
     "description holds 'xxxx"),
    ('proc/sys/kernel/hostname', b'vgpu m60\n',
     "proc/sys/kernel/hostname holds 'vgpu m60', not a host name like "
     'compute-1.example.com'),
])
def test_a_bad_value_is_one_escaped_error(tmp_path, relative, data,
                                          message):
    root = built(tmp_path)
    (tmp_path / 'host' / relative).write_bytes(data)
    host = sysfs.read_host(root)
    assert len(host.errors) == 1
    assert host.errors[0].message.startswith(message)
    if relative.startswith('sys/'):
        # The type is left out, never guessed at.
        assert 'nvidia-12' not in [
            t.type_id for t in host.mdev_types['0000:85:00.0']]


def test_missing_required_type_files_are_errors(tmp_path):
    root = built(tmp_path)
    os.unlink(tmp_path / 'host' / TYPE / 'device_api')
    os.unlink(tmp_path / 'host' / TYPE / 'name')       # optional
    host = sysfs.read_host(root)
    assert messages(host) == [
        'sys/class/mdev_bus/0000:85:00.0/mdev_supported_types/nvidia-12/'
        'device_api is missing']


@pytest.mark.parametrize('where, name, message', [
    ('sys/class/mdev_bus', 'a b',
     "sys/class/mdev_bus has an entry 'a b', not a device or mdev type "
     'name like 0000:84:00.0 or nvidia-11'),
    (TYPE.rsplit('/', 1)[0], 'nvidia\x1b11',
     "has an entry 'nvidia\\x1b11', not a device or mdev type name"),
    (f'{TYPE}/devices', 'not-a-uuid',
     "devices has an entry 'not-a-uuid', not an mdev UUID"),
])
def test_odd_entries_are_escaped_errors(tmp_path, where, name, message):
    root = built(tmp_path)
    os.makedirs(tmp_path / 'host' / where / name)
    host = sysfs.read_host(root)
    assert len(host.errors) == 1
    assert message in host.errors[0].message


@pytest.mark.parametrize('link, target, message', [
    ('0000:41:00.4/physfn', '../bad\x1b',
     "sys/bus/pci/devices/0000:41:00.4/physfn links to 'bad\\x1b', not a PCI "
     'address like 0000:81:00.0'),
    ('0000:41:00.0/virtfn0', '../0000:41:00.x',
     "sys/bus/pci/devices/0000:41:00.0/virtfn0 links to '0000:41:00.x', not "
     'a PCI address like 0000:81:00.0'),
])
def test_odd_sriov_links_leave_the_device_out(tmp_path, link, target,
                                              message):
    root = built(tmp_path, name='a16-vgpu')
    path = tmp_path / 'host/sys/bus/pci/devices' / link
    path.unlink()
    path.symlink_to(target)
    host = sysfs.read_host(root)
    assert messages(host) == [message]
    assert link.split('/')[0] not in host.devices


def test_sriov_numvfs_garbage(tmp_path):
    root = built(tmp_path, name='a16-vgpu')
    (tmp_path / 'host/sys/bus/pci/devices/0000:42:00.0/sriov_numvfs'
     ).write_bytes(b'4 \x00')
    assert messages(sysfs.read_host(root)) == [
        "sys/bus/pci/devices/0000:42:00.0/sriov_numvfs holds '4 \\x00', not "
        'a number of 0 or more']


def test_proc_modules_words_are_only_looked_up(tmp_path):
    root = built(tmp_path)
    (tmp_path / 'host/proc/modules').write_bytes(
        b'\xff\x1b[2J 1 0 - Live\nnvidia_vgpu_vfio 57344 0 - Live 0x0\n')
    host = sysfs.read_host(root)
    assert host.errors == () and host.vgpu_manager
