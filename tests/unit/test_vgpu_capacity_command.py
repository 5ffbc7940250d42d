"""``openstack gpu capacity`` with GPUs that offer vGPUs (faked placement)."""

import pytest

from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

P4 = 'CUSTOM_PCI_10DE_1BB3'


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)


@pytest.fixture
def fake(cloud):
    return fakeplacement.FakePlacement(cloud)


def lines(err):
    return [line for line in err.splitlines() if line.strip()
            and not line.startswith("Could not load '")]


def vgpu_node(fake, name='gpu-node-3', used12=0, **host):
    root, _ = fake.add_host(name, **host)
    fake.add_vgpu_gpu(root, '0000:81:00.0', total=16,
                      traits=('CUSTOM_NVIDIA_11',))
    fake.add_vgpu_gpu(root, '0000:81:01.0', total=8, used=used12,
                      traits=('CUSTOM_NVIDIA_12',))
    return root


def test_each_vgpu_gpu_is_a_row_beside_the_pci_rows(fake, capsys):
    fake.add_host('gpu-node-1', gpus=2, used=1)
    root = vgpu_node(fake, used12=1)
    fake.add_vgpu_gpu(root, '0000:81:03.0', total=4,
                      resource_class='CUSTOM_NVIDIA_36')
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    assert [(r['Host'], r['Model'], r['Resource Class'], r['Address'],
             r['vGPU Types'], r['Total'], r['Used'], r['Free'])
            for r in rows] == [
        ('gpu-node-1', 'Tesla P4', P4, '', [], 2, 1, 1),
        ('gpu-node-3', 'vGPU', 'VGPU', '0000:81:00.0', ['CUSTOM_NVIDIA_11'],
         16, 0, 16),
        ('gpu-node-3', 'vGPU', 'VGPU', '0000:81:01.0', ['CUSTOM_NVIDIA_12'],
         8, 1, 7),
        ('gpu-node-3', 'vGPU', 'CUSTOM_NVIDIA_36', '0000:81:03.0', [],
         4, 0, 4)]


def test_only_vgpus_placement_is_enough(fake, capsys):
    vgpu_node(fake)
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    assert [r['Address'] for r in rows] == ['0000:81:00.0', '0000:81:01.0']


def test_type_filter(fake, capsys):
    fake.add_host('gpu-node-1', gpus=2)
    vgpu_node(fake)
    vgpu_node(fake, 'gpu-node-4', used12=8)
    code, rows, err = run_json(['gpu', 'capacity', '--type', 'nvidia-12'],
                               capsys)
    assert code == 0, err
    assert [(r['Host'], r['Address'], r['Free']) for r in rows] == [
        ('gpu-node-3', '0000:81:01.0', 8), ('gpu-node-4', '0000:81:01.0', 0)]
    code, _, err = run(['gpu', 'capacity', '--type', 'nvidia-99'], capsys)
    assert code == 1
    assert lines(err) == [
        "no GPU offering vGPUs is tagged with type 'nvidia-99' "
        "(CUSTOM_NVIDIA_99): tag one with 'openstack gpu vgpu type set "
        "--host HOST --address ADDRESS nvidia-99'; tagged types: "
        "CUSTOM_NVIDIA_11, CUSTOM_NVIDIA_12"]


def test_a_bad_type_is_refused_before_any_request(cloud, fake, capsys):
    code, _, err = run(['gpu', 'capacity', '--type', 'CUSTOM_NVIDIA_11'],
                       capsys)
    assert code == 1 and 'is a trait name' in err
    assert cloud.requests() == []


def test_alias_filter_leaves_vgpus_out(fake, capsys):
    fake.add_host('gpu-node-1', gpus=2)
    vgpu_node(fake)
    code, rows, err = run_json(['gpu', 'capacity', '--alias', 'P4'], capsys)
    assert code == 0, err
    assert [r['Host'] for r in rows] == ['gpu-node-1']


def test_host_filter_and_a_disabled_vgpu_host(fake, capsys):
    fake.add_host('gpu-node-1', gpus=2)
    vgpu_node(fake, disabled='maintenance')
    code, rows, err = run_json(['gpu', 'capacity', '--host', 'gpu-node-3'],
                               capsys)
    assert code == 0, err
    assert [(r['Address'], r['Free'], r['Status']) for r in rows] == [
        ('0000:81:00.0', 0, 'disabled'), ('0000:81:01.0', 0, 'disabled')]


def _reads(fake, capsys, hosts):
    for index in range(hosts):
        fake.add_host('pci-%03d' % index, gpus=2, used=index % 3)
        vgpu_node(fake, 'vgpu-%03d' % index, used12=index % 9)
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    assert len(rows) == 3 * hosts
    return sorted((r.path, r.qs.get('required', [''])[0])
                  for r in fake.requests() if r.path.count('/') > 1)


def test_requests_do_not_grow_with_vgpu_hosts(requests_mock, tmp_path,
                                              monkeypatch, capsys):
    small = _reads(fakeplacement.FakePlacement(fakecloud.FakeCloud(
        requests_mock, tmp_path, monkeypatch)), capsys, 3)
    requests_mock.reset_mock()
    large = _reads(fakeplacement.FakePlacement(fakecloud.FakeCloud(
        requests_mock, tmp_path, monkeypatch)), capsys, 300)
    assert small == large == [
        ('/placement/allocation_candidates', ''),
        ('/placement/resource_providers', '!compute_managed_pci_device')]


def test_a_boot_moves_a_vgpu_from_free_to_used(fake, capsys):
    root = vgpu_node(fake)
    gpu = next(rp for rp, p in fake.providers.items()
               if p['name'].endswith('81_01_0'))
    before = run_json(['gpu', 'capacity', '--type', 'nvidia-12'], capsys)[1]
    fake.usages[gpu]['VGPU'] += 1
    fake.usages[root]['VCPU'] += 1
    after = run_json(['gpu', 'capacity', '--type', 'nvidia-12'], capsys)[1]
    assert (before[0]['Used'], after[0]['Used']) == (0, 1)
