import dataclasses

import pytest

from osc_gpu.host import inventory
from osc_gpu.host import readiness
from osc_gpu.host import sysfs
from tests.unit.host import fakehost

Dev = fakehost.Dev


def check(name, vendor_id=None, unmanaged=None):
    return readiness.check_host(
        sysfs.read_host(fakehost.fixture_root(name)), vendor_id, unmanaged)


def check_variant(host, tmp_path, vendor_id=None, unmanaged=None):
    root = fakehost.build(host, tmp_path / str(len(list(tmp_path.iterdir()))))
    return readiness.check_host(sysfs.read_host(root), vendor_id, unmanaged)


def lines(findings):
    return [f.line for f in findings]


def only(findings, check_name):
    return [f for f in findings if f.check == check_name]


# the fixture hosts -----------------------------------------------------------

def test_p4_nvidia_gpus_on_the_host_driver_are_ready_with_a_warning():
    # libvirt's managed hostdev (nova's default) moves them to vfio-pci.
    report = check('p4-nvidia')
    assert report.ready
    drivers = only(report.warnings, 'gpu-driver')
    assert [f.subject for f in drivers] == ['0000:81:00.0', '0000:81:01.0']
    [first, _] = drivers
    assert first.message == (
        'GPU 0000:81:00.0 (Tesla P4) is on host driver nvidia: libvirt '
        'unbinds it and binds vfio-pci when a server starts, which fails '
        'while nvidia is using it')
    assert first.fix.startswith(
        "binding it to vfio-pci at boot is more robust: add "
        "'vfio-pci.ids=10de:1bb3' to GRUB_CMDLINE_LINUX")
    assert "'softdep nvidia pre: vfio-pci' to /etc/modprobe.d/vfio.conf" \
        in first.fix
    assert ('echo vfio-pci > /sys/bus/pci/devices/0000:81:00.0/'
            'driver_override') in first.fix
    assert 'echo 0000:81:00.0 > /sys/bus/pci/drivers/nvidia/unbind' \
        in first.fix
    assert lines(only(report.warnings, 'vfio-pci')) == [
        'vfio-pci is available (lib/modules/5.15.0-91-generic/modules.dep) '
        'but not loaded: load it at boot: echo vfio-pci > '
        '/etc/modules-load.d/vfio-pci.conf']


def test_managed_no_makes_a_gpu_on_its_host_driver_a_problem():
    report = check('p4-nvidia', unmanaged={
        '0000:81:01.0': 'line 3 [pci] device_spec'})
    [problem] = report.problems
    assert (problem.check, problem.subject) == ('gpu-driver', '0000:81:01.0')
    assert problem.message == (
        'GPU 0000:81:01.0 (Tesla P4) is held by host driver nvidia but line '
        '3 [pci] device_spec says "managed": "no", so libvirt will not bind '
        'it to vfio-pci when a server starts')
    assert problem.fix.startswith(
        'bind it to vfio-pci (or drop "managed": "no"): add '
        "'vfio-pci.ids=10de:1bb3' to GRUB_CMDLINE_LINUX and 'softdep nvidia "
        "pre: vfio-pci'")
    assert readiness.gpu_status(report.gpus[2], 'line 3') == (
        'held by host driver nvidia, and device_spec says "managed": "no"')
    assert [f.subject for f in only(report.warnings, 'gpu-driver')] == [
        '0000:81:00.0']


def test_managed_no_needs_vfio_pci_not_just_no_driver(tmp_path):
    host = M60_T4.replace_device('0000:81:01.0', driver=None)
    assert check_variant(host, tmp_path).ready
    report = check_variant(host, tmp_path, unmanaged={
        '0000:81:01.0': 'line 2 [pci] device_spec',
        '0000:81:00.0': 'line 2 [pci] device_spec'})
    [problem] = report.problems
    assert problem.message.startswith(
        'GPU 0000:81:01.0 (Tesla T4) is bound to no driver but line 2')
    assert problem.fix == (
        'bind it to vfio-pci (or drop "managed": "no"): add '
        "'vfio-pci.ids=10de:1eb8' to GRUB_CMDLINE_LINUX, then reboot; or for "
        'now: echo vfio-pci > /sys/bus/pci/devices/0000:81:01.0/'
        'driver_override && echo 0000:81:01.0 > /sys/bus/pci/drivers_probe')


