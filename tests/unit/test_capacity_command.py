"""``openstack gpu capacity`` run for real against placement faked at HTTP."""

import threading
import time

import openstack
import pytest

from osc_gpu.rules import capacity
from osc_gpu.cloud import gpu_inventory
from osc_gpu.cloud import placement
from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

P4 = 'CUSTOM_PCI_10DE_1BB3'
T4 = 'CUSTOM_PCI_10DE_1EB8'


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)


@pytest.fixture
def fake(cloud):
    return fakeplacement.FakePlacement(cloud)


def error_lines(err):
    # While sibling commands listed in setup.cfg are still being written,
    # cliff reports them as unloadable on every run; that is not ours.
    return [line for line in err.splitlines()
            if line.strip() and not line.startswith("Could not load '")]


def test_numbers_per_host_and_class(fake, capsys):
    fake.add_host('gpu-node-2', gpus=2, used=2)
    fake.add_host('gpu-node-1', gpus=4, used=1)
    fake.add_host('gpu-node-1b', gpus=1, resource_class=T4)
    fake.add_host('cpu-node-1')
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    pci = {'Address': '', 'vGPU Types': []}
    assert rows == [
        dict(pci, **{'Host': 'gpu-node-1', 'Model': 'Tesla P4',
                     'Resource Class': P4, 'Aliases': ['P4'], 'Total': 4,
                     'Used': 1, 'Free': 3, 'Status': 'enabled'}),
        dict(pci, **{'Host': 'gpu-node-1b', 'Model': 'Tesla T4',
                     'Resource Class': T4, 'Aliases': ['T4'], 'Total': 1,
                     'Used': 0, 'Free': 1, 'Status': 'enabled'}),
        dict(pci, **{'Host': 'gpu-node-2', 'Model': 'Tesla P4',
                     'Resource Class': P4, 'Aliases': ['P4'], 'Total': 2,
                     'Used': 2, 'Free': 0, 'Status': 'enabled'})]


def _placement_reads(fake, capsys, hosts):
    for index in range(hosts):
        fake.add_host('node-%03d' % index, gpus=4, used=index % 5,
                      disabled='' if index % 7 == 3 else None)
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    assert len(rows) == hosts
    assert sum(r['Used'] for r in rows) == sum(i % 5 if i % 5 < 4 else 4
                                               for i in range(hosts))
    assert [r['Host'] for r in rows if r['Status'] == 'disabled'] == [
        'node-%03d' % i for i in range(hosts) if i % 7 == 3]
    return [(r.method, r.path) for r in fake.requests()]


def test_request_count_does_not_grow_with_hosts(requests_mock, tmp_path,
                                                monkeypatch, capsys):
    small = _placement_reads(fakeplacement.FakePlacement(fakecloud.FakeCloud(
        requests_mock, tmp_path, monkeypatch)), capsys, hosts=3)
    requests_mock.reset_mock()
    large = _placement_reads(fakeplacement.FakePlacement(fakecloud.FakeCloud(
        requests_mock, tmp_path, monkeypatch)), capsys, hosts=300)
    assert len(small) == len(large)
    reads = [p for _, p in large if 'resource_providers' in p
             or 'allocation_candidates' in p]
    assert sorted(reads) == ['/placement/allocation_candidates',
                             '/placement/resource_providers']
    # Disabled computes cost nothing more: no os-services read (and the
    # summaries' traits tell them, no list of disabled roots).
    assert not any('os-services' in r.path
                   for r in requests_mock.request_history)


def test_reads_use_the_microversions_that_carry_the_data(fake, capsys):
    fake.add_host('gpu-node-1', gpus=1)
    run_json(['gpu', 'capacity'], capsys)
    versions = {r.path.rsplit('/', 1)[-1]:
                r.headers.get('OpenStack-API-Version')
                for r in fake.requests() if r.path.count('/') > 1}
    # 1.22: forbidden traits (!COMPUTE_MANAGED_PCI_DEVICE) in required.
    assert versions == {'resource_providers': 'placement 1.22',
                        'allocation_candidates': 'placement 1.29'}


def test_independent_reads_overlap_and_stay_bounded():
    # requests-mock serialises requests, so the overlap is shown on the
    # pool itself: calls that each wait for the others would break the
    # barrier if they ran one after the other.
    both = threading.Barrier(2, timeout=5)
    assert placement._in_parallel([lambda: both.wait() * 0 + 1,
                                   lambda: both.wait() * 0 + 2]) == [1, 2]
    running, peak, lock = [0], [0], threading.Lock()

    def call():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return 'ok'
    assert placement._in_parallel([call] * 20, max_workers=3) == ['ok'] * 20
    assert peak[0] == 3


