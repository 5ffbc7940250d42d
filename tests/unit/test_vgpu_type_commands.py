"""``openstack gpu vgpu type set|unset|list`` against a faked placement."""

import pytest

from osc_gpu.cloud import vgpu as cloud_vgpu
from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

ADDRESS = '0000:81:01.0'


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)


@pytest.fixture
def fake(cloud, monkeypatch):
    monkeypatch.setattr(cloud_vgpu, 'RETRY_PAUSE', 0)
    return fakeplacement.FakePlacement(cloud)


@pytest.fixture
def node3(fake):
    root, _ = fake.add_host('gpu-node-3')
    return root, {
        '0000:81:00.0': fake.add_vgpu_gpu(root, '0000:81:00.0', total=16),
        ADDRESS: fake.add_vgpu_gpu(root, ADDRESS, total=8,
                                   traits=('CUSTOM_RACK_7',))}


def lines(err):
    return [line for line in err.splitlines() if line.strip()
            and not line.startswith("Could not load '")]


def set_type(capsys, *argv, host='gpu-node-3', address=ADDRESS,
             action='set'):
    return run_json(['gpu', 'vgpu', 'type', action, '--host', host,
                     '--address', address] + list(argv), capsys)


def placement_calls(fake):
    """(method, path) of every request to placement."""
    return [(r.method, r.path.replace('/placement', '', 1))
            for r in fake.requests()]


def test_set_adds_the_trait_and_keeps_every_other(fake, node3, capsys):
    _, gpus = node3
    code, shown, err = set_type(capsys, 'nvidia-12')
    assert code == 0, err
    assert fake.traits[gpus[ADDRESS]] == {'OWNER_NOVA', 'CUSTOM_RACK_7',
                                          'CUSTOM_NVIDIA_12'}
    assert shown['trait'] == 'CUSTOM_NVIDIA_12' and shown['changed'] is True
    assert shown['provider'] == 'gpu-node-3_pci_0000_81_01_0'
    path = '/resource_providers/%s/traits' % gpus[ADDRESS]
    assert placement_calls(fake) == [
        ('GET', '/resource_providers'), ('GET', path),
        ('PUT', '/traits/custom_nvidia_12'), ('PUT', path)]   # lower-cased
    put = fake.requests()[-1]
    assert put.headers['OpenStack-API-Version'] == 'placement 1.6'
    assert put.json()['resource_provider_generation'] == 1
    # The other GPU is untouched.
    assert fake.traits[gpus['0000:81:00.0']] == {'OWNER_NOVA'}


def test_set_twice_writes_nothing_the_second_time(fake, node3, capsys):
    set_type(capsys, 'nvidia-12')
    writes = len(fake.cloud.writes())
    code, shown, err = set_type(capsys, 'nvidia-12')
    assert code == 0, err
    assert shown['changed'] is False
    assert len(fake.cloud.writes()) == writes


def test_a_concurrent_write_is_read_again_and_kept(fake, node3, capsys):
    _, gpus = node3
    fake.race_trait_write(gpus[ADDRESS], 'CUSTOM_SOMEONE_ELSE')
    code, shown, err = set_type(capsys, 'nvidia-12')
    assert code == 0, err
    assert fake.traits[gpus[ADDRESS]] == {
        'OWNER_NOVA', 'CUSTOM_RACK_7', 'CUSTOM_SOMEONE_ELSE',
        'CUSTOM_NVIDIA_12'}
    puts = [r for r in fake.requests() if r.method == 'PUT'
            and r.path.endswith('/traits') and 'resource_providers' in r.path]
    assert [p.json()['resource_provider_generation'] for p in puts] == [1, 2]
    assert 'CUSTOM_SOMEONE_ELSE' in puts[1].json()['traits']


