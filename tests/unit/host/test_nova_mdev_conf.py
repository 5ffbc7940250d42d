"""gpu host check --nova-conf: [devices] and [mdev_<type>] (vGPU)."""

import dataclasses

import pytest

from osc_gpu.host import nova_mdev_conf
from osc_gpu.host import sysfs
from osc_gpu.rules import nova_conf
from tests.unit.host import fakehost


def lint(text):
    return nova_mdev_conf.read_mdev_options(nova_conf.parse_ini(text))


def check(text, name='m60-vgpu', host=None, tmp_path=None):
    facts = (sysfs.read_host(fakehost.fixture_root(name)) if host is None
             else sysfs.read_host(fakehost.build(host, tmp_path / 'h')))
    return nova_mdev_conf.check_mdev_conf(nova_conf.parse_ini(text), facts)


def lines(findings, severity=None):
    return [f.line for f in findings
            if severity is None or f.severity == severity]


M60 = ('[devices]\nenabled_mdev_types = nvidia-11\n[mdev_nvidia-11]\n'
       'device_addresses = 0000:84:00.0,0000:85:00.0\n')


# the file alone --------------------------------------------------------------

def test_a_good_file_has_no_finding():
    options = lint(M60)
    assert options.findings == []
    assert options.layout.by_address == {'0000:84:00.0': 'nvidia-11',
                                         '0000:85:00.0': 'nvidia-11'}


def test_no_vgpu_options_no_finding():
    options = lint('[pci]\nalias = {}\n')
    assert options.types == () and options.findings == []


def test_old_names_are_read_and_named():
    options = lint('[devices]\nenabled_vgpu_types = nvidia-11\n'
                   '[vgpu_nvidia-11]\ndevice_addresses = 0000:84:00.0\n')
    assert options.layout.by_address == {'0000:84:00.0': 'nvidia-11'}
    assert lines(options.findings) == [
        'line 2 [devices] enabled_vgpu_types is an old option name: rename '
        'it to [devices] enabled_mdev_types',
        'line 4 [vgpu_nvidia-11] device_addresses is in the old group name: '
        'move it to [mdev_nvidia-11]']


def test_new_names_win_as_in_oslo_config():
    options = lint('[devices]\nenabled_mdev_types = a\nenabled_vgpu_types = '
                   'b\n[mdev_a]\ndevice_addresses = 0000:84:00.0\n'
                   '[vgpu_a]\ndevice_addresses = 0000:85:00.0\n')
    assert options.types == ('a',)
    assert options.groups['a'].addresses == ('0000:84:00.0',)


def test_sections_compare_in_any_case():
    options = lint('[DEVICES]\nenabled_mdev_types = Nv-11\n[MDEV_nv-11]\n'
                   'device_addresses = 0000:84:00.0\n')
    assert options.findings == []
    assert options.groups['Nv-11'].addresses == ('0000:84:00.0',)


def test_mdev_class_and_max_instances_in_the_old_group_are_ignored():
    options = lint('[devices]\nenabled_mdev_types = a\n[vgpu_a]\n'
                   'mdev_class = CUSTOM_A\nmax_instances = 4\n')
    assert lines(options.problems) == [
        'line 4 [vgpu_a] mdev_class is ignored: nova reads only '
        'device_addresses from [vgpu_a]: move it to [mdev_a]',
        'line 5 [vgpu_a] max_instances is ignored: nova reads only '
        'device_addresses from [vgpu_a]: move it to [mdev_a]']
    assert options.groups['a'].mdev_class == 'VGPU'


@pytest.mark.parametrize('text, message', [
    ('[mdev_a]\nmdev_class = custom_a\n',
     "line 4 [mdev_a] mdev_class 'custom_a' is neither VGPU nor CUSTOM_ "
     'followed by upper-case letters, digits and _: nova-compute does not '
     'start: write VGPU or a class like CUSTOM_NVIDIA_11'),
    ('[mdev_a]\nmax_instances = 0\n',
     "line 4 [mdev_a] max_instances '0' must be 1 or more: nova-compute "
     'does not start: write a number like 24'),
    ('[mdev_a]\nmax_instances = +4\n',
     "line 4 [mdev_a] max_instances '+4' is not a whole number written in "
     'plain digits: nova-compute does not start: write a number like 24'),
    ('[mdev_a]\ndevice_addresses = 0000:84:00.0, 0000:AF:00.0\n',
     "line 4 [mdev_a] device_addresses '0000:AF:00.0' is not written as "
     'sysfs and libvirt write it: nova compares it with 0000:af:00.0, as '
     'text: nova-compute stops or never gives a to that GPU: write the '
     'address as sysfs lists it, e.g. 0000:84:00.0 (ls /sys/class/mdev_bus)'),
    ('[mdev_a]\ndevice_addresses = $addresses\n',
     "line 4 [mdev_a] device_addresses holds '$addresses', a reference to "
     'another option, which oslo.config puts in its place: write $$ for a '
     'literal $'),
    ('[mdev_a]\ndevice_addresses = 0000:84:00.0,0000:84:00.0\n',
     'line 4 [mdev_a] device_addresses gives 0000:84:00.0 to a twice: '
     'nova-compute does not start (InvalidLibvirtMdevConfig): give each GPU '
     'one type'),
])
def test_what_stops_nova_compute(text, message):
    options = lint('[devices]\nenabled_mdev_types = a\n' + text)
    assert lines(options.problems) == [message]


