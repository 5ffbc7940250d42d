"""``gpu server create --min/--max``: capacity for the whole batch before
anything is created, one create per server named as nova names them, all
waited for together, and a failed batch leaving nothing or naming what
remains."""

import pytest

from osc_gpu.rules import preflight
from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.add_image('ubuntu')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1',
                                'hw:hide_hypervisor_id': 'true'}, id='f1')
    cloud.add_flavor('gpu.p4x2', {'pci_passthrough:alias': 'P4:2',
                                  'hw:hide_hypervisor_id': 'true'}, id='f2')
    return cloud


def create(*options, flavor='gpu.p4'):
    return ['gpu', 'server', 'create', 'ml', '--flavor', flavor, '--image',
            'ubuntu', '--nic', 'none'] + list(options)


def posts(cloud):
    return [r.json()['server'] for r in cloud.requests('POST')
            if r.path.endswith('/servers')]


def nth_server_answers(cloud, n, statuses=None, status_code=None):
    """Make the ``n``-th create (1-based) go through ``statuses``, or be
    refused with ``status_code``."""
    create_server = cloud._create_server
    seen = []

    def answer(request, context):
        seen.append(1)
        if len(seen) == n and status_code:
            context.status_code = status_code
            return {'forbidden': {'code': status_code,
                                  'message': 'Quota exceeded'}}
        made = create_server(request, context)
        if len(seen) == n and statuses:
            cloud.servers[made['server']['id']]['polls'] = list(statuses)
        return made
    cloud.mock.post(cloud.compute_url + '/servers', json=answer,
                    status_code=202)


def test_room_is_counted_in_whole_servers_per_host():
    assert preflight.room_for_servers([(2, {'a': 3, 'b': 2, 'c': 1})]) == 2
    assert preflight.room_for_servers([(1, {'a': 2}), (1, {'a': 1})]) == 1
    assert preflight.room_for_servers([]) == 0


def test_a_batch_the_hosts_cannot_take_is_refused_before_any_create(
        cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    cloud.placement.add_host('gpu-node-2', gpus=3, used=2)
    code, _, err = run(create('--min', '4', '--max', '4'), capsys)
    assert code == 1
    assert err.strip() == (
        "not enough free GPUs for 4 servers of flavor 'gpu.p4' (P4:1 each, "
        "on one host): the hosts have room for 3; free P4 per host: "
        "gpu-node-1 2, gpu-node-2 1 (wait for GPUs to be released, or ask "
        "for fewer)")
    assert cloud.writes() == []


def test_two_gpus_per_server_count_whole_servers(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=3)
    cloud.placement.add_host('gpu-node-2', gpus=1)
    code, _, err = run(create('--min', '2', '--max', '2', flavor='gpu.p4x2'),
                       capsys)
    assert code == 1
    assert 'the hosts have room for 1;' in err


def test_a_batch_is_one_create_per_server_named_as_nova_names_them(
        cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    code, rows, err = run_json(create('--min', '2', '--max', '2', '--wait'),
                               capsys)
    assert code == 0, err
    assert [p['name'] for p in posts(cloud)] == ['ml-1', 'ml-2']
    assert all('min_count' not in p for p in posts(cloud))
    assert [(r['name'], r['status'], r['gpus']) for r in rows] == [
        ('ml-1', 'ACTIVE', 'P4:1'), ('ml-2', 'ACTIVE', 'P4:1')]
    # Each had its own mark, removed once ACTIVE.
    marks = {t for p in posts(cloud) for t in p['tags']}
    assert len(marks) == 2
    assert all(s['tags'] == [] for s in cloud.servers.values())


def test_max_beyond_the_room_creates_what_fits(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    code, rows, err = run_json(create('--min', '1', '--max', '5'), capsys)
    assert code == 0, err
    assert [r['name'] for r in rows] == ['ml-1', 'ml-2']
    assert 'note: creating 2 of --max 5 servers: the hosts have room for 2' \
        in err


def test_a_batch_in_a_table_is_one_table_per_server(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    code, out, err = run(create('--max', '2', '-c', 'name', '-c', 'gpus'),
                         capsys)
    assert code == 0, err
    assert out.count('| Field | Value |') == 2
    assert '| name  | ml-1  |' in out and '| name  | ml-2  |' in out


def test_a_failed_batch_names_the_servers_that_remain(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    cloud.server_fault = 'No valid host was found.'
    nth_server_answers(cloud, 2, statuses=['BUILD', 'ERROR'])
    code, _, err = run(create('--min', '2', '--max', '2', '--wait'), capsys)
    assert code == 1
    ids = {s['name']: s['id'] for s in cloud.servers.values()}
    line = err.strip()
    assert line.startswith("server 'ml-2' went to ERROR (1 of 2 servers): "
                           "No valid host was found")
    assert line.endswith(
        "; servers that remain: ml-1 (%s, ACTIVE), ml-2 (%s, ERROR): delete "
        "them with 'openstack server delete %s %s'"
        % (ids['ml-1'], ids['ml-2'], ids['ml-1'], ids['ml-2']))
    assert len(line.splitlines()) == 1


def test_a_failed_batch_leaves_nothing_with_delete_on_error(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    nth_server_answers(cloud, 1, statuses=['BUILD', 'ERROR'])
    code, _, err = run(create('--max', '2', '--wait', '--delete-on-error'),
                       capsys)
    assert code == 1
    assert err.strip().endswith(
        "; the batch's 2 servers were deleted (--delete-on-error)")
    assert cloud.servers == {}


def test_a_refusal_after_min_servers_ends_the_batch_there(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    nth_server_answers(cloud, 2, status_code=403)
    code, rows, err = run_json(create('--min', '1', '--max', '2'), capsys)
    assert code == 0, err
    assert [r['name'] for r in rows] == ['ml-1']
    assert 'note: 1 of 2 servers created (at least 1 asked for): creating ' \
        "server 'ml-2' failed (HTTP 403)" in err


def test_a_refusal_before_min_servers_fails_the_batch(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    nth_server_answers(cloud, 2, status_code=403)
    code, _, err = run(create('--min', '2', '--max', '2'), capsys)
    assert code == 1
    [first] = cloud.servers.values()
    assert err.strip().startswith("creating server 'ml-2' failed (HTTP 403)")
    assert err.strip().endswith(
        "; servers that remain: ml-1 (%s): delete them with 'openstack "
        "server delete %s'" % (first['id'], first['id']))


def test_a_failed_status_read_deletes_the_servers_not_seen(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    cloud.server_statuses = ['BUILD', 'BUILD', 'ACTIVE']
    server_url = cloud.compute_path(r'/servers/[0-9a-f-]{36}$')
    reads = []
    get_server = cloud._get_server

    def failing_third_read(request, context):
        reads.append(1)
        if len(reads) == 3:
            context.status_code = 500
            return {'computeFault': {'code': 500, 'message': 'boom'}}
        return get_server(request, context)
    cloud.mock.get(server_url, json=failing_third_read)
    cloud.mock.delete(server_url, json=cloud._delete_server,
                      status_code=204)
    code, _, err = run(create('--max', '2', '--wait'), capsys)
    assert code == 1
    assert err.strip().endswith(
        "; servers 'ml-1', 'ml-2' it created were deleted")
    assert cloud.servers == {}
