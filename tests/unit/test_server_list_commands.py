"""``openstack gpu server list`` and ``show`` run for real against nova,
glance, keystone and placement faked at HTTP, requests counted."""

import re

import pytest

from tests.unit import fakecloud
from tests.unit import fakefleet
from tests.unit import fakekeystone
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

P4 = 'CUSTOM_PCI_10DE_1BB3'
T4 = 'CUSTOM_PCI_10DE_1EB8'
P4_SPECS = {'pci_passthrough:alias': 'P4:1', 'hw:hide_hypervisor_id': 'true'}


def make_cloud(requests_mock, tmp_path, monkeypatch, max_limit=1000,
               compute_max_version='2.104'):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch,
                                compute_max_version=compute_max_version)
    placement = fakeplacement.FakePlacement(cloud)
    return cloud, placement, fakefleet.FakeFleet(cloud, placement, max_limit)


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return make_cloud(requests_mock, tmp_path, monkeypatch)


def p4_device(row, host='gpu-node-1', address='0000:81:00.0'):
    return {'host': host, 'address': address,
            'provider': '%s_%s' % (host, address), 'resource_class': P4,
            'model': 'Tesla P4', 'aliases': ['P4'], 'units': 1}


def test_one_row_per_gpu_server_with_the_devices_it_holds(cloud, capsys):
    _, placement, nova = cloud
    _, p4s = placement.add_host('gpu-node-1', gpus=2)
    _, t4s = placement.add_host('gpu-node-2', gpus=1, resource_class=T4)
    ml1 = nova.add_server('ml-1', P4_SPECS, host='gpu-node-1',
                          devices=[p4s[1]], project_id='p2')
    nova.add_server('web-1', {'hw:cpu_policy': 'shared'}, host='gpu-node-1',
                    flavor='m1.small')
    failed = nova.add_server('ml-2', {'pci_passthrough:alias': 'T4:1'},
                             status='ERROR', flavor='gpu.t4',
                             fault='No valid host was found. ')
    shelved = nova.add_server('ml-3', P4_SPECS, status='SHELVED_OFFLOADED')
    vgpu = nova.add_server('v-1', {'resources:VGPU': '1'}, host='gpu-node-2',
                           flavor='vgpu.1', devices=[t4s[0]])
    code, rows, err = run_json(['gpu', 'server', 'list', '--all-projects'],
                               capsys)
    assert (code, err) == (0, '')
    by_id = {r['ID']: r for r in rows}
    assert set(by_id) == {ml1, failed, shelved, vgpu}
    assert by_id[ml1] == {
        'ID': ml1, 'Name': 'ml-1', 'Project ID': 'p2', 'Status': 'ACTIVE',
        'Host': 'gpu-node-1', 'Flavor': 'gpu.p4', 'GPUs': 'P4:1',
        'GPU Devices': [p4_device(None, address='0000:82:00.0')]}
    assert (by_id[failed]['Status'], by_id[failed]['GPUs'],
            by_id[failed]['GPU Devices'], by_id[failed]['Host']) == (
        'ERROR', 'T4:1', [], None)
    assert by_id[shelved]['GPU Devices'] == []
    assert by_id[vgpu]['GPUs'] == 'resources:VGPU=1'
    assert [d['model'] for d in by_id[vgpu]['GPU Devices']] == ['Tesla T4']


def test_table_shows_one_line_per_device(cloud, capsys):
    _, placement, nova = cloud
    _, p4s = placement.add_host('gpu-node-1', gpus=2)
    nova.add_server('ml-1', {'pci_passthrough:alias': 'P4:2'},
                    host='gpu-node-1', devices=p4s)
    code, out, err = run(['gpu', 'server', 'list', '-c', 'GPU Devices'],
                         capsys)
    assert (code, err) == (0, '')
    assert out.splitlines()[3:5] == [
        '| gpu-node-1 0000:81:00.0 Tesla P4 |',
        '| gpu-node-1 0000:82:00.0 Tesla P4 |']


def _listing(requests_mock, tmp_path, monkeypatch, capsys, servers):
    """The requests of one listing: 4 hosts x 4 GPUs, 6 GPUs in use by 6
    servers, and ``servers`` servers in all (the others asking for GPUs
    but shelved, or asking for none)."""
    cloud, placement, nova = make_cloud(requests_mock, tmp_path,
                                        monkeypatch)
    devices = []
    for index in range(4):
        devices += placement.add_host('node-%d' % index, gpus=4)[1]
    for index in range(servers):
        if index < 6:
            nova.add_server('gpu-%d' % index, P4_SPECS,
                            host='node-%d' % (index % 4),
                            devices=[devices[index * 2]])
        elif index % 2:
            nova.add_server('shelved-%d' % index, P4_SPECS,
                            status='SHELVED_OFFLOADED')
        else:
            nova.add_server('web-%d' % index, {}, host='node-0')
    code, rows, err = run_json(['gpu', 'server', 'list', '--all-projects'],
                               capsys)
    assert code == 0, err
    assert sum(len(r['GPU Devices']) for r in rows) == 6
    return [(r.method, r.path) for r in requests_mock.request_history]