def test_host_without_free_vcpu_is_read_per_device(fake, capsys):
    fake.add_host('busy-node', gpus=2, used=1, vcpus=8, vcpus_used=8)
    fake.add_host('gpu-node-1', gpus=2)
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    assert [(r['Host'], r['Total'], r['Used'], r['Free']) for r in rows] == [
        ('busy-node', 2, 1, 1), ('gpu-node-1', 2, 0, 2)]
    per_device = [r.path for r in fake.requests()
                  if r.path.endswith(('/inventories', '/usages'))]
    assert len(per_device) == 4


def test_device_removed_while_reading_is_skipped(fake, capsys):
    _, gpus = fake.add_host('busy-node', gpus=2, vcpus=8, vcpus_used=8)
    fake.add_host('gpu-node-1', gpus=1)
    # Listed, then gone before its own reads: those answer 404.
    fake.forget(gpus[1])
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    assert [(r['Host'], r['Total']) for r in rows] == [('busy-node', 1),
                                                       ('gpu-node-1', 1)]


def test_no_pci_providers_says_how_to_enable_them(fake, capsys):
    fake.add_host('cpu-node-1')
    code, out, err = run(['gpu', 'capacity'], capsys)
    assert code == 1
    assert error_lines(err) == [gpu_inventory.NO_GPU]
    assert 'Traceback' not in err and out == ''


def test_unknown_alias_is_refused_before_any_request(cloud, fake, capsys):
    code, _, err = run(['gpu', 'capacity', '--alias', 'Q9'], capsys)
    assert code == 1
    lines = error_lines(err)
    assert len(lines) == 1
    assert lines[0].startswith("unknown GPU alias 'Q9': known aliases are ")
    assert 'P4' in lines[0] and 'A100' in lines[0]
    assert cloud.requests() == []


def test_alias_and_host_filter(fake, capsys):
    fake.add_host('gpu-node-1', gpus=2, used=1)
    fake.add_host('gpu-node-1', gpus=1, resource_class=T4)
    fake.add_host('gpu-node-2', gpus=2)
    code, rows, _ = run_json(['gpu', 'capacity', '--alias', 'P4'], capsys)
    assert code == 0
    assert [(r['Host'], r['Free']) for r in rows] == [('gpu-node-1', 1),
                                                      ('gpu-node-2', 2)]
    code, rows, _ = run_json(['gpu', 'capacity', '--host', 'gpu-node-1'],
                             capsys)
    assert [(r['Resource Class'], r['Free']) for r in rows] == [(P4, 1),
                                                                (T4, 1)]


def test_known_alias_without_devices_names_what_is_there(fake, capsys):
    fake.add_host('gpu-node-1', gpus=1)
    code, _, err = run(['gpu', 'capacity', '--alias', 'A40'], capsys)
    assert code == 1
    assert error_lines(err) == [
        "no device of alias 'A40' (CUSTOM_PCI_10DE_2235) in placement; "
        "classes reported: %s" % P4]


def test_unknown_host_names_hosts_with_devices(fake, capsys):
    fake.add_host('gpu-node-1', gpus=1)
    code, _, err = run(['gpu', 'capacity', '--host', 'gpu-node-9'], capsys)
    assert code == 1
    assert error_lines(err) == [
        "host 'gpu-node-9' has no GPU in placement; hosts with GPUs: "
        "gpu-node-1"]


def test_aliases_declared_in_clouds_yaml(cloud, fake, tmp_path, capsys):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(clouds.read_text() + (
        '    gpu_aliases:\n      A16: CUSTOM_A16_16A\n'
        '      p4small: "10de:1bb3"\n'))
    fake.add_host('gpu-node-1', gpus=1, resource_class='CUSTOM_A16_16A')
    fake.add_host('gpu-node-2', gpus=1)
    code, rows, err = run_json(['gpu', 'capacity', '--alias', 'A16'], capsys)
    assert code == 0, err
    assert rows == [{'Host': 'gpu-node-1', 'Model': '',
                     'Resource Class': 'CUSTOM_A16_16A', 'Aliases': ['A16'],
                     'Address': '', 'vGPU Types': [], 'Total': 1, 'Used': 0,
                     'Free': 1, 'Status': 'enabled'}]
    code, rows, err = run_json(['gpu', 'capacity', '--host', 'gpu-node-2'],
                               capsys)
    assert rows[0]['Aliases'] == ['p4small']


