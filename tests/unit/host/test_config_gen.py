import dataclasses
import json

import pytest

from osc_gpu.host import config_gen
from osc_gpu.host import inventory
from osc_gpu.host import nova_pci_conf
from osc_gpu.host import sysfs
from tests.unit.host import fakehost


def facts_of(name):
    return sysfs.read_host(fakehost.fixture_root(name))


def build(name, **kwargs):
    host = facts_of(name)
    return config_gen.build_host_config(host, inventory.list_gpus(host),
                                        **kwargs)


# --alias-name --------------------------------------------------------------

@pytest.mark.parametrize('values, message', [
    (['M60=a', 'M60=b'], "--alias-name 'M60=a' and 'M60=b' both name the "
                         'alias of M60: give each model one name'),
    (['m60=a', ' M60 = b'], "--alias-name 'm60=a' and ' M60 = b' both name "
                            'the alias of M60: give each model one name'),
    (['P4=x\x1b[2J'],
     "invalid --alias-name 'P4=x\\x1b[2J': alias name must be printable "
     'characters only'),
])
def test_parse_alias_names_refuses_lost_or_raw_names(values, message):
    with pytest.raises(config_gen.ConfigError) as exc:
        config_gen.parse_alias_names(values)
    assert str(exc.value) == message


def test_the_same_alias_name_twice_is_fine():
    assert config_gen.parse_alias_names(['M60=a', 'M60=a']) == {'M60': 'a'}


def test_two_names_for_one_model_given_two_ways():
    with pytest.raises(config_gen.ConfigError) as exc:
        build('m60-t4', alias_names={'M60': 'a', '10de:13f2': 'b'})
    assert str(exc.value) == ("--alias-name 'M60=a' and '10de:13f2=b' both "
                              'name the alias of Tesla M60 (10de:13f2): give '
                              'each model one name')


def test_an_unknown_model_is_echoed_escaped():
    with pytest.raises(config_gen.ConfigError) as exc:
        build('m60-t4', alias_names={'P4\x1b': 'x'})
    assert str(exc.value).startswith(
        "invalid --alias-name 'P4\\x1b=x': no 'P4\\x1b' GPU on this host")


def test_empty_numa_policy_is_refused_not_ignored():
    with pytest.raises(config_gen.ConfigError) as exc:
        build('m60-t4', numa_policy='')
    assert str(exc.value) == ("invalid --numa-policy '': use one of "
                              'required, legacy, preferred, socket')


def test_no_config_from_a_sysfs_linux_never_writes(tmp_path):
    root = fakehost.build(fakehost.HOSTS['m60-t4'], tmp_path / 'host')
    (tmp_path / 'host/sys/bus/pci/devices/0000:81:01.0/vendor').write_bytes(
        b'\xff\n')
    (tmp_path / 'host/sys/bus/pci/devices/weird').mkdir()
    facts = sysfs.read_host(root)
    with pytest.raises(config_gen.ConfigError) as exc:
        config_gen.build_host_config(facts, inventory.list_gpus(facts))
    assert str(exc.value) == (
        "cannot read this host: sys/bus/pci/devices/0000:81:01.0/vendor holds "
        "'\\xff', not a PCI id like 0x10de (and 1 more); run 'openstack gpu "
        "host check' for the details")


def test_parse_alias_names():
    assert config_gen.parse_alias_names(['P4=gpu-p4', ' t4 = T4x ']) == {
        'P4': 'gpu-p4', 't4': 'T4x'}
    assert config_gen.parse_alias_names(None) == {}


@pytest.mark.parametrize('value, message', [
    ('P4', "invalid --alias-name 'P4': expected MODEL=NAME, e.g. "
           '--alias-name P4=gpu-p4 or --alias-name 10de:1bb3=p4'),
    ('=x', "invalid --alias-name '=x': expected MODEL=NAME"),
    ('P4=', "invalid --alias-name 'P4=': expected MODEL=NAME"),
    ('P4=a:b', "invalid --alias-name 'P4=a:b': alias name must not contain "
               '":", "," or spaces'),
])
def test_parse_alias_names_refuses(value, message):
    with pytest.raises(config_gen.ConfigError) as exc:
        config_gen.parse_alias_names([value])
    assert str(exc.value).startswith(message)


# building ------------------------------------------------------------------

def test_p4_host_config():
    config = build('p4-nvidia')
    assert [(m.ids, m.alias, m.device_type, m.addresses)
            for m in config.models] == [
        ('10de:1bb3', 'P4', 'type-PCI', ('0000:81:00.0', '0000:81:01.0'))]
    assert config.device_specs == [{'vendor_id': '10de',
                                    'product_id': '1bb3'}]
    assert config.aliases == [{'name': 'P4', 'vendor_id': '10de',
                               'product_id': '1bb3',
                               'device_type': 'type-PCI'}]
    assert config.kernel_args == ['intel_iommu=on', 'iommu=pt',
                                  'vfio-pci.ids=10de:1bb3']
    assert config.vfio_pci_ids == ['10de:1bb3']
    assert config.modprobe == ['softdep nvidia pre: vfio-pci']
    assert config.notes == []