def test_p4_nvidia_inventory():
    report = check('p4-nvidia')
    assert [(g.address, g.name, g.role) for g in report.gpus] == [
        ('0000:02:00.0', 'ASPEED Graphics Family', inventory.HOST_CONSOLE),
        ('0000:81:00.0', 'Tesla P4', inventory.PASSTHROUGH),
        ('0000:81:01.0', 'Tesla P4', inventory.PASSTHROUGH)]
    p4 = report.gpus[1]
    assert p4.alias == 'P4' and p4.peers == () and p4.functions == ()
    assert readiness.gpu_status(p4) == (
        'on host driver nvidia; libvirt moves it to vfio-pci when a server '
        'starts')
    assert readiness.gpu_status(report.gpus[0]).startswith('host console')
    assert report.iommu == {'active': True, 'groups': 7,
                            'units': ['dmar0', 'dmar1'],
                            'kernel_args': ['intel_iommu=on', 'iommu=pt']}


def test_p4_vfio_one_gpu_held_by_a_vm_one_by_nvidia():
    report = check('p4-vfio')
    assert report.ready
    assert [(f.check, f.subject) for f in report.warnings] == [
        ('gpu-driver', '0000:81:01.0')]
    assert readiness.gpu_status(report.gpus[1]) == 'ready: bound to vfio-pci'


def test_iommu_off():
    report = check('iommu-off')
    iommu = only(report.problems, 'iommu')
    assert lines(iommu) == [
        'IOMMU is not active: /sys/kernel/iommu_groups is empty and the '
        'kernel command line lacks intel_iommu=on: enable VT-d in the '
        "BIOS/UEFI setup, add 'intel_iommu=on iommu=pt' to "
        'GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (or '
        'grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot']
    assert [f.subject for f in only(report.warnings, 'gpu-driver')] == [
        '0000:81:00.0']
    assert 'nouveau' in only(report.warnings, 'gpu-driver')[0].message
    assert only(report.findings, 'iommu-group') == []
    assert report.iommu['active'] is False


def test_gpu_with_audio_function_on_the_host():
    report = check('gpu-with-audio')
    [problem] = report.problems
    assert problem.check == 'iommu-group'
    assert problem.subject == '0000:3b:00.1'
    assert problem.message == (
        '0000:3b:00.1 Audio device [10de:1aef], a function of GPU '
        '0000:3b:00.0 (RTX A6000), is held by snd_hda_intel; it shares '
        'IOMMU group 45 and must be bound to vfio-pci too (nova passes only '
        'the GPU function)')
    assert "'vfio-pci.ids=10de:2230,10de:1aef'" in problem.fix
    assert 'softdep snd_hda_intel pre: vfio-pci' in problem.fix
    gpu = report.gpus[1]
    assert [f.address for f in gpu.functions] == ['0000:3b:00.1']


def test_amd_host_is_ready_without_amd_iommu_on():
    report = check('amd-host')
    assert report.ready
    assert report.findings == []
    assert [g.name for g in inventory.passthrough_gpus(report.gpus)] == [
        'Instinct MI210']


def test_no_gpu_host():
    report = check('no-gpu')
    [problem] = report.problems
    assert problem.check == 'gpu'
    assert problem.message == (
        'no GPU to pass through: no PCI display controller (class 03xx) or '
        'processing accelerator (class 12xx) besides the host console '
        '0000:02:00.0 (ASPEED Graphics Family)')


def test_m60_t4_host_is_ready():
    report = check('m60-t4')
    assert report.ready and report.findings == []
    assert [(g.address, g.alias, g.device.nova_device_type)
            for g in inventory.passthrough_gpus(report.gpus)] == [
        ('0000:81:00.0', 'M60', 'type-PCI'),
        ('0000:81:01.0', 'T4', 'type-PCI')]


def test_vendor_filter():
    assert [g.address for g in check('m60-t4', '10de').gpus] == [
        '0000:81:00.0', '0000:81:01.0']
    report = check('amd-host', '10de')
    assert lines(report.problems) == [
        'no GPU with vendor 10de on this host (GPUs here: 1a03:2000 at '
        '0000:63:00.0, 1002:740f at 0000:c1:00.0): drop --vendor or give '
        'the vendor of a GPU above']


def test_bmc_display_without_boot_vga_is_the_host_console():
    report = check('bmc-vga')
    assert report.ready and report.findings == []
    assert [(g.address, g.name, g.role) for g in report.gpus] == [
        ('0000:01:00.1', 'Matrox MGA G200eH3', inventory.HOST_CONSOLE),
        ('0000:81:00.0', 'Tesla T4', inventory.PASSTHROUGH)]
    assert readiness.gpu_status(report.gpus[0]) == (
        'host console (BMC display), not for passthrough')


# BMC displays ----------------------------------------------------------------

M60_T4 = fakehost.HOSTS['m60-t4']


@pytest.mark.parametrize('ids', ['1a03:2000', '102b:0522', '102b:0530',
                                 '102b:0532', '102b:0533', '102b:0534',
                                 '102b:0536', '102b:0538'])
