"""``openstack gpu host check|config`` through the real OSC entry point.

No clouds.yaml, no OS_* variables: these commands must not need a cloud.
"""

import json
import os
import resource
import signal
import subprocess
import sys

import pytest
import yaml

from tests.unit import fakecloud
from tests.unit.host import fakehost

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


# What the host commands change in the environment, so OSC reads no
# cloud: recorded here so each test gets its own back.
CLOUD_VARIABLES = ('OS_CLOUD', 'OS_CLIENT_CONFIG_FILE',
                   'OS_CLIENT_SECURE_FILE')


@pytest.fixture
def openstack(capsys, monkeypatch, tmp_path):
    for name in CLOUD_VARIABLES:
        monkeypatch.setenv(name, '')
    for name in list(os.environ):
        if name.startswith('OS_'):
            monkeypatch.delenv(name)
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.chdir(tmp_path)

    def run(*argv):
        code, out, err = fakecloud.run(argv, capsys)
        assert 'Traceback' not in err
        return code, out, err
    return run


def root(name):
    return fakehost.fixture_root(name)


def error_lines(err):
    # Only our lines: other plugins may log their own noise.
    return [line for line in err.splitlines()
            if 'gpu' in line or '--' in line or 'host' in line]


# host check ------------------------------------------------------------------

def test_check_json_of_a_ready_host(openstack):
    code, out, err = openstack('gpu', 'host', 'check', '--root',
                               root('m60-t4'), '-f', 'json')
    assert code == 0
    data = json.loads(out)
    assert data['ready'] is True
    assert data['problems'] == [] and data['warnings'] == []
    assert data['iommu']['active'] is True
    assert data['vfio_pci'] == {'loaded': True, 'available': True,
                                'source': 'sys/bus/pci/drivers/vfio-pci'}
    assert data['nova_conf'] is None
    gpus = {g['address']: g for g in data['gpus']}
    assert gpus['0000:81:01.0'] == {
        'address': '0000:81:01.0', 'vendor_id': '10de', 'product_id': '1eb8',
        'model': 'Tesla T4', 'alias': 'T4', 'subsystem': '10de:12a2',
        'class': '0302', 'driver': 'vfio-pci', 'numa_node': 1,
        'iommu_group': '41', 'iommu_group_peers': [], 'functions': [],
        'device_type': 'type-PCI', 'role': 'passthrough',
        'status': 'ready: bound to vfio-pci'}
    assert gpus['0000:02:00.0']['role'] == 'host console'
    assert 'not ready' not in err


def test_check_json_of_a_host_with_gpus_on_the_nvidia_driver(openstack):
    code, out, err = openstack('gpu', 'host', 'check', '--root',
                               root('p4-nvidia'), '-f', 'json')
    assert code == 0
    data = json.loads(out)
    assert data['ready'] is True and data['problems'] == []
    assert [(w['check'], w['subject']) for w in data['warnings']] == [
        ('vfio-pci', 'vfio-pci'), ('gpu-driver', '0000:81:00.0'),
        ('gpu-driver', '0000:81:01.0')]
    assert data['warnings'][1]['message'] == (
        'GPU 0000:81:00.0 (Tesla P4) is on host driver nvidia: libvirt '
        'unbinds it and binds vfio-pci when a server starts, which fails '
        'while nvidia is using it')
    assert data['gpus'][1]['status'] == (
        'on host driver nvidia; libvirt moves it to vfio-pci when a server '
        'starts')
    assert 'not ready' not in err


def test_check_json_of_a_host_that_is_not_ready(openstack, tmp_path):
    conf = tmp_path / 'nova.conf'
    conf.write_text('[pci]\n'
                    'device_spec = {"vendor_id": "10de", "product_id": '
                    '"1bb3", "managed": "no"}\n'
                    'alias = {"name": "P4", "vendor_id": "10de", '
                    '"product_id": "1bb3", "device_type": "type-PCI"}\n')
    code, out, err = openstack('gpu', 'host', 'check', '--root',
                               root('p4-nvidia'), '--nova-conf', str(conf),
                               '-f', 'json')
    assert code == 1
    data = json.loads(out)
    assert data['ready'] is False
    assert [p['subject'] for p in data['problems']] == [
        '0000:81:00.0', '0000:81:01.0']
    assert data['problems'][0]['message'] == (
        'GPU 0000:81:00.0 (Tesla P4) is held by host driver nvidia but line '
        '2 [pci] device_spec says "managed": "no", so libvirt will not bind '
        'it to vfio-pci when a server starts')
    assert data['gpus'][1]['status'] == (
        'held by host driver nvidia, and device_spec says "managed": "no"')
    assert 'host is not ready for GPU passthrough: 2 problems, each listed ' \
        'with its fix' in err


