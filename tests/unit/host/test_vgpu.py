"""vGPU GPUs in the inventory and the readiness report."""

import dataclasses

from osc_gpu.host import inventory
from osc_gpu.host import readiness
from osc_gpu.host import sysfs
from osc_gpu.host import vgpu
from tests.unit.host import fakehost

Dev = fakehost.Dev


def facts_of(name, tmp_path=None, host=None):
    if host is None:
        return sysfs.read_host(fakehost.fixture_root(name))
    return sysfs.read_host(fakehost.build(host, tmp_path / 'host'))


def roles(host):
    return [(e.address, e.role) for e in inventory.list_gpus(host)
            if e.role != inventory.HOST_CONSOLE]


def lines(findings):
    return [f.line for f in findings]


# how each GPU is shared ------------------------------------------------------

def test_m60_gpus_offer_mdev_types_themselves():
    host = facts_of('m60-vgpu')
    first, second = vgpu.list_vgpus(host)
    assert (first.mode, first.parents) == (vgpu.MDEV, ('0000:84:00.0',))
    assert first.created == {'nvidia-11': 1} and second.created == {}
    assert first.offers('nvidia-18') and not first.offers('nvidia-19')
    assert roles(host) == [('0000:84:00.0', 'vgpu'), ('0000:85:00.0', 'vgpu')]
    assert vgpu.describe(first) == (
        'vGPU: offers 8 mdev types (nvidia-11 to nvidia-18); 1 nvidia-11 '
        'mdev created')


def test_a16_vfs_are_the_mdev_parents_and_stay_out_of_the_gpu_list():
    host = facts_of('a16-vgpu')
    shared = vgpu.list_vgpus(host)
    assert [(s.address, s.mode, len(s.parents)) for s in shared] == [
        ('0000:41:00.0', vgpu.SRIOV_MDEV, 4),
        ('0000:42:00.0', vgpu.SRIOV_MDEV, 4)]
    assert shared[0].type_ids == ['nvidia-700', 'nvidia-701', 'nvidia-702',
                                  'nvidia-703', 'nvidia-704']
    # The VFs are not GPUs to pass through: their PF stands for them.
    assert roles(host) == [('0000:41:00.0', 'vgpu'), ('0000:42:00.0', 'vgpu')]


def test_l4_variant_vfs_are_passed_through_as_type_vf():
    host = facts_of('l4-variant')
    [shared] = vgpu.list_vgpus(host)
    assert shared.mode == vgpu.VARIANT and shared.parents == ()
    entries = inventory.list_gpus(host)
    assert roles(host) == [('0000:3d:00.0', 'vgpu')] + [
        (f'0000:3d:00.{n}', 'passthrough') for n in range(4, 8)]
    vf = entries[2]
    assert (vf.alias, vf.device.nova_device_type) == ('L4-VF', 'type-VF')
    assert readiness.gpu_status(vf) == (
        "ready: on NVIDIA's vGPU variant driver (nvidia)")


def test_a_pf_with_plain_vfs_is_not_passed_through_itself(tmp_path):
    host = fakehost.HOSTS['no-gpu'].add(
        Dev('0000:41:00.0', '1002:7460', 0x038000, '', 'gim', 60, 0,
            sriov_totalvfs=8),
        Dev('0000:41:00.1', '1002:7461', 0x038000, '', 'vfio-pci', 61, 0,
            physfn='0000:41:00.0'))
    facts = facts_of(None, tmp_path, host)
    assert roles(facts) == [('0000:41:00.0', 'sr-iov pf'),
                            ('0000:41:00.1', 'passthrough')]
    assert readiness.gpu_status(inventory.list_gpus(facts)[1]) == (
        'SR-IOV PF with 1 VF enabled: its VFs are passed through, not the '
        'PF')


def test_a_gpu_with_sriov_off_on_a_vgpu_host_offers_nothing_yet(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['a16-vgpu'], devices=(
        fakehost.INTEL_PLATFORM + fakehost._sriov_gpu(
            '0000:41:00.0', '10de:25b6', '10de:14a9', 60, 0)))
    facts = facts_of(None, tmp_path, host)
    [shared] = vgpu.list_vgpus(facts)
    assert shared.mode == vgpu.VFS_OFF
    report = readiness.check_host(facts)
    assert report.ready
    assert lines(report.warnings) == [
        'GPU 0000:41:00.0 (A2 / A16) has SR-IOV but no VF is enabled, so it '
        'offers no vGPU: /usr/lib/nvidia/sriov-manage -e 0000:41:00.0, after '
        'every boot (e.g. systemctl enable '
        "nvidia-sriov-manage@0000:41:00.0.service, see nova's virtual-gpu "
        'guide)']


def test_without_the_vgpu_manager_an_sriov_gpu_is_plain_passthrough(
        tmp_path):
    host = fakehost.HOSTS['no-gpu'].add(Dev(
        '0000:41:00.0', '10de:20b5', 0x030200, '10de:1533', 'vfio-pci', 60,
        0, sriov_totalvfs=16))
    facts = facts_of(None, tmp_path, host)
    assert vgpu.list_vgpus(facts) == []
    assert roles(facts) == [('0000:41:00.0', 'passthrough')]


# the readiness report --------------------------------------------------------

def test_vgpu_hosts_are_ready_without_a_finding():
    for name in ('m60-vgpu', 'a16-vgpu', 'l4-variant'):
        report = readiness.check_host(facts_of(name))
        assert report.ready, name
        assert report.findings == [], name


def test_missing_mdevctl_is_a_warning(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['m60-vgpu'], mdevctl=False)
    report = readiness.check_host(facts_of(None, tmp_path, host))
    assert report.ready
    assert lines(report.warnings) == [
        'mdevctl is not installed (not in /usr/sbin, /usr/bin, /sbin or /bin)'
        ': nova 2024.2 Dalmatian and later create vGPUs through libvirt, '
        'which fails with "Cannot find \'mdevctl\' in path": install it (apt '
        'install mdevctl, or dnf install mdevctl)']


def test_the_variant_driver_needs_no_mdevctl_and_no_vfio_pci(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['l4-variant'], vfio=None)
    report = readiness.check_host(facts_of(None, tmp_path, host))
    assert report.ready and report.findings == []


def test_a_vgpu_only_host_needs_no_vfio_pci(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['m60-vgpu'], vfio=None)
    report = readiness.check_host(facts_of(None, tmp_path, host))
    assert report.ready and report.findings == []


def test_a_variant_vf_with_managed_no_is_ready():
    # The variant driver is a vfio driver: "managed": "no" is what it needs.
    host = facts_of('l4-variant')
    unmanaged = {f'0000:3d:00.{n}': 'line 2 [pci] device_spec'
                 for n in range(4, 8)}
    report = readiness.check_host(host, unmanaged=unmanaged)
    assert report.ready and report.findings == []


def test_a_plain_vf_on_a_host_driver_with_managed_no_is_a_problem(tmp_path):
    host = fakehost.HOSTS['l4-variant'].replace_device('0000:3d:00.4',
                                                       variant=False)
    facts = facts_of(None, tmp_path, host)
    report = readiness.check_host(
        facts, unmanaged={'0000:3d:00.4': 'line 2 [pci] device_spec'})
    assert [f.subject for f in report.problems] == ['0000:3d:00.4']
