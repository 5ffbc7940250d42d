"""``gpu image prepare`` and ``gpu server create`` against a faked cloud."""

import pytest

from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

P4 = 'CUSTOM_PCI_10DE_1BB3'


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.add_image('ubuntu')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1',
                                'hw:hide_hypervisor_id': 'true'}, id='f1')
    cloud.add_flavor('gpu.p4.visible', {'pci_passthrough:alias': 'P4:1'},
                     id='f2')
    return cloud


def test_prepare_sets_properties_in_one_patch_then_changes_nothing(cloud,
                                                                   capsys):
    code, shown, _ = run_json(['gpu', 'image', 'prepare', 'ubuntu',
                               '--machine-type', 'q35'], capsys)
    assert code == 0
    assert shown['result'] == 'changed'
    assert shown['changes'] == ['img_hide_hypervisor_id: (unset) -> true',
                                'hw_machine_type: (unset) -> q35']
    assert [m for m, _ in cloud.writes()] == ['PATCH']
    code, shown, _ = run_json(['gpu', 'image', 'prepare', 'ubuntu',
                               '--machine-type', 'q35'], capsys)
    assert (shown['result'], shown['changes']) == ('unchanged', [])
    assert [m for m, _ in cloud.writes()] == ['PATCH']


def test_prepare_dry_run_writes_nothing(cloud, capsys):
    code, shown, _ = run_json(['gpu', 'image', 'prepare', 'ubuntu',
                               '--dry-run'], capsys)
    assert (code, shown['result']) == (0, 'would change')
    assert shown['img_hide_hypervisor_id'] == 'true'
    assert cloud.writes() == []


def test_prepare_bad_firmware_is_refused_offline(cloud, capsys):
    code, _, err = run(['gpu', 'image', 'prepare', 'ubuntu', '--firmware',
                        'efi'], capsys)
    assert code == 1
    assert err.strip() == "invalid --firmware 'efi': use one of uefi, bios"
    assert cloud.requests() == []


def test_server_boots_after_checks_and_shows_its_gpu(cloud, capsys):
    root, [dev, _] = cloud.placement.add_host('gpu-node-1', gpus=2)
    code, server, err = run_json(['gpu', 'server', 'create', 'vm', '--flavor',
                                  'gpu.p4', '--image', 'ubuntu', '--nic',
                                  'none', '--wait'], capsys)
    assert code == 0, err
    assert server['status'] == 'ACTIVE'
    assert server['hypervisor_hidden_by'] == 'flavor hw:hide_hypervisor_id'
    request = next(iter(cloud.servers.values()))['request']
    assert request['networks'] == 'none'
    assert request['flavorRef'] == 'f1'


def test_unprepared_image_is_refused_before_any_write(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2)
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor',
                        'gpu.p4.visible', '--image', 'ubuntu', '--nic',
                        'none'], capsys)
    assert code == 1
    assert err.strip().startswith(
        "image 'ubuntu' does not hide the hypervisor: run 'openstack gpu "
        "image prepare ubuntu' or pass --prepare-image")
    assert cloud.writes() == []


def test_prepare_image_fixes_it_then_boots(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1)
    code, server, _ = run_json(['gpu', 'server', 'create', 'vm', '--flavor',
                                'gpu.p4.visible', '--image', 'ubuntu',
                                '--nic', 'none', '--prepare-image'], capsys)
    assert code == 0
    assert [m for m, _ in cloud.writes()] == ['PATCH', 'POST']


def test_over_ask_is_refused_with_free_counts(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2, used=2)
    cloud.placement.add_host('gpu-node-2', gpus=1)
    cloud.add_flavor('gpu.p4x2', {'pci_passthrough:alias': 'P4:2',
                                  'hw:hide_hypervisor_id': 'true'})
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor',
                        'gpu.p4x2', '--image', 'ubuntu', '--nic', 'none'],
                       capsys)
    assert code == 1
    assert err.strip() == (
        "not enough free GPUs for flavor 'gpu.p4x2' (P4:2) on any one host: "
        "free P4 per host: gpu-node-1 0, gpu-node-2 1 (wait for GPUs to be "
        "released, or ask for fewer)")
    assert cloud.writes() == []


