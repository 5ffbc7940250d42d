"""``gpu server create`` with a vGPU flavor: the preflight, before anything
is created, against a cloud and placement faked at HTTP."""

import pytest

from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.add_image('ubuntu')
    cloud.add_flavor('vgpu.12', {'resources:VGPU': '1',
                                 'trait:CUSTOM_NVIDIA_12': 'required'},
                     id='f12')
    cloud.add_flavor('vgpu.11x2', {
        'resources1:VGPU': '1', 'trait1:CUSTOM_NVIDIA_11': 'required',
        'resources2:VGPU': '1', 'trait2:CUSTOM_NVIDIA_11': 'required',
        'group_policy': 'isolate'}, id='f11')
    root, _ = cloud.placement.add_host('gpu-node-3')
    cloud.gpus = {
        '11': cloud.placement.add_vgpu_gpu(root, '0000:81:00.0', total=16,
                                           traits=('CUSTOM_NVIDIA_11',)),
        '12': cloud.placement.add_vgpu_gpu(root, '0000:81:01.0', total=8)}
    return cloud


def create(flavor, *extra):
    return ['gpu', 'server', 'create', 'vm', '--flavor', flavor, '--image',
            'ubuntu', '--nic', 'none'] + list(extra)


def lines(err):
    return [line for line in err.splitlines() if line.strip()
            and not line.startswith("Could not load '")]


def test_an_untagged_type_is_refused_before_any_create(cloud, capsys):
    code, out, err = run(create('vgpu.12'), capsys)
    assert (code, out) == (1, '')
    [line] = lines(err)
    assert line.startswith("no GPU offering VGPU vGPUs carries "
                           "CUSTOM_NVIDIA_12, which flavor 'vgpu.12' "
                           "requires: tag the GPUs that run it with "
                           "'openstack gpu vgpu type set --host HOST "
                           "--address ADDRESS nvidia-12'")
    assert cloud.servers == {}
    assert not [w for w in cloud.writes() if 'servers' in w[1]]


def test_a_tagged_gpu_with_a_free_vgpu_boots(cloud, capsys):
    cloud.placement.traits[cloud.gpus['12']].add('CUSTOM_NVIDIA_12')
    code, shown, err = run_json(create('vgpu.12', '--dry-run'), capsys)
    assert code == 0, err
    assert shown['gpus'] == 'VGPU:1 CUSTOM_NVIDIA_12'
    code, shown, err = run_json(create('vgpu.12'), capsys)
    assert code == 0, err
    assert len(cloud.servers) == 1


def test_none_free_says_how_many_per_host(cloud, capsys):
    cloud.placement.traits[cloud.gpus['12']].add('CUSTOM_NVIDIA_12')
    cloud.placement.usages[cloud.gpus['12']]['VGPU'] = 8
    code, _, err = run(create('vgpu.12'), capsys)
    assert code == 1
    [line] = lines(err)
    assert "free per host: gpu-node-3 0" in line
    assert cloud.servers == {}


def test_two_isolated_vgpus_need_two_gpus_of_the_type(cloud, capsys):
    code, _, err = run(create('vgpu.11x2'), capsys)
    assert code == 1
    [line] = lines(err)
    assert 'no host has 2 such GPUs: at most 1 (gpu-node-3)' in line
    cloud.placement.traits[cloud.gpus['12']].add('CUSTOM_NVIDIA_11')
    code, _, err = run(create('vgpu.11x2', '--dry-run'), capsys)
    assert code == 0, err


def test_no_valid_host_is_explained_in_vgpu_terms(cloud, capsys):
    cloud.placement.traits[cloud.gpus['12']].add('CUSTOM_NVIDIA_12')
    cloud.server_statuses = ['BUILD', 'ERROR']
    cloud.server_fault = 'No valid host was found. '
    code, _, err = run(create('vgpu.12', '--wait'), capsys)
    assert code == 1
    assert 'no GPU may carry the type trait' in err