def test_placement_failure_is_one_line(fake, capsys):
    fake.add_host('gpu-node-1', gpus=1)
    fake.cloud.mock.get(fake.url + '/allocation_candidates', status_code=503,
                        json={'errors': [{'status': 503,
                                          'detail': 'database is down'}]})
    code, _, err = run(['gpu', 'capacity'], capsys)
    assert code == 1
    lines = error_lines(err)
    assert len(lines) == 1 and 'Traceback' not in err
    assert lines[0].startswith('reading provider usage from placement '
                               '(allocation candidates) failed (HTTP 503)')


# -- the data API the server-create preflight uses ---------------------
@pytest.fixture
def conn(cloud):
    return openstack.connect(cloud='fake')


def test_free_by_host_for_a_preflight(fake, conn):
    fake.add_host('gpu-node-1', gpus=4, used=4)
    fake.add_host('gpu-node-2', gpus=4, used=1)
    fake.add_host('gpu-node-3', gpus=2, resource_class=T4)
    caps = placement.pci_capacity(conn)
    assert capacity.free_by_host(caps, [P4]) == {'gpu-node-2': 3}


def test_allocated_devices_of_a_server(fake, conn):
    root, gpus = fake.add_host('gpu-node-1', gpus=2, used=1)
    fake.add_host('gpu-node-2', gpus=2)
    fake.allocate('server-1', {root: {'VCPU': 2, 'MEMORY_MB': 2048},
                               gpus[0]: {P4: 1}})
    before = len(fake.requests())
    got = placement.allocated_devices(conn, 'server-1')
    assert got == [capacity.AllocatedDevice(
        gpus[0], 'gpu-node-1_0000:81:00.0', 'gpu-node-1', '0000:81:00.0',
        P4, 1)]
    reads = [r.path for r in fake.requests()[before:]
             if 'placement/' in r.path]
    assert reads == ['/placement/allocations/server-1',
                     '/placement/resource_providers']


def test_server_without_devices_costs_one_read(fake, conn):
    root, _ = fake.add_host('cpu-node-1')
    fake.allocate('server-2', {root: {'VCPU': 1}})
    assert placement.allocated_devices(conn, 'server-2') == []
    assert [r.path for r in fake.requests()][-1] == (
        '/placement/allocations/server-2')


# -- computes whose nova-compute service is disabled --------------------
def test_disabled_compute_is_marked_and_offers_nothing(fake, capsys):
    fake.add_host('gpu-node-1', gpus=2, used=1)
    fake.add_host('gpu-node-2', gpus=2, disabled='maintenance')
    code, rows, err = run_json(['gpu', 'capacity'], capsys)
    assert code == 0, err
    assert [(r['Host'], r['Total'], r['Used'], r['Free'], r['Status'])
            for r in rows] == [('gpu-node-1', 2, 1, 1, 'enabled'),
                               ('gpu-node-2', 2, 0, 0, 'disabled')]
    reads = sorted((r.path, r.qs.get('required', [''])[0])
                   for r in fake.requests() if r.path.count('/') > 1)
    # The disabled root's trait comes with the allocation candidates.
    assert reads == [('/placement/allocation_candidates', ''),
                     ('/placement/resource_providers',
                      '!compute_managed_pci_device')]


def test_disabled_compute_without_free_vcpu_is_marked_too(fake, capsys):
    fake.add_host('busy-node', gpus=1, vcpus=4, vcpus_used=4, disabled='')
    code, rows, err = run_json(['gpu', 'capacity', '--host', 'busy-node'],
                               capsys)
    assert code == 0, err
    assert [(r['Free'], r['Status']) for r in rows] == [(0, 'disabled')]
    # Missing from the summaries: the lists of PCI devices and of disabled
    # roots tell.
    assert sorted(r.qs.get('required')[0] for r in fake.requests()
                  if r.path.endswith('/resource_providers')) == [
        '!compute_managed_pci_device', 'compute_managed_pci_device',
        'compute_status_disabled']


def test_availability_for_a_preflight_leaves_disabled_hosts_out(fake, conn):
    fake.add_host('gpu-node-1', gpus=1, used=1)
    fake.add_host('gpu-node-2', gpus=2, disabled='maintenance')
    caps = placement.pci_capacity(conn)
    assert capacity.free_by_host(caps, [P4]) == {}
    assert capacity.availability(caps) == capacity.Availability(
        free={P4: {'gpu-node-1': 0, 'gpu-node-2': 0}},
        disabled={'gpu-node-2': {P4: 2}})