def test_a_write_that_always_conflicts_gives_up_in_one_line(fake, node3,
                                                            capsys):
    _, gpus = node3
    for n in range(cloud_vgpu.WRITE_ATTEMPTS):
        fake.race_trait_write(gpus[ADDRESS], 'CUSTOM_OTHER_%d' % n)
    code, _, err = set_type(capsys, 'nvidia-12')
    assert code == 1
    [line] = lines(err)
    assert 'changed under every one of 5 attempts' in line
    assert 'CUSTOM_NVIDIA_12' not in fake.traits[gpus[ADDRESS]]


def test_unset_removes_only_that_trait_and_only_once(fake, node3, capsys):
    _, gpus = node3
    set_type(capsys, 'nvidia-12')
    code, shown, err = set_type(capsys, 'nvidia-12', action='unset')
    assert code == 0, err
    assert fake.traits[gpus[ADDRESS]] == {'OWNER_NOVA', 'CUSTOM_RACK_7'}
    assert shown['changed'] is True
    writes = len(fake.cloud.writes())
    code, shown, _ = set_type(capsys, 'nvidia-12', action='unset')
    assert shown['changed'] is False
    assert len(fake.cloud.writes()) == writes


def test_another_type_on_the_gpu_is_warned_about_not_removed(fake, node3,
                                                             capsys):
    _, gpus = node3
    set_type(capsys, 'nvidia-11')
    code, _, err = set_type(capsys, 'nvidia-12')
    assert code == 0
    assert 'CUSTOM_NVIDIA_11' in fake.traits[gpus[ADDRESS]]
    [line] = lines(err)
    assert line.startswith('warning: gpu-node-3 0000:81:01.0 also carries '
                           'CUSTOM_NVIDIA_11, CUSTOM_RACK_7')
    assert 'gpu vgpu type unset --host gpu-node-3 --address 0000:81:01.0' \
        in line


@pytest.mark.parametrize('address', ['81:01.0', '0000:81:01.0',
                                     '0000:81:01.0'.upper()])
def test_address_forms_lspci_prints_find_the_gpu(fake, node3, capsys,
                                                 address):
    code, shown, err = set_type(capsys, 'nvidia-12', address=address)
    assert code == 0, err
    assert shown['address'] == ADDRESS


@pytest.mark.parametrize('argv, says', [
    (['--host', 'gpu-node-3', '--address', '81:01', 'nvidia-12'],
     'invalid GPU address'),
    (['--host', 'gpu-node-3', '--address', '0000:81:01.8', 'nvidia-12'],
     'invalid GPU address'),
    (['--host', 'gpu-node-3', '--address', '0000:81:20.0', 'nvidia-12'],
     'above the maximum'),
    (['--host', 'gpu-node-3', '--address', '0000:zz:01.0', 'nvidia-12'],
     'invalid GPU address'),
    (['--host', 'gpu-node-3', '--address', '*:81:01.0', 'nvidia-12'],
     'invalid GPU address'),
    (['--host', 'gpu-node-3', '--address', ADDRESS, 'CUSTOM_NVIDIA_12'],
     'is a trait name'),
    (['--host', 'gpu-node-3', '--address', ADDRESS, 'nvidia 12'],
     'invalid vGPU type'),
    (['--host', '', '--address', ADDRESS, 'nvidia-12'], 'invalid host'),
    (['--host', 'gpu-node-3\n', '--address', ADDRESS, 'nvidia-12'],
     'invalid host'),
    (['--host', 'h' * 250, '--address', ADDRESS, 'nvidia-12'],
     'too long'),
    (['--address', ADDRESS, 'nvidia-12'], 'required: --host'),
])
def test_bad_input_is_refused_before_any_request(cloud, capsys, argv, says):
    code, out, err = run(['gpu', 'vgpu', 'type', 'set'] + argv, capsys)
    assert code == 1
    [line] = lines(err)
    assert says in line
    assert cloud.requests() == [] and out == ''