def test_the_same_gpu_in_two_types():
    options = lint('[devices]\nenabled_mdev_types = a, b\n[mdev_a]\n'
                   'device_addresses = 0000:84:00.0\n[mdev_b]\n'
                   'device_addresses = 0000:84:00.0\n')
    assert lines(options.problems) == [
        'line 6 [mdev_b] device_addresses gives 0000:84:00.0 to a and b: '
        'nova-compute does not start (InvalidLibvirtMdevConfig): give each '
        'GPU one type']
    assert options.layout.refusal


def test_a_second_type_without_addresses_is_dropped_by_nova():
    options = lint('[devices]\nenabled_mdev_types = nvidia-11, nvidia-12\n')
    assert lines(options.problems) == [
        'line 2 [devices] enabled_mdev_types enables nvidia-12 without '
        'device_addresses, but nvidia-11 has none either and comes first: '
        'nova makes nvidia-11 the type of every GPU not listed and drops '
        'nvidia-12: give [mdev_nvidia-12] device_addresses (or remove the '
        'type)']


def test_an_empty_type_and_a_repeated_one():
    options = lint('[devices]\nenabled_mdev_types = a, , a\n')
    assert lines(options.findings) == [
        'line 2 [devices] enabled_mdev_types has an empty item: nova would '
        'enable a type named "" that no device offers: remove the extra '
        'comma',
        'line 2 [devices] enabled_mdev_types lists a 2 times: list each type '
        'once',
        'line 2 [devices] enabled_mdev_types enables \'\' without '
        'device_addresses, but a has none either and comes first: nova makes '
        "a the type of every GPU not listed and drops '': give [mdev_] "
        'device_addresses (or remove the type)']


def test_what_nova_ignores_is_a_warning():
    options = lint('[devices]\nenabled_mdev_types = a\nmdev_types = b\n'
                   '[mdev_a]\ndevice_address = 0000:84:00.0\n[mdev_c]\n'
                   'device_addresses = 0000:85:00.0\n')
    assert options.problems == []
    assert lines(options.findings) == [
        'line 3 [devices] mdev_types is not a nova option: nova reads only '
        'enabled_mdev_types from [devices]: check the spelling',
        'line 5 [mdev_a] device_address is not an option nova reads there '
        '(known: device_addresses, mdev_class, max_instances): check the '
        'spelling',
        'line 7 [mdev_c] device_addresses is ignored: [mdev_c] is for a type '
        'enabled_mdev_types does not list: add the type there, or remove the '
        'section']


def test_values_are_echoed_escaped():
    options = lint('[devices]\nenabled_mdev_types = a\n[mdev_a]\n'
                   'mdev_class = \x1b[2J\n')
    assert "'\\x1b[2J'" in options.problems[0].message


# against the host ---------------------------------------------------------

def test_the_generated_m60_lines_fit_the_host():
    summary, findings = check(M60)
    assert findings == []
    assert summary == {'enabled_mdev_types': ['nvidia-11'],
                       'default_mdev_type': None,
                       'mdev_device_addresses': {
                           '0000:84:00.0': 'nvidia-11',
                           '0000:85:00.0': 'nvidia-11'}}


def test_a_type_this_host_does_not_offer():
    _, findings = check('[devices]\nenabled_mdev_types = nvidia-558\n')
    assert lines(findings) == [
        'line 2 [devices] enabled_mdev_types enables nvidia-558, which no '
        'device of this host offers (types here: nvidia-11, nvidia-12, '
        'nvidia-13, nvidia-14, nvidia-15, nvidia-16, nvidia-17, nvidia-18): '
        'enable a type this host offers']