def test_two_models_with_names_and_numa_policy():
    config = build('m60-t4', alias_names={'t4': 'turing',
                                          '10de:13f2': 'maxwell'},
                   numa_policy='preferred')
    assert [a['name'] for a in config.aliases] == ['maxwell', 'turing']
    assert {a['numa_policy'] for a in config.aliases} == {'preferred'}
    assert config.vfio_pci_ids == ['10de:13f2', '10de:1eb8']
    assert config.modprobe == []


def test_alias_name_by_model_name():
    config = build('m60-t4', alias_names={'Tesla T4': 't4-gpu'})
    assert [a['name'] for a in config.aliases] == ['M60', 't4-gpu']


def test_audio_function_goes_to_vfio_pci_ids_not_device_spec():
    config = build('gpu-with-audio')
    assert config.device_specs == [{'vendor_id': '10de',
                                    'product_id': '2230'}]
    assert config.vfio_pci_ids == ['10de:2230', '10de:1aef']
    assert config.modprobe == ['softdep snd_hda_intel pre: vfio-pci']
    [note] = config.notes
    assert note.startswith('0000:3b:00.1 Audio device [10de:1aef] goes with '
                           'GPU 0000:3b:00.0 (same card, same IOMMU group)')


def test_amd_host_gets_amd_flags():
    config = build('amd-host')
    assert config.kernel_args == ['amd_iommu=on', 'iommu=pt',
                                  'vfio-pci.ids=1002:740f']
    assert config.aliases[0]['name'] == 'MI210'


def test_unknown_cpu_vendor_is_noted(tmp_path):
    host = dataclasses.replace(fakehost.HOSTS['m60-t4'], cpu='')
    facts = sysfs.read_host(fakehost.build(host, tmp_path))
    config = config_gen.build_host_config(facts, inventory.list_gpus(facts))
    assert config.notes == ['CPU vendor unknown (no vendor_id in '
                            '/proc/cpuinfo): on AMD use amd_iommu=on instead '
                            'of intel_iommu=on']


def test_sriov_gpu_gets_type_pf(tmp_path):
    host = fakehost.HOSTS['no-gpu'].add(fakehost.A100_PF)
    facts = sysfs.read_host(fakehost.build(host, tmp_path))
    config = config_gen.build_host_config(facts, inventory.list_gpus(facts))
    assert config.aliases == [{'name': 'A100-80G', 'vendor_id': '10de',
                               'product_id': '20b5',
                               'device_type': 'type-PF'}]


def test_same_model_as_the_console_is_selected_by_address(tmp_path):
    host = fakehost.HOSTS['m60-t4'].add(fakehost.Dev(
        '0000:05:00.0', '10de:13f2', 0x030000, '', 'nvidia', 50, 0,
        boot_vga=True))
    facts = sysfs.read_host(fakehost.build(host, tmp_path))
    config = config_gen.build_host_config(facts, inventory.list_gpus(facts))
    assert config.device_specs == [
        {'vendor_id': '10de', 'product_id': '13f2',
         'address': '0000:81:00.0'},
        {'vendor_id': '10de', 'product_id': '1eb8'}]


def test_bmc_display_is_never_in_vfio_pci_ids():
    # The iLO's Matrox has no boot_vga file: still the host's console.
    config = build('bmc-vga')
    assert config.vfio_pci_ids == ['10de:1eb8']
    assert config.device_specs == [{'vendor_id': '10de',
                                    'product_id': '1eb8'}]
    assert config.modprobe == []


def test_unknown_model_in_alias_names():
    with pytest.raises(config_gen.ConfigError) as exc:
        build('m60-t4', alias_names={'V100': 'volta'})
    assert str(exc.value) == ("invalid --alias-name 'V100=volta': no V100 "
                              'GPU on this host; models here: M60 '
                              '(10de:13f2), T4 (10de:1eb8)')


def test_no_gpu_host():
    with pytest.raises(config_gen.ConfigError, match='no GPU to pass through'):
        build('no-gpu')


def test_bad_numa_policy():
    with pytest.raises(config_gen.ConfigError) as exc:
        build('m60-t4', numa_policy='strict')
    assert str(exc.value) == ("invalid --numa-policy 'strict': use one of "
                              'required, legacy, preferred, socket')