@pytest.mark.parametrize('boot_vga', [False, None])
def test_bmc_displays_are_never_passed_through(ids, boot_vga, tmp_path):
    host = M60_T4.replace_device('0000:02:00.0', ids=ids, boot_vga=boot_vga)
    report = check_variant(host, tmp_path)
    assert report.gpus[0].role == inventory.HOST_CONSOLE
    assert report.ready and report.findings == []


def test_an_add_in_boot_vga_card_is_the_console_too(tmp_path):
    host = M60_T4.replace_device('0000:02:00.0', boot_vga=False).add(
        Dev('0000:05:00.0', '10de:1eb8', 0x030000, '', 'nvidia', 50, 0,
            boot_vga=True))
    report = check_variant(host, tmp_path)
    assert [(g.address, readiness.gpu_status(g)) for g in report.gpus
            if g.role == inventory.HOST_CONSOLE] == [
        ('0000:02:00.0', 'host console (BMC display), not for passthrough'),
        ('0000:05:00.0', 'host console (boot VGA), not for passthrough')]


# IOMMU variants --------------------------------------------------------------


@pytest.mark.parametrize('cmdline, expected', [
    ('ro intel_iommu=off', "turns the IOMMU off with intel_iommu=off"),
    ('ro iommu=off intel_iommu=on', 'turns the IOMMU off with iommu=off'),
])
def test_iommu_turned_off_on_the_command_line(cmdline, expected, tmp_path):
    report = check_variant(dataclasses.replace(M60_T4, cmdline=cmdline),
                           tmp_path)
    [problem] = report.problems
    assert expected in problem.message
    assert problem.fix.startswith("remove it and add 'intel_iommu=on "
                                  "iommu=pt' to GRUB_CMDLINE_LINUX")


def test_flag_set_but_firmware_iommu_off(tmp_path):
    host = dataclasses.replace(M60_T4, iommu=False, iommu_units=())
    [problem] = check_variant(host, tmp_path).problems
    assert problem.line == (
        'IOMMU is not active: /sys/kernel/iommu_groups is empty although '
        'the kernel has intel_iommu=on: enable VT-d in the BIOS/UEFI setup '
        'and reboot')


def test_amd_firmware_iommu_off(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['amd-host'], iommu=False,
                               iommu_units=())
    [problem] = check_variant(host, tmp_path).problems
    assert problem.fix == 'enable AMD-Vi (IOMMU) in the BIOS/UEFI setup ' \
                          'and reboot'


def test_intel_iommu_on_by_kernel_default_is_a_warning(tmp_path):
    host = dataclasses.replace(M60_T4, cmdline='ro iommu=pt')
    report = check_variant(host, tmp_path)
    assert report.ready
    assert lines(report.warnings) == [
        "the kernel command line lacks intel_iommu=on: the IOMMU is on only "
        "because of this kernel's build default: add 'intel_iommu=on' to "
        'GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (or '
        'grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot']


def test_missing_iommu_pt_is_a_warning(tmp_path):
    host = dataclasses.replace(M60_T4, cmdline='ro intel_iommu=on')
    report = check_variant(host, tmp_path)
    assert report.ready
    assert [w.message for w in report.warnings] == [
        'the kernel command line lacks iommu=pt: host devices pay for IOMMU '
        'translation']


def test_unknown_cpu_vendor_names_both_flags(tmp_path):
    host = dataclasses.replace(M60_T4, cpu='', cmdline='ro', iommu=False,
                               iommu_units=())
    [problem] = check_variant(host, tmp_path).problems
    assert 'lacks intel_iommu=on (Intel) or amd_iommu=on (AMD)' \
        in problem.message


# vfio-pci ------------------------------------------------------------------

def test_vfio_pci_not_available(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['no-gpu'], vfio=None)
    report = check_variant(host, tmp_path)
    [problem] = only(report.problems, 'vfio-pci')
    assert problem.line == (
        'the vfio-pci kernel module is not available for 5.15.0-91-generic '
        '(no /sys/bus/pci/drivers/vfio-pci, not in modules.dep or '
        "modules.builtin): install the kernel's extra modules (e.g. "
        'linux-modules-extra-5.15.0-91-generic on Ubuntu) and run '
        "'modprobe vfio-pci'")


# IOMMU groups --------------------------------------------------------------

def test_gpu_sharing_its_group_with_a_host_nic(tmp_path):
    host = M60_T4.add(Dev('0000:82:00.0', '8086:1521', 0x020000, '', 'igb',
                          41, 1))
    [problem] = check_variant(host, tmp_path).problems
    assert problem.subject == '0000:81:01.0'
    assert problem.line == (
        'GPU 0000:81:01.0 (Tesla T4) shares IOMMU group 41 with '
        '0000:82:00.0 Ethernet controller [8086:1521] held by igb, which is '
        'not passed through: move the GPU to a slot with its own IOMMU '
        'group (check the ACS setting in the BIOS), or bind 0000:82:00.0 to '
        'vfio-pci as well')