def test_check_table_shows_gpus_and_one_problem_per_line(openstack):
    code, out, err = openstack('gpu', 'host', 'check', '--root',
                               root('gpu-with-audio'))
    assert code == 1
    assert ('0000:3b:00.0 [10de:2230] RTX A6000: ready: bound to vfio-pci; '
            'NUMA node 0, IOMMU group 45 with 0000:3b:00.1, nova type-PCI'
            in out)
    assert ('0000:02:00.0 [1a03:2000] ASPEED Graphics Family: host console '
            '(BMC display), not for passthrough' in out)
    problem_rows = [line for line in out.splitlines()
                    if 'snd_hda_intel' in line]
    assert len(problem_rows) == 1
    assert 'host is not ready for GPU passthrough: 1 problem,' in err


def test_check_with_nova_conf(openstack, tmp_path):
    conf = tmp_path / 'nova.conf'
    conf.write_text('[pci]\n'
                    'passthrough_whitelist = {"vendor_id": "10de", '
                    '"product_id": "1bb3"}\n'
                    'alias = {"name": "P4", "vendor_id": "0x10de", '
                    '"product_id": "1bb3"}\n')
    code, out, _ = openstack('gpu', 'host', 'check', '--root',
                             root('p4-vfio'), '--nova-conf', str(conf),
                             '-f', 'yaml')
    assert code == 1
    data = yaml.safe_load(out)
    assert data['nova_conf'] == {'path': str(conf), 'aliases': [],
                                 'device_specs': 1,
                                 'pci_in_placement': False,
                                 'enabled_mdev_types': [],
                                 'default_mdev_type': None,
                                 'mdev_device_addresses': {}}
    messages = [p['message'] for p in data['problems']]
    assert ("line 3 [pci] alias: vendor_id '0x10de': vendor_id must be 4 hex "
            'digits without 0x, e.g. "10de"') in [
        m.replace(" 'P4'", '') for m in messages]
    assert [w['fix'] for w in data['warnings']
            if w['check'] == 'nova-conf'][0] == \
        'rename it to [pci] device_spec'


def test_generated_config_passes_check_through_the_cli(openstack, tmp_path):
    output = tmp_path / 'nova-pci.conf'
    code, out, err = openstack('gpu', 'host', 'config', '--root',
                               root('m60-t4'), '--output', str(output))
    assert (code, out) == (0, '')
    assert f'wrote {output}' in err
    code, out, _ = openstack('gpu', 'host', 'check', '--root',
                             root('m60-t4'), '--nova-conf', str(output),
                             '-f', 'json')
    assert code == 0
    data = json.loads(out)
    assert data['nova_conf']['aliases'] == ['M60', 'T4']
    assert data['problems'] == [] and data['warnings'] == []


def test_check_vendor_filter(openstack):
    code, out, _ = openstack('gpu', 'host', 'check', '--root',
                             root('amd-host'), '--vendor', '1002', '-f',
                             'json')
    assert code == 0
    assert [g['model'] for g in json.loads(out)['gpus']] == [
        'Instinct MI210']