def test_one_name_for_two_models_is_refused_with_pci_in_placement():
    # The fragment turns pci_in_placement on: nova then allows one alias
    # line per name.
    with pytest.raises(config_gen.ConfigError) as exc:
        build('m60-t4', alias_names={'M60': 'gpu', 'T4': 'gpu'})
    assert str(exc.value) == (
        "cannot generate the aliases: 2 aliases are named 'gpu': with "
        'pci_in_placement an alias name may have only one line, rename the '
        'others (choose other --alias-name values)')


def test_one_name_for_models_of_different_device_types(tmp_path):
    host = fakehost.HOSTS['m60-t4'].replace_device('0000:81:01.0',
                                                   sriov_totalvfs=4)
    facts = sysfs.read_host(fakehost.build(host, tmp_path))
    with pytest.raises(config_gen.ConfigError) as exc:
        config_gen.build_host_config(facts, inventory.list_gpus(facts),
                                     {'M60': 'gpu', 'T4': 'gpu'})
    assert str(exc.value).startswith(
        "cannot generate the aliases: aliases named 'gpu' disagree on "
        'device_type')


# rendering -----------------------------------------------------------------

def test_rendered_fragment():
    text = config_gen.render_nova_conf(build('gpu-with-audio'))
    assert (
        '[pci]\n'
        'device_spec = {"vendor_id": "10de", "product_id": "2230"}\n'
        'alias = {"name": "RTXA6000", "vendor_id": "10de", '
        '"product_id": "2230", "device_type": "type-PCI"}\n') in text
    assert '#   intel_iommu=on iommu=pt vfio-pci.ids=10de:2230,10de:1aef\n' \
        in text
    assert '#   softdep snd_hda_intel pre: vfio-pci\n' in text
    assert '# Note: 0000:3b:00.1 Audio device [10de:1aef] goes with GPU' \
        in text
    comments = [line for line in text.splitlines() if line.startswith('#')]
    assert max(len(line) for line in comments) <= 79


@pytest.mark.parametrize('name', ['p4-nvidia', 'p4-vfio', 'iommu-off',
                                  'gpu-with-audio', 'amd-host', 'm60-t4'])
def test_generated_config_passes_the_nova_conf_check(name):
    facts = facts_of(name)
    gpus = inventory.list_gpus(facts)
    text = config_gen.render_nova_conf(
        config_gen.build_host_config(facts, gpus, numa_policy='socket'))
    conf = nova_pci_conf.parse_ini(text)
    summary, findings = nova_pci_conf.check_nova_conf(
        conf, facts, inventory.passthrough_gpus(gpus))
    assert findings == []
    assert conf.errors == ()
    for option in conf.values('pci', 'alias'):
        assert json.loads(option.value)['numa_policy'] == 'socket'


def test_fragment_turns_on_pci_in_placement_and_says_where_it_goes():
    text = config_gen.render_nova_conf(build('m60-t4'))
    pci = text[text.index('\n[pci]\n'):text.index('\n[filter_scheduler]\n')]
    assert pci.endswith(
        '# report_in_placement: every nova-compute (nova Zed and later); '
        'once on, it\n# cannot be turned off.\n'
        'report_in_placement = true\n')
    assert text.endswith(
        '[filter_scheduler]\n'
        '# pci_in_placement: nova-api, nova-scheduler and every '
        'nova-conductor (nova\n# 2023.1 Antelope and later); turn it on '
        'once every compute reports to\n# placement.\n'
        'pci_in_placement = true\n')
    conf = nova_pci_conf.parse_ini(text)
    assert conf.flag('pci', 'report_in_placement')
    assert conf.flag('filter_scheduler', 'pci_in_placement')


def test_audio_function_follows_its_gpu_while_the_iommu_is_off(tmp_path):
    host = fakehost.HOSTS['iommu-off'].add(fakehost.Dev(
        '0000:81:00.1', '10de:10f0', 0x040300, '10de:11d8', 'snd_hda_intel',
        None, 1))
    facts = sysfs.read_host(fakehost.build(host, tmp_path))
    config = config_gen.build_host_config(facts, inventory.list_gpus(facts))
    assert config.vfio_pci_ids == ['10de:1bb3', '10de:10f0']
    assert config.modprobe == ['softdep nouveau pre: vfio-pci',
                               'softdep snd_hda_intel pre: vfio-pci']


def test_a_dollar_in_an_alias_name_survives_oslo_config():
    # "gpu$x" written as is would make oslo.config look up an option "x".
    config = build('p4-vfio', alias_names={'P4': 'gpu$x'})
    text = config_gen.render_nova_conf(config)
    assert 'gpu\\u0024x' in text
    conf = nova_pci_conf.parse_ini(text)
    facts = facts_of('p4-vfio')
    summary, findings = nova_pci_conf.check_nova_conf(
        conf, facts, inventory.passthrough_gpus(inventory.list_gpus(facts)))
    assert findings == []
    assert summary['aliases'] == ['gpu$x']