@pytest.mark.parametrize('peer', [
    Dev('0000:80:03.0', '8086:2031', 0x060400, '', 'pcieport', 41, 1),
    Dev('0000:82:00.0', '8086:1521', 0x020000, '', 'vfio-pci', 41, 1),
    Dev('0000:82:00.0', '8086:1521', 0x020000, '', 'pci-stub', 41, 1),
    Dev('0000:82:00.0', '8086:1521', 0x020000, '', None, 41, 1),
])
def test_group_peers_the_kernel_accepts(peer, tmp_path):
    host = dataclasses.replace(M60_T4, devices=tuple(
        d for d in M60_T4.devices if d.address != peer.address) + (peer,))
    assert check_variant(host, tmp_path).findings == []


def test_two_gpus_in_one_group_warn_once(tmp_path):
    host = M60_T4.replace_device('0000:81:01.0', group=40)
    report = check_variant(host, tmp_path)
    assert report.ready
    [warning] = report.warnings
    assert warning.message == (
        'GPUs 0000:81:00.0 and 0000:81:01.0 share IOMMU group 40: nova may '
        'give them to two servers, and the second one fails to start')


def test_gpu_without_group_while_iommu_is_on(tmp_path):
    host = M60_T4.replace_device('0000:81:01.0', group=None)
    [problem] = check_variant(host, tmp_path).problems
    assert problem.message == ('GPU 0000:81:01.0 (Tesla T4) is in no IOMMU '
                               'group although the IOMMU is active')


# other GPU kinds -------------------------------------------------------------

def test_sriov_gpu_and_accelerator_and_unbound_gpu(tmp_path):
    host = fakehost.HOSTS['no-gpu'].add(
        fakehost.A100_PF,
        Dev('0000:42:00.0', '1002:74a1', 0x120000, '1002:74a1', None, 61, 0))
    report = check_variant(host, tmp_path)
    gpus = inventory.passthrough_gpus(report.gpus)
    assert [(g.name, g.device.nova_device_type) for g in gpus] == [
        ('A100 PCIe 80GB', 'type-PF'), ('Instinct MI300X', 'type-PCI')]
    assert readiness.gpu_status(gpus[1]).startswith('free: no driver')
    assert only(report.problems, 'gpu-driver') == []


def test_amdgpu_held_gpu(tmp_path):
    host = fakehost.HOSTS['amd-host'].replace_device('0000:c1:00.0',
                                                     driver='amdgpu')
    report = check_variant(host, tmp_path)
    assert report.ready
    [warning] = report.warnings
    assert warning.message.startswith('GPU 0000:c1:00.0 (Instinct MI210) is '
                                      'on host driver amdgpu: libvirt')
    assert "'vfio-pci.ids=1002:740f'" in warning.fix


def test_finding_as_dict_and_line():
    finding = readiness.Finding('problem', 'gpu', 'x', 'bad', 'fix it')
    assert finding.line == 'bad: fix it'
    assert readiness.Finding('warning', 'gpu', 'x', 'just so').line == \
        'just so'
    assert finding.as_dict() == {'severity': 'problem', 'check': 'gpu',
                                 'subject': 'x', 'message': 'bad',
                                 'fix': 'fix it'}


# a sysfs Linux never writes -------------------------------------------------

def test_a_gpu_sysfs_cannot_describe_is_a_problem_not_ready(tmp_path):
    root = fakehost.build(M60_T4, tmp_path / 'host')
    (tmp_path / 'host/sys/bus/pci/devices/0000:81:01.0/vendor').write_text('')
    report = readiness.check_host(sysfs.read_host(root))
    assert not report.ready
    [problem] = report.problems
    assert (problem.check, problem.subject) == (
        'sysfs', 'sys/bus/pci/devices/0000:81:01.0/vendor')
    assert problem.line == (
        'sys/bus/pci/devices/0000:81:01.0/vendor is empty, not a PCI id like '
        '0x10de: Linux never writes that there: check the copy given as '
        '--root (keep its files and symlinks as they are), or the kernel log '
        'of this host')


def test_no_gpu_is_not_claimed_when_sysfs_could_not_be_read(tmp_path):
    root = fakehost.build(fakehost.HOSTS['iommu-off'], tmp_path / 'host')
    (tmp_path / 'host/sys/bus/pci/devices/0000:81:00.0/class').write_text(
        'VGA\n')
    report = readiness.check_host(sysfs.read_host(root))
    assert [f.check for f in report.problems] == ['sysfs', 'iommu']