@pytest.mark.parametrize('argv, message', [
    (['--root', '/nonexistent/host'],
     "--root '/nonexistent/host' is not a directory: give the directory "
     'that holds sys/ and proc/ (default /)'),
    (['--vendor', '0x10de'],
     "invalid --vendor '0x10de': vendor_id must be 4 hex digits without 0x, "
     'e.g. "10de"'),
    (['--nova-conf', '/nonexistent/nova.conf'],
     "--nova-conf '/nonexistent/nova.conf' does not exist: give the path of "
     'a nova.conf, e.g. /etc/nova/nova.conf'),
    (['--no-such-option'], 'unrecognized arguments: --no-such-option'),
    (['--nova-conf', ''], "invalid --nova-conf '': give the path of a "
                          'nova.conf, e.g. /etc/nova/nova.conf'),
    (['--root', '/no\x1b[2Jwhere'],
     "--root '/no\\x1b[2Jwhere' is not a directory"),
    (['--vendor', '10d\x1b'], "invalid --vendor '10d\\x1b': vendor_id"),
    (['--nova-conf', '/no/nova\x1b[2J.conf'],
     "--nova-conf '/no/nova\\x1b[2J.conf' does not exist"),
])
def test_check_refuses_bad_arguments_in_one_line(openstack, argv, message):
    args = ['gpu', 'host', 'check']
    if '--root' not in argv:
        args += ['--root', root('m60-t4')]
    code, out, err = openstack(*args, *argv)
    assert code == 1
    assert out == '' and '\x1b' not in err
    [line] = [line for line in error_lines(err) if message in line]


def test_check_refuses_a_directory_as_nova_conf(openstack, tmp_path):
    code, _, err = openstack('gpu', 'host', 'check', '--root',
                             root('m60-t4'), '--nova-conf', str(tmp_path))
    assert code == 1
    assert f"cannot read --nova-conf '{tmp_path}': Is a directory" in err


# no cloud needed, whatever the environment says about one -----------------

@pytest.mark.parametrize('environment', [
    {'OS_CLOUD': 'nope'},
    {'OS_CLOUD': 'nope', 'OS_REGION_NAME': 'Nope',
     'OS_AUTH_URL': 'http://keystone.invalid/v3'},
    {'OS_CLIENT_CONFIG_FILE': 'broken'},
    {'OS_CLIENT_CONFIG_FILE': 'not-a-mapping', 'OS_CLOUD': 'x'},
    {'OS_CLIENT_SECURE_FILE': 'not-a-mapping'},
])
@pytest.mark.parametrize('command', [
    ['gpu', 'host', 'check', '-c', 'ready', '-f', 'value'],
    ['gpu', 'host', 'config', '-c', 'kernel_args', '-f', 'value'],
])
def test_host_commands_need_no_cloud(openstack, monkeypatch, tmp_path,
                                     environment, command):
    files = {'broken': 'clouds: [\n', 'not-a-mapping': '- a\n'}
    for name, value in environment.items():
        if value in files:
            path = tmp_path / f'{value}.yaml'
            path.write_text(files[value])
            value = str(path)
        monkeypatch.setenv(name, value)
    code, out, err = openstack(*command, '--root', root('m60-t4'))
    assert (code, err) == (0, '')
    assert out.strip() == 'True' or 'vfio-pci.ids=10de:13f2,10de:1eb8' in out


def test_host_commands_ignore_os_cloud_on_the_command_line(openstack):
    code, out, err = openstack('--os-cloud', 'nope', 'gpu', 'host', 'check',
                               '--root', root('m60-t4'), '-c', 'ready')
    assert (code, err) == (0, '')
    code, out, err = openstack('help', 'gpu', 'host', 'check')
    assert code == 0 and '--nova-conf' in out


def test_other_commands_still_read_the_cloud(openstack, monkeypatch):
    monkeypatch.setenv('OS_CLOUD', 'nope')
    code, _, err = openstack('gpu', 'flavor', 'list')
    assert code == 1
    assert 'Cloud nope was not found' in err


# host config -----------------------------------------------------------------

def test_config_prints_the_nova_conf_fragment(openstack):
    code, out, _ = openstack('gpu', 'host', 'config', '--root',
                             root('p4-nvidia'), '--alias-name', 'P4=gpu-p4',
                             '--numa-policy', 'preferred')
    assert code == 0
    assert (
        '[pci]\n'
        'device_spec = {"vendor_id": "10de", "product_id": "1bb3"}\n'
        'alias = {"name": "gpu-p4", "vendor_id": "10de", "product_id": '
        '"1bb3", "device_type": "type-PCI", "numa_policy": "preferred"}\n'
        ) in out
    assert out.endswith('\npci_in_placement = true\n')
    assert '#   intel_iommu=on iommu=pt vfio-pci.ids=10de:1bb3\n' in out