def test_requests_do_not_grow_with_servers(requests_mock, tmp_path,
                                           monkeypatch, capsys):
    small = _listing(requests_mock, tmp_path, monkeypatch, capsys, 8)
    requests_mock.reset_mock()
    large = _listing(requests_mock, tmp_path, monkeypatch, capsys, 300)
    assert len(small) == len(large)
    # One allocation read per device in use (6), not per server.
    allocations = [p for _, p in large if p.endswith('/allocations')]
    assert len(allocations) == 6
    assert sum(1 for _, p in large if p.endswith('/servers/detail')) == 1
    # No flavor, image or per-server read: nova embeds the flavor.
    assert not [p for _, p in large
                if '/flavors' in p or '/images' in p or '/servers/' in p
                and not p.endswith('/servers/detail')]


def test_servers_are_read_page_by_page(requests_mock, tmp_path, monkeypatch,
                                       capsys):
    _, placement, nova = make_cloud(requests_mock, tmp_path, monkeypatch,
                                    max_limit=50)
    _, p4s = placement.add_host('gpu-node-1', gpus=1)
    for index in range(120):
        nova.add_server('vm-%03d' % index, P4_SPECS,
                        status='SHELVED_OFFLOADED')
    nova.add_server('last', P4_SPECS, host='gpu-node-1', devices=p4s)
    code, rows, err = run_json(['gpu', 'server', 'list'], capsys)
    assert code == 0, err
    assert len(rows) == 121
    assert [r['GPU Devices'] for r in rows if r['Name'] == 'last'] == [
        [p4_device(None)]]
    assert len(nova.list_requests()) == 3     # 50 + 50 + 21


def test_unknown_alias_is_refused_before_any_request(cloud, capsys):
    code, out, err = run(['gpu', 'server', 'list', '--alias', 'P5'], capsys)
    assert code == 1
    assert err.startswith("unknown GPU alias 'P5': known aliases are ")
    assert 'P4' in err and len(err.strip().splitlines()) == 1
    assert cloud[0].requests() == []


def test_alias_keeps_servers_asking_for_or_holding_its_gpus(cloud, capsys):
    _, placement, nova = cloud
    _, p4s = placement.add_host('gpu-node-1', gpus=2)
    _, t4s = placement.add_host('gpu-node-2', gpus=1, resource_class=T4)
    by_alias = nova.add_server('a', P4_SPECS, host='gpu-node-1',
                               devices=[p4s[0]])
    by_class = nova.add_server('b', {'resources:%s' % P4: '1'},
                               host='gpu-node-1', devices=[p4s[1]])
    waiting = nova.add_server('c', P4_SPECS, status='ERROR')
    nova.add_server('d', {'pci_passthrough:alias': 'T4:1'},
                    host='gpu-node-2', devices=t4s)
    code, rows, err = run_json(['gpu', 'server', 'list', '--alias', 'P4'],
                               capsys)
    assert code == 0, err
    assert {r['ID'] for r in rows} == {by_alias, by_class, waiting}


def test_host_filters_in_nova_and_reads_only_that_hosts_devices(
        cloud, capsys):
    _, placement, nova = cloud
    _, here = placement.add_host('gpu-node-1', gpus=2)
    _, there = placement.add_host('gpu-node-2', gpus=2)
    mine = nova.add_server('a', P4_SPECS, host='gpu-node-1', devices=here)
    nova.add_server('b', P4_SPECS, host='gpu-node-2', devices=there)
    code, rows, err = run_json(['gpu', 'server', 'list', '--host',
                                'gpu-node-1'], capsys)
    assert code == 0, err
    assert [r['ID'] for r in rows] == [mine]
    [listing] = nova.list_requests()
    assert 'host=gpu-node-1' in listing.url
    read = {r.path.split('/')[-2] for r in placement.requests()
            if r.path.endswith('/allocations')}
    assert read == set(here)


