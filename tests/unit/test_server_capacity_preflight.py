"""``gpu server create``'s capacity preflight leaves disabled computes out
and says why, against a cloud and placement faked at HTTP."""

import pytest

from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

T4 = 'CUSTOM_PCI_10DE_1EB8'


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.add_image('ubuntu')
    cloud.add_flavor('gpu.t4', {'pci_passthrough:alias': 'T4:1',
                                'hw:hide_hypervisor_id': 'true'}, id='f1')
    return cloud


def create(*extra):
    return ['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.t4', '--image',
            'ubuntu', '--nic', 'none'] + list(extra)


def service_reads(cloud):
    return [r for r in cloud.requests() if r.path.endswith('/os-services')]


def test_free_gpu_on_a_disabled_compute_is_refused_naming_it(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1, used=1,
                             resource_class=T4)
    cloud.placement.add_host('gpu-node-2', gpus=1, resource_class=T4,
                             disabled='replacing a fan')
    code, out, err = run(create(), capsys)
    assert (code, out) == (1, '')
    assert err.strip() == (
        "not enough free GPUs for flavor 'gpu.t4' (T4:1) on any one host: "
        "free T4 per host: gpu-node-1 0, gpu-node-2 0 (disabled); "
        "nova-compute is disabled on gpu-node-2 ('replacing a fan') (wait "
        "for GPUs to be released, ask for fewer, or enable the compute: "
        "'openstack compute service set --enable gpu-node-2 nova-compute')")
    assert cloud.writes() == [] and cloud.servers == {}
    # The reason costs one os-services read, made for the refusal only.
    [read] = service_reads(cloud)
    assert read.qs == {'binary': ['nova-compute']}


def test_a_disabled_compute_costs_nothing_when_another_fits(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1, resource_class=T4)
    cloud.placement.add_host('gpu-node-2', gpus=1, resource_class=T4,
                             disabled='')
    code, shown, err = run_json(create('--dry-run'), capsys)
    assert code == 0, err
    assert shown['status'] == 'not created (dry run)'
    assert service_reads(cloud) == []
    reads = [r.qs.get('required') for r in cloud.placement.requests()
             if r.path.endswith('/resource_providers')]
    # The disabled root's trait comes with the allocation candidates.
    assert reads == [['compute_managed_pci_device']]


def test_unreadable_reason_still_refuses_naming_the_host(cloud, capsys):
    cloud.placement.add_host('gpu-node-2', gpus=1, resource_class=T4,
                             disabled='x')
    cloud.placement.services.clear()     # os-services does not list it
    code, _, err = run(create(), capsys)
    assert code == 1
    assert 'nova-compute is disabled on gpu-node-2 (reason unknown)' in err
    assert len(err.strip().splitlines()) == 1


def test_declared_aliases_refuse_a_flavor_with_another(cloud, tmp_path,
                                                       capsys):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(clouds.read_text()
                      + '    gpu_aliases:\n      P4: "10de:1bb3"\n')
    cloud.add_flavor('gpu.nope', {'pci_passthrough:alias': 'NOPE:1',
                                  'hw:hide_hypervisor_id': 'true'})
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor',
                        'gpu.nope', '--image', 'ubuntu', '--nic', 'none'],
                       capsys)
    assert code == 1
    assert err.strip() == (
        "GPU alias 'NOPE' of flavor 'gpu.nope' is not one of this cloud's "
        "aliases (P4, from clouds.yaml gpu_aliases): fix the flavor, or add "
        "the alias to nova's [pci] alias and to clouds.yaml")
    assert cloud.writes() == []


def test_forbidden_reason_read_still_refuses_naming_the_host(cloud, capsys):
    cloud.placement.add_host('gpu-node-2', gpus=1, resource_class=T4,
                             disabled='x')
    cloud.mock.get(cloud.compute_url + '/os-services', status_code=403,
                   json={'forbidden': {'code': 403, 'message': 'policy'}})
    code, _, err = run(create(), capsys)
    assert code == 1
    assert 'nova-compute is disabled on gpu-node-2 (reason unknown)' in err
    assert len(err.strip().splitlines()) == 1