def test_config_json(openstack):
    code, out, _ = openstack('gpu', 'host', 'config', '--root',
                             root('gpu-with-audio'), '-f', 'json')
    assert code == 0
    data = json.loads(out)
    assert data['device_spec'] == [{'vendor_id': '10de',
                                    'product_id': '2230'}]
    assert data['alias'][0]['name'] == 'RTXA6000'
    assert data['kernel_args'] == ['intel_iommu=on', 'iommu=pt',
                                   'vfio-pci.ids=10de:2230,10de:1aef']
    assert data['vfio_pci_ids'] == ['10de:2230', '10de:1aef']
    assert data['modprobe'] == ['softdep snd_hda_intel pre: vfio-pci']
    assert data['gpus'] == [{'vendor_id': '10de', 'product_id': '2230',
                             'model': 'RTX A6000', 'alias': 'RTXA6000',
                             'device_type': 'type-PCI',
                             'addresses': ['0000:3b:00.0']}]
    assert data['nova_conf'].startswith('# GPU passthrough settings')
    assert data['placement'] == [
        {'section': 'pci', 'option': 'report_in_placement', 'value': 'true',
         'where': 'every nova-compute', 'since': 'Zed'},
        {'section': 'filter_scheduler', 'option': 'pci_in_placement',
         'value': 'true', 'since': '2023.1 Antelope',
         'where': 'nova-api, nova-scheduler and every nova-conductor'}]


def test_config_never_overwrites_without_force(openstack, tmp_path):
    output = tmp_path / 'existing.conf'
    output.write_text('keep me\n')
    code, out, err = openstack('gpu', 'host', 'config', '--root',
                               root('m60-t4'), '--output', str(output))
    assert code == 1
    assert output.read_text() == 'keep me\n'
    assert (f"--output '{output}' exists: give a new file name, or add "
            '--force to overwrite it') in err
    code, _, _ = openstack('gpu', 'host', 'config', '--root', root('m60-t4'),
                           '--output', str(output), '--force')
    assert code == 0
    assert output.read_text().startswith('# GPU passthrough settings')


@pytest.mark.parametrize('argv, message', [
    (['--alias-name', 'P4'], "invalid --alias-name 'P4': expected "
                             'MODEL=NAME'),
    (['--alias-name', 'V100=volta'], "invalid --alias-name 'V100=volta': no "
                                     'V100 GPU on this host'),
    (['--numa-policy', 'strict'], "invalid --numa-policy 'strict': use one "
                                  'of required, legacy, preferred, socket'),
    (['--vendor', '10DE1'], "invalid --vendor '10DE1'"),
    (['--output', '/nonexistent/dir/x.conf'],
     "cannot write --output '/nonexistent/dir/x.conf': No such file or "
     'directory'),
    (['--output', ''], "invalid --output '': give a file name"),
    (['--numa-policy', ''], "invalid --numa-policy '': use one of required"),
    (['--alias-name', 'P4=a', '--alias-name', 'P4=b'],
     "--alias-name 'P4=a' and 'P4=b' both name the alias of P4: give each "
     'model one name'),
    (['--alias-name', 'P4=a', '--alias-name', 'Tesla P4=b'],
     "--alias-name 'P4=a' and 'Tesla P4=b' both name the alias of Tesla P4 "
     '(10de:1bb3)'),
    (['--alias-name', 'P4=p4\x1b[2J'],
     "invalid --alias-name 'P4=p4\\x1b[2J': alias name must be printable"),
    (['--output', '/no/where\x1b[2J'],
     "cannot write --output '/no/where\\x1b[2J': No such file"),
])
def test_config_refuses_bad_arguments_in_one_line(openstack, argv, message):
    code, out, err = openstack('gpu', 'host', 'config', '--root',
                               root('p4-nvidia'), *argv)
    assert code == 1
    assert out == '' and '\x1b' not in err
    [line] = [line for line in error_lines(err) if message in line]


def test_config_on_a_host_without_gpus(openstack):
    code, _, err = openstack('gpu', 'host', 'config', '--root',
                             root('no-gpu'))
    assert code == 1
    assert 'no GPU to pass through on this host' in err


# hostile host input: one line, escaped, exit 1 -----------------------------

def hostile_root(tmp_path):
    """m60-t4 with a T4 vendor file no kernel writes and an odd entry."""
    host = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['m60-t4'], host)
    devices = host / 'sys/bus/pci/devices'
    (devices / '0000:81:01.0/vendor').write_bytes(b'\xff\xfe\x1b[2J\n')
    (devices / os.fsdecode(b'evil\x1b]0;owned\x07\xff')).mkdir()
    return str(host)