def test_project_by_name_searches_all_projects_like_server_list(
        cloud, capsys):
    osc, placement, nova = cloud
    keystone = fakekeystone.FakeKeystone(osc)
    team = keystone.add_project('ml-team')
    _, p4s = placement.add_host('gpu-node-1', gpus=2)
    theirs = nova.add_server('a', P4_SPECS, host='gpu-node-1',
                             devices=[p4s[0]], project_id=team['id'])
    nova.add_server('b', P4_SPECS, host='gpu-node-1', devices=[p4s[1]])
    code, rows, err = run_json(['gpu', 'server', 'list', '--project',
                                'ml-team'], capsys)
    assert code == 0, err
    assert [r['ID'] for r in rows] == [theirs]
    [listing] = nova.list_requests()
    assert 'all_tenants=True' in listing.url
    assert 'project_id=%s' % team['id'] in listing.url


def test_without_pci_in_placement_devices_are_unknown_not_none(cloud,
                                                               capsys):
    _, placement, nova = cloud
    placement.add_host('gpu-node-1')
    nova.add_server('a', P4_SPECS, host='gpu-node-1')
    code, rows, err = run_json(['gpu', 'server', 'list'], capsys)
    assert code == 0
    assert [r['GPU Devices'] for r in rows] == [None]
    assert err.startswith('note: devices not shown: PCI devices are not '
                          'reported to placement')


def test_a_host_without_device_providers_gives_unknown_devices(
        cloud, capsys):
    _, placement, nova = cloud
    _, p4s = placement.add_host('gpu-node-1', gpus=1)
    placement.add_host('old-node')
    nova.add_server('a', P4_SPECS, host='gpu-node-1', devices=p4s)
    nova.add_server('b', P4_SPECS, host='old-node')
    code, rows, err = run_json(['gpu', 'server', 'list'], capsys)
    assert code == 0, err
    assert [len(r['GPU Devices'] or 'x') for r in rows] == [1, 1]
    assert rows[1]['GPU Devices'] is None
    assert err == ('note: devices not shown on old-node: no PCI device there '
                   'is reported to placement ([pci] report_in_placement is '
                   'off), and nova has no other API that names them\n')


def test_no_note_about_devices_when_no_gpu_server_is_listed(
        cloud, capsys, requests_mock):
    osc, placement, nova = cloud
    requests_mock.get(re.compile(re.escape(osc.placement_url) + '/.+'),
                      status_code=403,
                      json={'errors': [{'status': 403, 'detail': 'no'}]})
    nova.add_server('web', {}, host='node-1')
    code, rows, err = run_json(['gpu', 'server', 'list'], capsys)
    assert (code, rows, err) == (0, [], '')
    nova.add_server('ml', P4_SPECS, host='node-1')
    code, rows, err = run_json(['gpu', 'server', 'list'], capsys)
    assert [r['GPU Devices'] for r in rows] == [None]
    assert err.startswith('note: devices not shown: ') and '(HTTP 403)' in err


def test_allocations_of_no_listed_server_are_noted(cloud, capsys):
    _, placement, nova = cloud
    _, p4s = placement.add_host('gpu-node-1', gpus=2)
    nova.add_server('a', P4_SPECS, host='gpu-node-1', devices=[p4s[0]])
    nova.hold('0b7c3a52-5d1e-4a5e-9d4e-3f6b1c2d3e4f', [p4s[1]])
    code, rows, err = run_json(['gpu', 'server', 'list', '--all-projects'],
                               capsys)
    assert code == 0
    assert err == ("note: 1 device allocation belongs to no listed server "
                   "(0b7c3a52-5d1e-4a5e-9d4e-3f6b1c2d3e4f): a migration in "
                   "progress holds its source's devices under the "
                   "migration's id, else the allocation outlived its "
                   "server; see 'openstack resource provider allocation "
                   "show <id>'\n")


def test_before_2_47_each_flavor_is_read_once(requests_mock, tmp_path,
                                              monkeypatch, capsys):
    osc, placement, nova = make_cloud(requests_mock, tmp_path, monkeypatch,
                                      compute_max_version='2.40')
    flavor = osc.add_flavor('gpu.p4', P4_SPECS)
    _, p4s = placement.add_host('gpu-node-1', gpus=2)
    for index in range(2):
        nova.add_server('vm-%d' % index, P4_SPECS, host='gpu-node-1',
                        devices=[p4s[index]], flavor_id=flavor['id'])
    code, rows, err = run_json(['gpu', 'server', 'list'], capsys)
    assert code == 0, err
    assert [(r['Flavor'], r['GPUs']) for r in rows] == [('gpu.p4', 'P4:1')
                                                        ] * 2
    reads = [r.path for r in requests_mock.request_history
             if '/flavors/' in r.path]
    assert len(reads) == len(set(reads)) <= 2   # the flavor, its specs


