"""``openstack gpu flavor create --vgpu`` and vGPU flavors in list/show."""

import pytest

from tests.unit import fakecloud
from tests.unit.fakecloud import run, run_json


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)


def lines(err):
    return [line for line in err.splitlines() if line.strip()
            and not line.startswith("Could not load '")]


def declare(tmp_path, text):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(clouds.read_text() + text)


def test_one_vgpu_of_a_type(cloud, capsys):
    code, flavor, err = run_json(['gpu', 'flavor', 'create', 'vgpu.12',
                                  '--vgpu', 'nvidia-12:1', '--ram', '512'],
                                 capsys)
    assert code == 0, err
    assert flavor['properties'] == {
        'resources:VGPU': '1', 'trait:CUSTOM_NVIDIA_12': 'required',
        'hw:hide_hypervisor_id': 'true'}
    assert (flavor['vgpus'], flavor['gpus']) == ('VGPU:1 CUSTOM_NVIDIA_12',
                                                 '')
    assert [m for m, _ in cloud.writes()] == ['POST', 'POST']
    assert cloud.requests('POST')[-1].headers[
        'OpenStack-API-Version'] == 'compute 2.86'


def test_two_vgpus_are_two_groups_isolated(cloud, capsys):
    code, flavor, err = run_json(['gpu', 'flavor', 'create', 'vgpu.11x2',
                                  '--vgpu', 'nvidia-11:2',
                                  '--no-hide-hypervisor'], capsys)
    assert code == 0, err
    assert flavor['properties'] == {
        'resources1:VGPU': '1', 'trait1:CUSTOM_NVIDIA_11': 'required',
        'resources2:VGPU': '1', 'trait2:CUSTOM_NVIDIA_11': 'required',
        'group_policy': 'isolate'}
    assert flavor['vgpus'] == 'VGPU:2 CUSTOM_NVIDIA_11'


def test_custom_class_from_the_option_or_clouds_yaml(cloud, tmp_path,
                                                     capsys):
    code, flavor, err = run_json(['gpu', 'flavor', 'create', 'v36', '--vgpu',
                                  '1', '--vgpu-class', 'CUSTOM_NVIDIA_36',
                                  '--no-hide-hypervisor'], capsys)
    assert code == 0, err
    assert flavor['properties'] == {'resources:CUSTOM_NVIDIA_36': '1'}
    assert flavor['vgpus'] == 'CUSTOM_NVIDIA_36:1'
    declare(tmp_path, '    gpu_vgpu_types:\n'
                      '      nvidia-36: CUSTOM_NVIDIA_36\n')
    code, flavor, err = run_json(['gpu', 'flavor', 'create', 'v36b',
                                  '--vgpu', 'nvidia-36:1',
                                  '--no-hide-hypervisor'], capsys)
    assert code == 0, err
    assert flavor['properties'] == {'resources:CUSTOM_NVIDIA_36': '1',
                                    'trait:CUSTOM_NVIDIA_36': 'required'}
    code, rows, err = run_json(['gpu', 'flavor', 'list'], capsys)
    assert sorted((r['Name'], r['vGPUs']) for r in rows) == [
        ('v36', 'CUSTOM_NVIDIA_36:1'),
        ('v36b', 'CUSTOM_NVIDIA_36:1 CUSTOM_NVIDIA_36')]


@pytest.mark.parametrize('argv, says', [
    (['--gpu', 'P4:1', '--vgpu', '1'], 'not allowed with argument'),
    (['--vgpu', 'nvidia-11:0'], "count '0'"),
    (['--vgpu', 'nvidia-11:17'], 'from 1 to 16'),
    (['--vgpu', 'nvidia 11:1'], 'invalid vGPU type'),
    (['--vgpu', 'CUSTOM_NVIDIA_11:1'], 'is a trait name'),
    (['--vgpu', ':1'], 'type before'),
    (['--vgpu', '1', '--vgpu', '2'], 'give --vgpu once'),
    (['--vgpu', '1', '--vgpu-class', 'PGPU'], 'mdev_class'),
    (['--gpu', 'P4:1', '--vgpu-class', 'CUSTOM_X'], 'only applies to'),
    (['--vgpu', '1', '--numa-policy', 'preferred'], 'PCI passthrough'),
    (['--vgpu', '2', '--property', 'resources1:VGPU=4'],
     "not --property 'resources1:VGPU'"),
    (['--vgpu', '1', '--property', 'group_policy=none'],
     "not --property 'group_policy'"),
    ([], 'one of the arguments --gpu --vgpu is required'),
])
def test_refused_before_any_request_in_one_line(cloud, capsys, argv, says):
    code, out, err = run(['gpu', 'flavor', 'create', 'x'] + argv, capsys)
    assert code == 1
    [line] = lines(err)
    assert says in line
    assert cloud.requests() == [] and out == ''