def test_addresses_that_do_not_offer_the_type():
    _, findings = check(
        '[devices]\nenabled_mdev_types = nvidia-12\n[mdev_nvidia-12]\n'
        'device_addresses = 0000:84:00.0,0000:99:00.0,0000:02:00.0\n')
    assert lines(findings, 'problem') == [
        'line 4 [mdev_nvidia-12] device_addresses gives nvidia-12 to '
        '0000:99:00.0: no such device: nova gives that device no vGPU '
        'inventory: list only devices that offer the type (ls '
        '/sys/class/mdev_bus/*/mdev_supported_types/nvidia-12)',
        'line 4 [mdev_nvidia-12] device_addresses gives nvidia-12 to '
        '0000:02:00.0, which offers no mdev types: nova gives that device no '
        'vGPU inventory: list only devices that offer the type (ls '
        '/sys/class/mdev_bus/*/mdev_supported_types/nvidia-12)']
    # 84:00.0 runs nvidia-11; 85:00.0 is listed nowhere, and there is no
    # default type.
    assert lines(findings, 'warning')[1:] == [
        '0000:85:00.0 offer mdev types but nova gives them no type: no '
        'enabled type lists them: list them in device_addresses of a type '
        'they offer, if they are for vGPUs']


def test_no_mdev_types_on_the_host_names_the_likely_cause(tmp_path):
    _, findings = check(M60, 'l4-variant')
    [problem] = findings
    assert problem.message == (
        'line 2 [devices] enabled_mdev_types enables nvidia-11, but no '
        'device of this host offers mdev types (/sys/class/mdev_bus is '
        'empty): nova offers no vGPU here')
    assert problem.fix.startswith(
        "0000:3d:00.4 and the other VFs are on NVIDIA's kernel variant "
        'driver, which makes no mdevs: configure them as PCI passthrough')
    host = dataclasses.replace(fakehost.HOSTS['m60-t4'], modules=('nvidia',))
    _, findings = check(M60, host=host, tmp_path=tmp_path)
    assert findings[0].fix.startswith(
        "load NVIDIA's vGPU manager (nvidia_vgpu_vfio is not in "
        '/proc/modules)')


def test_sriov_vfs_without_max_instances():
    vfs = ','.join(f'0000:41:00.{n}' for n in range(4, 8))
    _, findings = check('[devices]\nenabled_mdev_types = nvidia-703\n'
                        f'[mdev_nvidia-703]\ndevice_addresses = {vfs}\n',
                        'a16-vgpu')
    assert lines(findings) == [
        '0000:42:00.4, 0000:42:00.5, 0000:42:00.6, 0000:42:00.7 offer mdev '
        'types but nova gives them no type: no enabled type lists them: list '
        'them in device_addresses of a type they offer, if they are for '
        'vGPUs',
        'nvidia-703 is on SR-IOV VFs (0000:41:00.4, 0000:41:00.5, '
        '0000:41:00.6 and 1 more) and has no max_instances: each VF reports '
        'one vGPU, more than the GPU may hold: set [mdev_nvidia-703] '
        'max_instances to what the GPUs hold (nova 2024.1 and later; '
        "'openstack gpu host config' computes it)"]


def test_a_default_type_some_gpus_do_not_offer(tmp_path):
    host = fakehost.HOSTS['m60-vgpu'].replace_device(
        '0000:85:00.0', mdev_types=fakehost.M60_TYPES[1:])
    _, findings = check('[devices]\nenabled_mdev_types = nvidia-11\n',
                        host=host, tmp_path=tmp_path)
    assert lines(findings) == [
        '0000:85:00.0 offer mdev types but nova gives them no vGPU: they do '
        'not offer nvidia-11, the type of every device not listed: list them '
        'in device_addresses of a type they offer, if they are for vGPUs']


def test_no_host_check_when_the_file_alone_fails():
    summary, findings = check('[devices]\nenabled_mdev_types = a, b\n'
                              '[mdev_a]\ndevice_addresses = 0000:84:00.0\n'
                              '[mdev_b]\ndevice_addresses = 0000:84:00.0\n')
    assert len(findings) == 1 and summary['enabled_mdev_types'] == []


def test_a_type_the_gpu_has_no_room_for_while_other_mdevs_exist():
    _, findings = check('[devices]\nenabled_mdev_types = nvidia-12\n'
                        '[mdev_nvidia-12]\ndevice_addresses = 0000:84:00.0,'
                        '0000:85:00.0\n')
    assert lines(findings) == [
        'line 4 [mdev_nvidia-12] device_addresses gives 0000:84:00.0 '
        'nvidia-12, but it has 1 mdev of nvidia-11 and no room for nvidia-12:'
        ' nova offers it no vGPU until they are gone: move the servers using '
        "them first (nova's guide: new types on new computes, then rebuild)"]