def test_check_names_what_sysfs_holds_escaped(openstack, tmp_path):
    code, out, err = openstack('gpu', 'host', 'check', '--root',
                               hostile_root(tmp_path), '-f', 'json')
    assert code == 1
    assert '\x1b' not in out + err and '\x07' not in out + err
    data = json.loads(out)
    assert [p['message'] for p in data['problems']] == [
        "sys/bus/pci/devices/0000:81:01.0/vendor holds '\\xff\\xfe"
        "\\x1b[2J', not a PCI id like 0x10de",
        "sys/bus/pci/devices has an entry 'evil\\x1b]0;owned\\x07\\xff', "
        'not a PCI address like 0000:81:00.0']
    assert [g['address'] for g in data['gpus']] == ['0000:02:00.0',
                                                    '0000:81:00.0']
    assert 'host is not ready for GPU passthrough: 2 problems' in err


def test_config_refuses_a_sysfs_it_cannot_read(openstack, tmp_path):
    output = tmp_path / 'nova-pci.conf'
    code, out, err = openstack('gpu', 'host', 'config', '--root',
                               hostile_root(tmp_path), '--output',
                               str(output))
    assert (code, out) == (1, '')
    assert not output.exists()
    [line] = [line for line in error_lines(err)
              if line.startswith('cannot read this host: ')]
    assert line.endswith("not a PCI id like 0x10de (and 1 more); run "
                         "'openstack gpu host check' for the details")
    assert '\x1b' not in err


def test_config_never_writes_an_empty_vendor_id(openstack, tmp_path):
    # It used to write "vendor_id": "" that its own check then refused.
    host = tmp_path / 'host'
    fakehost.build(fakehost.HOSTS['m60-t4'], host)
    (host / 'sys/bus/pci/devices/0000:81:01.0/vendor').unlink()
    code, out, err = openstack('gpu', 'host', 'config', '--root', str(host))
    assert (code, out) == (1, '')
    assert ('cannot read this host: sys/bus/pci/devices/0000:81:01.0/vendor '
            'is missing') in err


def test_nova_conf_path_is_shown_escaped(openstack, tmp_path):
    conf = tmp_path / 'nova\x1b[2J.conf'
    conf.write_text('[pci]\n')
    code, out, _ = openstack('gpu', 'host', 'check', '--root',
                             root('m60-t4'), '--nova-conf', str(conf),
                             '-c', 'nova_conf')
    assert "nova\\x1b[2J.conf'" in out and '\x1b' not in out


# --output: whole or not at all ---------------------------------------------

def test_force_never_replaces_a_directory(openstack, tmp_path):
    for force in ([], ['--force']):
        code, out, err = openstack('gpu', 'host', 'config', '--root',
                                   root('m60-t4'), '--output',
                                   str(tmp_path), *force)
        assert (code, out) == (1, '')
        assert (f"--output '{tmp_path}' is a directory: give the name of a "
                'file (--force never replaces a directory)') in err
    assert os.listdir(tmp_path) == []


def test_output_keeps_the_mode_of_the_file_it_replaces(openstack, tmp_path):
    output = tmp_path / 'nova-pci.conf'
    output.write_text('old\n')
    output.chmod(0o640)
    code, _, _ = openstack('gpu', 'host', 'config', '--root',
                           root('m60-t4'), '--output', str(output),
                           '--force')
    assert code == 0
    assert output.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ['nova-pci.conf']


def _file_size_limit(limit):
    def apply():
        # A write past the limit fails with EFBIG (SIGXFSZ ignored).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_output_that_fails_half_way_leaves_the_old_file(tmp_path):
    output = tmp_path / 'nova-pci.conf'
    output.write_text('old\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    result = subprocess.run(
        [OPENSTACK, 'gpu', 'host', 'config', '--root', root('m60-t4'),
         '--output', str(output), '--force'], capture_output=True,
        text=True, env=env, preexec_fn=_file_size_limit(200), timeout=120)
    assert result.returncode == 1
    assert f"cannot write --output '{output}': File too large" in \
        result.stderr
    assert 'Traceback' not in result.stderr
    assert output.read_text() == 'old\n'
    assert os.listdir(tmp_path) == ['nova-pci.conf']