def test_error_is_explained_and_deleted_on_request(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1)
    cloud.server_statuses = ['BUILD', 'ERROR']
    cloud.server_fault = ('No valid host was found. There are not enough '
                          'hosts available.')
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.p4',
                        '--image', 'ubuntu', '--nic', 'none', '--wait',
                        '--delete-on-error', '-f', 'json'], capsys)
    assert code == 1
    line = err.strip()
    assert line.startswith("server 'vm' went to ERROR: No valid host was "
                           "found. There are not enough hosts available (no "
                           "compute host could take P4:1")
    assert line.endswith('; the server was deleted (--delete-on-error)')
    assert cloud.servers == {}


def test_unknown_alias_from_nova_is_explained(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1)
    cloud.add_flavor('gpu.nope', {'pci_passthrough:alias': 'NOPE:1',
                                  'hw:hide_hypervisor_id': 'true'})
    cloud.mock.post(cloud.compute_url + '/servers', status_code=400,
                    json={'badRequest': {
                        'code': 400,
                        'message': 'PCI alias NOPE is not defined'}})
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor',
                        'gpu.nope', '--image', 'ubuntu', '--nic', 'none'],
                       capsys)
    assert code == 1
    assert 'nova-api does not know PCI alias NOPE' in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize('args, fragment', [
    (['--nic', 'none', '--nic', 'auto'], '--nic none/auto cannot be'),
    (['--nic', 'net=abc'], "invalid --nic 'net=abc'"),
    (['--user-data', '/nonexistent/file'], 'cannot read user data file'),
])
def test_bad_server_options_make_no_request(cloud, capsys, args, fragment):
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.p4',
                        '--image', 'ubuntu'] + args, capsys)
    assert code == 1 and fragment in err
    assert cloud.requests() == []


def test_server_made_despite_a_failed_create_is_found_and_deleted(cloud,
                                                                  capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1)
    create = cloud._create_server

    def made_then_failed(request, context):
        create(request, context)          # nova made it...
        context.status_code = 503         # ...but the answer was lost
        return {'message': 'Service Unavailable'}
    cloud.mock.post(cloud.compute_url + '/servers', json=made_then_failed)
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.p4',
                        '--image', 'ubuntu', '--nic', 'none'], capsys)
    assert code == 1
    assert err.strip().endswith('; the server nova made all the same was '
                                'deleted')
    assert cloud.servers == {}


def test_a_same_named_server_of_someone_else_is_left_alone(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1)
    other = {'id': 'other', 'name': 'vm', 'status': 'ACTIVE', 'polls': [],
             'request': {}, 'metadata': {'osc_gpu_request': 'not-ours'}}
    cloud.servers['other'] = other
    cloud.mock.post(cloud.compute_url + '/servers', status_code=503,
                    json={'message': 'Service Unavailable'})
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.p4',
                        '--image', 'ubuntu', '--nic', 'none'], capsys)
    assert code == 1
    assert list(cloud.servers) == ['other']


def _existing(cloud, flavor_name):
    cloud.servers['s1'] = {'id': 's1', 'name': 'vm', 'status': 'ACTIVE',
                           'polls': [], 'request': {}, 'metadata': {},
                           'flavor': {'original_name': flavor_name}}


def test_or_show_shows_the_existing_server_and_writes_nothing(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=1)
    _existing(cloud, 'gpu.p4')
    code, server, err = run_json(['gpu', 'server', 'create', 'vm',
                                  '--flavor', 'gpu.p4', '--image', 'ubuntu',
                                  '--nic', 'none', '--or-show'], capsys)
    assert code == 0, err
    assert (server['id'], server['gpus']) == ('s1', 'P4:1')
    assert cloud.writes() == []


def test_or_show_with_another_flavor_says_what_differs(cloud, capsys):
    _existing(cloud, 'gpu.p4.visible')
    code, _, err = run(['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.p4',
                        '--image', 'ubuntu', '--nic', 'none', '--or-show'],
                       capsys)
    assert code == 1
    assert err.strip() == ("server 'vm' exists with flavor 'gpu.p4.visible', "
                           "not 'gpu.p4' (use another name, or delete it "
                           "first)")