def test_unknown_host_and_unknown_address_say_what_exists(fake, node3,
                                                          capsys):
    code, _, err = set_type(capsys, 'nvidia-12', host='gpu-node-9')
    assert code == 1
    assert lines(err) == ["placement has no compute node 'gpu-node-9': give "
                          "the hypervisor host name as 'openstack "
                          "hypervisor list' shows it"]
    code, _, err = set_type(capsys, 'nvidia-12', address='0000:81:05.0')
    assert lines(err) == [
        "compute node 'gpu-node-3' has no GPU offering vGPUs at "
        "0000:81:05.0 in placement (its vGPU GPUs: 0000:81:00.0, "
        "0000:81:01.0)"]
    fake.add_host('gpu-node-1', gpus=2)
    code, _, err = set_type(capsys, 'nvidia-12', host='gpu-node-1',
                            address='0000:81:00.0')
    assert 'it has none: check [devices] enabled_mdev_types' in err
    assert fake.cloud.writes() == []


def test_list_shows_each_gpu_with_its_type_traits(fake, node3, capsys):
    root, gpus = node3
    fake.usages[gpus[ADDRESS]]['VGPU'] = 3
    fake.add_host('gpu-node-1', gpus=2)
    set_type(capsys, 'nvidia-12')
    code, rows, err = run_json(['gpu', 'vgpu', 'type', 'list'], capsys)
    assert code == 0, err
    assert rows == [
        {'Host': 'gpu-node-3', 'Address': '0000:81:00.0', 'Types': [],
         'Resource Class': 'VGPU', 'Total': 16, 'Used': 0, 'Free': 16,
         'Status': 'enabled'},
        {'Host': 'gpu-node-3', 'Address': ADDRESS,
         'Types': ['CUSTOM_NVIDIA_12', 'CUSTOM_RACK_7'],
         'Resource Class': 'VGPU', 'Total': 8, 'Used': 3, 'Free': 5,
         'Status': 'enabled'}]
    code, rows, err = run_json(['gpu', 'vgpu', 'type', 'list', '--host',
                                'gpu-node-1'], capsys)
    assert (code, rows) == (0, [])


def _list_reads(fake, capsys, hosts):
    for index in range(hosts):
        root, _ = fake.add_host('node-%03d' % index, gpus=1)
        fake.add_vgpu_gpu(root, '0000:82:00.0', used=index % 3,
                          traits=('CUSTOM_NVIDIA_11',))
    code, rows, err = run_json(['gpu', 'vgpu', 'type', 'list'], capsys)
    assert code == 0, err
    assert len(rows) == hosts
    return sorted(p for _, p in placement_calls(fake))


def test_list_costs_the_same_requests_for_3_or_300_hosts(
        requests_mock, tmp_path, monkeypatch, capsys):
    small = _list_reads(fakeplacement.FakePlacement(fakecloud.FakeCloud(
        requests_mock, tmp_path, monkeypatch)), capsys, 3)
    requests_mock.reset_mock()
    large = _list_reads(fakeplacement.FakePlacement(fakecloud.FakeCloud(
        requests_mock, tmp_path, monkeypatch)), capsys, 300)
    assert small == large == ['/allocation_candidates', '/resource_providers']


def test_a_gpu_on_a_host_without_free_vcpu_is_read_on_its_own(fake, capsys):
    root, _ = fake.add_host('busy-node', vcpus=4, vcpus_used=4,
                            disabled='fan')
    gpu = fake.add_vgpu_gpu(root, '0000:81:00.0', total=8, used=8,
                            traits=('CUSTOM_NVIDIA_12',))
    code, rows, err = run_json(['gpu', 'vgpu', 'type', 'list'], capsys)
    assert code == 0, err
    assert [(r['Host'], r['Types'], r['Total'], r['Used'], r['Free'],
             r['Status']) for r in rows] == [
        ('busy-node', ['CUSTOM_NVIDIA_12'], 8, 8, 0, 'disabled')]
    own = sorted(p for _, p in placement_calls(fake) if gpu in p)
    assert own == ['/resource_providers/%s/%s' % (gpu, part)
                   for part in ('inventories', 'traits', 'usages')]
