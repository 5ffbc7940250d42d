"""``openstack gpu host check|config`` on vGPU hosts, through OSC."""

import json

import pytest
import yaml

from tests.unit.host import fakehost
from tests.unit.host.test_host_commands import openstack  # noqa: F401


def root(name):
    return fakehost.fixture_root(name)


def test_check_json_shows_the_vgpu_side(openstack):  # noqa: F811
    code, out, _ = openstack('gpu', 'host', 'check', '--root',
                             root('m60-vgpu'), '-f', 'json')
    assert code == 0
    data = json.loads(out)
    assert data['ready'] is True and data['problems'] == []
    gpus = {g['address']: g for g in data['gpus']}
    assert gpus['0000:84:00.0']['role'] == 'vgpu'
    assert gpus['0000:84:00.0']['status'] == (
        'vGPU: offers 8 mdev types (nvidia-11 to nvidia-18); 1 nvidia-11 '
        'mdev created')
    vgpu = data['vgpu']
    assert (vgpu['manager'], vgpu['mdevctl'], vgpu['hostname']) == (
        True, '/usr/sbin/mdevctl', 'vgpu-m60')
    first = vgpu['gpus'][0]
    assert (first['address'], first['mode'], first['parents']) == (
        '0000:84:00.0', 'mdev', ['0000:84:00.0'])
    assert first['types'][0] == {
        'type': 'nvidia-11', 'name': 'GRID M60-0B', 'available': 15,
        'created': 1, 'device_api': 'vfio-pci', 'max_instance': 16}


def table_lines(out):
    return [line.strip('|').split('|')[-1].strip()
            for line in out.splitlines() if line.startswith('|')][1:]


def test_check_table_has_one_line_per_vgpu_gpu(openstack):  # noqa: F811
    code, out, _ = openstack('gpu', 'host', 'check', '--root',
                             root('a16-vgpu'), '-c', 'vgpu',
                             '--max-width', '400')
    assert code == 0
    assert table_lines(out) == [
        'NVIDIA vGPU manager loaded; mdevctl /usr/sbin/mdevctl',
        '0000:41:00.0 A2 / A16 sr-iov mdev: nvidia-700 (NVIDIA A16-1B) 4 '
        'free; nvidia-701 (NVIDIA A16-2Q) 4 free; nvidia-702 (NVIDIA A16-4Q) '
        '4 free; 2 more types',
        '0000:42:00.0 A2 / A16 sr-iov mdev: nvidia-700 (NVIDIA A16-1B) 4 '
        'free; nvidia-701 (NVIDIA A16-2Q) 4 free; nvidia-702 (NVIDIA A16-4Q) '
        '4 free; 2 more types']


def test_a_passthrough_host_shares_no_gpu(openstack):  # noqa: F811
    code, out, _ = openstack('gpu', 'host', 'check', '--root',
                             root('p4-vfio'), '-c', 'vgpu')
    assert table_lines(out) == ['no GPU shared as vGPUs']


def test_config_json_of_a_vgpu_host(openstack):  # noqa: F811
    code, out, _ = openstack('gpu', 'host', 'config', '--root',
                             root('m60-vgpu'), '--vgpu-type',
                             '0000:85:00.0=nvidia-12', '-f', 'json')
    assert code == 0
    data = json.loads(out)
    assert data['enabled_mdev_types'] == ['nvidia-11', 'nvidia-12']
    assert [(t['type'], t['device_addresses'], t['trait'])
            for t in data['vgpu_types']] == [
        ('nvidia-11', ['0000:84:00.0'], 'CUSTOM_NVIDIA_11'),
        ('nvidia-12', ['0000:85:00.0'], 'CUSTOM_NVIDIA_12')]
    assert data['vgpu_commands'] == [
        'openstack gpu vgpu type set --host vgpu-m60 --address 0000:84:00.0 '
        'nvidia-11',
        'openstack gpu vgpu type set --host vgpu-m60 --address 0000:85:00.0 '
        'nvidia-12']
    assert data['alias'] == [] and data['placement'] == []
    assert '[mdev_nvidia-12]\n' in data['nova_conf']


@pytest.mark.parametrize('name', ['m60-vgpu', 'a16-vgpu', 'l4-variant'])
def test_generated_vgpu_config_passes_check(openstack, tmp_path,  # noqa: F811
                                            name):
    conf = tmp_path / 'nova.conf'
    code, _, _ = openstack('gpu', 'host', 'config', '--root', root(name),
                           '--output', str(conf))
    assert code == 0
    code, out, _ = openstack('gpu', 'host', 'check', '--root', root(name),
                             '--nova-conf', str(conf), '-f', 'yaml')
    data = yaml.safe_load(out)
    assert code == 0, data['problems']
    assert data['problems'] == [] and data['warnings'] == []
    if name == 'l4-variant':
        assert data['nova_conf']['aliases'] == ['L4-VF']
    else:
        assert data['nova_conf']['enabled_mdev_types']


def test_check_lints_the_vgpu_options(openstack, tmp_path):  # noqa: F811
    conf = tmp_path / 'nova.conf'
    conf.write_text('[devices]\nenabled_vgpu_types = nvidia-11, nvidia-12\n'
                    '[mdev_nvidia-11]\ndevice_addresses = 0000:84:00.0\n'
                    '[mdev_nvidia-12]\ndevice_addresses = 0000:84:00.0\n')
    code, out, err = openstack('gpu', 'host', 'check', '--root',
                               root('m60-vgpu'), '--nova-conf', str(conf),
                               '-f', 'json')
    assert code == 1
    data = json.loads(out)
    assert [p['message'] for p in data['problems']] == [
        'line 6 [mdev_nvidia-12] device_addresses gives 0000:84:00.0 to '
        'nvidia-11 and nvidia-12: nova-compute does not start '
        '(InvalidLibvirtMdevConfig)']
    assert [w['fix'] for w in data['warnings']] == [
        'rename it to [devices] enabled_mdev_types']
    assert 'host is not ready for GPU passthrough: 1 problem' in err


@pytest.mark.parametrize('argv, message', [
    (['--vgpu-type', 'nvidia-99'],
     "invalid --vgpu-type 'nvidia-99': GPU 0000:84:00.0 (Tesla M60) does "
     'not offer it'),
    (['--vgpu-type', 'x=nvidia-11'],
     "invalid --vgpu-type 'x=nvidia-11': no GPU at 'x' offers mdev types"),
])
def test_config_refuses_bad_vgpu_types_in_one_line(
        openstack, argv, message):  # noqa: F811
    code, out, err = openstack('gpu', 'host', 'config', '--root',
                               root('m60-vgpu'), *argv)
    assert code == 1 and out == ''
    [line] = [line for line in err.splitlines() if '--vgpu-type' in line]
    assert message in line