def test_show_names_devices_guest_view_and_what_hides_kvm(cloud, capsys):
    osc, placement, nova = cloud
    image = osc.add_image('ubuntu')
    _, p4s = placement.add_host('gpu-node-1', gpus=1)
    server = nova.add_server(
        'ml-1', {'pci_passthrough:alias': 'P4:1'}, host='gpu-node-1',
        devices=p4s, image=image['id'],
        image_properties={'img_hide_hypervisor_id': 'true'})
    code, shown, err = run_json(['gpu', 'server', 'show', 'ml-1'], capsys)
    assert (code, err) == (0, '')
    assert shown == {
        'id': server, 'name': 'ml-1', 'project_id': fakecloud.PROJECT_ID,
        'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'gpu-node-1',
        'OS-EXT-SRV-ATTR:hypervisor_hostname': 'gpu-node-1',
        'flavor': 'gpu.p4', 'image': 'ubuntu', 'gpus': 'P4:1',
        'gpu_devices': [p4_device(None)],
        'guest_pci_devices': [{
            'model': 'Tesla P4', 'vendor_id': '10de', 'product_id': '1bb3',
            'count': 1, 'host_address': '0000:81:00.0',
            'guest_address': None,
            'find_in_guest': 'lspci -nn -d 10de:1bb3'}],
        'hypervisor_hidden_by': 'image img_hide_hypervisor_id',
        'fault': None}


def test_show_before_2_98_reads_the_image_from_glance(
        requests_mock, tmp_path, monkeypatch, capsys):
    osc, placement, nova = make_cloud(requests_mock, tmp_path, monkeypatch,
                                      compute_max_version='2.90')
    image = osc.add_image('ubuntu', img_hide_hypervisor_id='true')
    server = nova.add_server('ml-1', {'pci_passthrough:alias': 'P4:1'},
                             status='ERROR', image=image['id'],
                             fault='No valid host was found. ')
    code, shown, err = run_json(['gpu', 'server', 'show', server], capsys)
    assert (code, err) == (0, '')
    assert (shown['gpu_devices'], shown['guest_pci_devices'],
            shown['hypervisor_hidden_by'], shown['fault']) == (
        [], [], 'image img_hide_hypervisor_id', 'No valid host was found. ')


def test_show_says_when_the_host_reports_no_devices(cloud, capsys):
    _, placement, nova = cloud
    placement.add_host('gpu-node-1', gpus=1)
    placement.add_host('old-node')
    nova.add_server('ml-1', P4_SPECS, host='old-node', image='')
    code, shown, err = run_json(['gpu', 'server', 'show', 'ml-1'], capsys)
    assert code == 0
    assert (shown['gpu_devices'], shown['guest_pci_devices'],
            shown['image'], shown['hypervisor_hidden_by']) == (
        None, None, None, 'flavor hw:hide_hypervisor_id')
    assert err == ('note: devices not shown: old-node reports no PCI device '
                   'to placement ([pci] report_in_placement is off), and '
                   'nova has no other API that names them\n')


@pytest.mark.parametrize('argv, fragment', [
    (['gpu', 'server', 'show', ''], 'invalid server'),
    (['gpu', 'server', 'show', 'a\nb'], r"invalid server 'a\nb'"),
    (['gpu', 'server', 'list', '--host', ' node'], 'invalid host'),
    (['gpu', 'server', 'list', '--project', ''], 'invalid project'),
])
def test_impossible_values_are_refused_before_any_request(cloud, capsys,
                                                          argv, fragment):
    code, _, err = run(argv, capsys)
    assert code == 1 and fragment in err, err
    assert len(err.strip().splitlines()) == 1
    assert cloud[0].requests() == []


def test_project_keystone_will_not_look_up_is_taken_as_an_id(
        cloud, capsys, requests_mock):
    osc, placement, nova = cloud
    fakekeystone.FakeKeystone(osc)
    for path in (r'/projects/p2$', r'/projects\?'):
        requests_mock.get(re.compile(re.escape(osc.auth_url) + path),
                          status_code=403,
                          json={'error': {'code': 403, 'message': 'no'}})
    _, p4s = placement.add_host('gpu-node-1', gpus=1)
    theirs = nova.add_server('a', P4_SPECS, host='gpu-node-1', devices=p4s,
                             project_id='p2')
    code, rows, err = run_json(['gpu', 'server', 'list', '--project', 'p2'],
                               capsys)
    assert code == 0, err
    assert [r['ID'] for r in rows] == [theirs]