def test_bad_gpu_vgpu_types_in_clouds_yaml_is_one_line(cloud, tmp_path,
                                                       capsys):
    declare(tmp_path, '    gpu_vgpu_types:\n      nvidia-36: pgpu\n')
    code, _, err = run(['gpu', 'flavor', 'create', 'x', '--vgpu',
                        'nvidia-36:1'], capsys)
    assert code == 1
    [line] = lines(err)
    assert 'mdev_class' in line and cloud.requests() == []


def test_or_show_shows_the_same_and_names_what_differs(cloud, capsys):
    argv = ['gpu', 'flavor', 'create', 'vgpu.11', '--vgpu', 'nvidia-11:2']
    assert run_json(argv, capsys)[0] == 0
    code, again, err = run_json(argv + ['--or-show'], capsys)
    assert code == 0, err
    assert again['vgpus'] == 'VGPU:2 CUSTOM_NVIDIA_11'
    assert len(cloud.flavors) == 1
    code, _, err = run(['gpu', 'flavor', 'create', 'vgpu.11', '--vgpu',
                        'nvidia-11:1', '--or-show'], capsys)
    assert code == 1
    [line] = lines(err)
    assert line.startswith("flavor 'vgpu.11' exists with ")
    assert 'group_policy=isolate, not (unset)' in line
    assert 'resources:VGPU=(unset), not 1' in line
    code, _, err = run(['gpu', 'flavor', 'create', 'vgpu.11', '--gpu',
                        'P4:1', '--or-show'], capsys)
    assert code == 1 and 'pci_passthrough:alias=(unset), not P4:1' in err


def test_failed_specs_remove_the_vgpu_flavor(cloud, capsys):
    cloud.fail_extra_specs(400)
    code, _, err = run(['gpu', 'flavor', 'create', 'v', '--vgpu', '1'],
                       capsys)
    assert code == 1 and cloud.flavors == {}


def test_list_show_and_delete_know_vgpu_flavors(cloud, capsys):
    cloud.add_flavor('pt', {'pci_passthrough:alias': 'P4:1'})
    cloud.add_flavor('vg', {'resources1:VGPU': '1', 'resources2:VGPU': '1',
                            'trait1:CUSTOM_NVIDIA_11': 'required',
                            'trait2:CUSTOM_NVIDIA_11': 'required',
                            'group_policy': 'isolate'})
    cloud.add_flavor('plain', {'hw:cpu_policy': 'dedicated'})
    cloud.add_flavor('zero', {'resources:VGPU': '0'})
    code, rows, err = run_json(['gpu', 'flavor', 'list'], capsys)
    assert code == 0, err
    assert [(r['Name'], r['GPUs'], r['vGPUs']) for r in rows] == [
        ('pt', 'P4:1', ''), ('vg', '', 'VGPU:2 CUSTOM_NVIDIA_11')]
    code, rows, _ = run_json(['gpu', 'flavor', 'list', '--alias', 'P4'],
                             capsys)
    assert [r['Name'] for r in rows] == ['pt']
    code, shown, _ = run_json(['gpu', 'flavor', 'show', 'vg'], capsys)
    assert shown['vgpus'] == 'VGPU:2 CUSTOM_NVIDIA_11'
    code, _, err = run(['gpu', 'flavor', 'delete', 'plain', 'vg'], capsys)
    assert code == 1 and "'plain' requests no GPU" in err
    assert sorted(f['name'] for f in cloud.flavors.values()) == [
        'plain', 'pt', 'zero']
