"""``gpu server create`` with openstack server create's boot, block device
and metadata options, against a cloud faked at HTTP (cinder included)."""

import re

import pytest

from tests.unit import fakecloud
from tests.unit import fakeplacement
from tests.unit import fakevolumes
from tests.unit.fakecloud import run, run_json

HIDE = {'img_hide_hypervisor_id': 'true'}


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.placement.add_host('gpu-node-1', gpus=2)
    cloud.cinder = fakevolumes.FakeVolumes(cloud)
    cloud.image = cloud.add_image('ubuntu')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1',
                                'hw:hide_hypervisor_id': 'true'}, id='f1')
    cloud.add_flavor('gpu.p4.visible', {'pci_passthrough:alias': 'P4:1'},
                     id='f2')
    return cloud


def create(*options, flavor='gpu.p4'):
    return ['gpu', 'server', 'create', 'vm', '--flavor', flavor, '--nic',
            'none'] + list(options)


def body(cloud):
    [server] = cloud.servers.values()
    return server['request']


# -- refused before any request -------------------------------------------
@pytest.mark.parametrize('options, line', [
    ([], 'no boot disk: give --image, --volume or --snapshot (e.g. --image '
         'ubuntu-24.04)'),
    (['--volume', 'v', '--boot-from-volume', '1'],
     '--volume is not allowed with --boot-from-volume, which makes the boot '
     'volume from --image'),
    (['--image', 'ubuntu', '--delete-on-termination'],
     '--delete-on-termination can only be used with --boot-from-volume'),
    (['--image', 'ubuntu', '--min', '3', '--max', '2'],
     '--min 3 is more than --max 2: min instances should be <= max '
     'instances'),
    (['--image', 'ubuntu', '--tag', 'a/b'],
     "invalid --tag 'a/b': use 1-60 characters without ',' or '/'"),
    (['--image', 'ubuntu', '--hostname', 'a b'],
     "invalid --hostname 'a b': use 1-255 letters, digits, '-', '.' and '_' "
     "(e.g. --hostname ml-1.example.org)"),
    (['--image', 'ubuntu', '--hostname', 'ml', '--max', '2'],
     '--hostname names one server: nova refuses it for --max 2 (leave it '
     'out: each server gets its name)'),
    (['--image', 'ubuntu', '--max', '2', '-f', 'shell'],
     '-f shell shows one server: a batch (--max 2) needs -f json, yaml, '
     'value or table'),
])
def test_options_nova_or_osc_refuse_make_no_request(cloud, capsys,
                                                    options, line):
    code, out, err = run(create(*options), capsys)
    assert (code, err.strip()) == (1, line)
    assert cloud.requests() == []


@pytest.mark.parametrize('options, fragment', [
    (['--image', 'ubuntu', '--volume', 'v'],
     'argument --volume: not allowed with argument --image'),
    (['--image', 'ubuntu', '--boot-from-volume', '0'],
     "argument --boot-from-volume: '0' is not a whole number from 1"),
    (['--image', 'ubuntu', '--block-device', 'size=1'],
     "invalid --block-device 'size=1': unknown key 'size'"),
    (['--image', 'ubuntu', '--block-device', 'source_type=volume'],
     'source_type volume needs uuid=<name or ID>'),
    (['--image', 'ubuntu', '--block-device',
      'source_type=blank,destination_type=volume,volume_size=1,boot_index=0'],
     'boot_index=0 would be a second boot disk'),
    (['--image', 'ubuntu', '--block-device',
      'source_type=blank,delete_on_termination=maybe'],
     'delete_on_termination must be true or false'),
    (['--image', 'ubuntu', '--config-drive', 'sometimes'],
     "invalid --config-drive 'sometimes': use true or false"),
    (['--image', 'ubuntu'] + sum([['--tag', 't%d' % i] for i in range(51)],
                                 []),
     'too many --tag options: 51; nova takes at most 50'),
    (['--image', 'ubuntu', '--description', 'a\nb'],
     'invalid server description'),
])
def test_more_offline_refusals(cloud, capsys, options, fragment):
    code, out, err = run(create(*options), capsys)
    assert code == 1 and fragment in err, err
    assert len(err.strip().splitlines()) == 1
    assert cloud.requests() == []


# -- the request nova gets ----------------------------------------------
def test_boot_from_volume_maps_the_image_to_a_new_volume_as_osc_does(
        cloud, capsys):
    code, server, err = run_json(create(
        '--image', 'ubuntu', '--boot-from-volume', '20',
        '--delete-on-termination', '--wait'), capsys)
    assert code == 0, err
    sent = body(cloud)
    assert sent['imageRef'] == ''
    assert sent['block_device_mapping_v2'] == [{
        'uuid': cloud.image['id'], 'boot_index': 0, 'source_type': 'image',
        'destination_type': 'volume', 'volume_size': 20,
        'delete_on_termination': True}]
    assert server['image'] == 'N/A (booted from volume)'


def test_osc_options_reach_nova_as_osc_sends_them(cloud, capsys):
    group = cloud.add_server_group('gpu-spread')
    code, server, err = run_json(create(
        '--image', 'ubuntu', '--tag', 'ml', '--tag', 'team-a',
        '--description', 'training box', '--hostname', 'ml-1',
        '--use-config-drive', '--hint', 'same_host=abc', '--hint',
        'different_cell=c1', '--hint', 'different_cell=c2',
        '--server-group', 'gpu-spread', '--block-device',
        'source_type=blank,destination_type=volume,volume_size=10,tag=data',
        '--wait'), capsys)
    assert code == 0, err
    sent = body(cloud)
    [mark] = [t for t in sent['tags'] if t.startswith('osc-gpu:create-')]
    assert sent['tags'] == ['ml', 'team-a', mark]
    assert (sent['description'], sent['hostname'], sent['config_drive']) == (
        'training box', 'ml-1', True)
    assert sent['block_device_mapping_v2'][1] == {
        'source_type': 'blank', 'destination_type': 'volume',
        'volume_size': 10, 'tag': 'data'}
    posted = [r.json() for r in cloud.requests('POST')
              if r.path.endswith('/servers')][0]
    assert posted['OS-SCH-HNT:scheduler_hints'] == {
        'same_host': 'abc', 'different_cell': ['c1', 'c2'],
        'group': group['id']}


def test_the_create_mark_is_a_tag_removed_once_active(cloud, capsys):
    code, server, err = run_json(create('--image', 'ubuntu', '--wait'),
                                 capsys)
    assert code == 0, err
    [kept] = cloud.servers.values()
    assert kept['tags'] == [] and kept['metadata'] == {}
    [delete] = [r for r in cloud.requests('DELETE')]
    assert '/tags/osc-gpu:create-' in delete.path


def test_without_wait_the_mark_stays_until_nova_allows_removing_it(cloud,
                                                                   capsys):
    code, server, err = run_json(create('--image', 'ubuntu'), capsys)
    assert code == 0, err
    assert server['status'] == 'BUILD'
    assert cloud.requests('DELETE') == []


def test_older_clouds_mark_with_metadata_and_remove_it(
        requests_mock, tmp_path, monkeypatch, capsys):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch,
                                compute_max_version='2.51')
    fakeplacement.FakePlacement(cloud).add_host('gpu-node-1', gpus=1)
    # Pike honours only the image property.
    cloud.add_image('ubuntu', **HIDE)
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1'})
    code, server, err = run_json(create('--image', 'ubuntu', '--wait'),
                                 capsys)
    assert code == 0, err
    [kept] = cloud.servers.values()
    assert 'tags' not in kept['request']
    assert 'osc-gpu:create' in kept['request']['metadata']
    assert kept['metadata'] == {}


def test_with_the_50_tags_nova_takes_the_mark_goes_to_the_metadata(
        cloud, capsys):
    tags = ['t%d' % i for i in range(50)]
    code, _, err = run_json(create('--image', 'ubuntu', '--wait', *sum(
        [['--tag', t] for t in tags], [])), capsys)
    assert code == 0, err
    [kept] = cloud.servers.values()
    assert kept['request']['tags'] == tags
    assert 'osc-gpu:create' in kept['request']['metadata']
    assert (kept['tags'], kept['metadata']) == (tags, {})


def test_options_the_cloud_is_too_old_for_are_refused_before_create(
        requests_mock, tmp_path, monkeypatch, capsys):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch,
                                compute_max_version='2.79')
    fakeplacement.FakePlacement(cloud).add_host('gpu-node-1', gpus=1)
    cloud.add_image('ubuntu')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1',
                                'hw:hide_hypervisor_id': 'true'})
    code, _, err = run(create('--image', 'ubuntu', '--hostname', 'ml-1'),
                       capsys)
    assert code == 1
    assert err.strip() == ('--hostname needs compute API microversion 2.90 '
                           '(Xena) or later; this cloud offers 2.79 (Train)')
    assert cloud.writes() == []


# -- volumes and snapshots --------------------------------------------------
def test_a_volume_is_checked_by_its_image_metadata(cloud, capsys):
    cloud.cinder.add_volume('plain-vol')
    code, _, err = run(create('--volume', 'plain-vol',
                              flavor='gpu.p4.visible'), capsys)
    assert code == 1
    assert err.strip() == (
        "volume 'plain-vol' does not hide the hypervisor (no "
        "img_hide_hypervisor_id=true in the image metadata of the volume): "
        "run 'openstack volume set --image-property "
        "img_hide_hypervisor_id=true plain-vol' or pass --prepare-image (or "
        "--visible-hypervisor for GPUs whose drivers do not mind)")
    assert cloud.writes() == []


def test_a_prepared_volume_boots_from_itself(cloud, capsys):
    volume = cloud.cinder.add_volume('ml-vol', HIDE)
    code, server, err = run_json(create('--volume', 'ml-vol', '--wait',
                                        flavor='gpu.p4.visible'), capsys)
    assert code == 0, err
    assert server['hypervisor_hidden_by'] == 'image img_hide_hypervisor_id'
    assert server['image'] == 'N/A (booted from volume)'
    assert body(cloud)['block_device_mapping_v2'] == [{
        'uuid': volume['id'], 'boot_index': 0, 'source_type': 'volume',
        'destination_type': 'volume'}]


def test_prepare_image_sets_the_volume_property_through_cinder(cloud,
                                                               capsys):
    volume = cloud.cinder.add_volume('plain-vol')
    code, server, err = run_json(create('--volume', 'plain-vol',
                                        '--prepare-image',
                                        flavor='gpu.p4.visible'), capsys)
    assert code == 0, err
    assert cloud.cinder.actions == [(volume['id'], {
        'os-set_image_metadata': {'metadata': HIDE}})]
    assert [m for m, _ in cloud.writes()] == ['POST', 'POST']


def test_a_snapshot_is_checked_by_its_volume(cloud, capsys):
    volume = cloud.cinder.add_volume('src', HIDE)
    snapshot = cloud.cinder.add_snapshot('snap', volume)
    code, server, err = run_json(create('--snapshot', 'snap',
                                        flavor='gpu.p4.visible'), capsys)
    assert code == 0, err
    assert body(cloud)['block_device_mapping_v2'] == [{
        'uuid': snapshot['id'], 'boot_index': 0, 'source_type': 'snapshot',
        'destination_type': 'volume', 'delete_on_termination': False}]


def test_a_snapshot_cannot_be_prepared(cloud, capsys):
    volume = cloud.cinder.add_volume('src')
    cloud.cinder.add_snapshot('snap', volume)
    code, _, err = run(create('--snapshot', 'snap', '--prepare-image',
                              flavor='gpu.p4.visible'), capsys)
    assert code == 1
    assert err.strip().startswith(
        "--prepare-image cannot change snapshot 'snap': cinder keeps the "
        "image metadata it copied when the snapshot was taken")
    assert cloud.writes() == []


def test_a_snapshot_whose_volume_is_gone_needs_a_hiding_flavor(cloud,
                                                               capsys):
    volume = cloud.cinder.add_volume('src', HIDE)
    cloud.cinder.add_snapshot('snap', volume)
    del cloud.cinder.volumes[volume['id']]
    code, _, err = run(create('--snapshot', 'snap',
                              flavor='gpu.p4.visible'), capsys)
    assert code == 1
    assert err.strip().startswith(
        "snapshot 'snap' does not hide the hypervisor as far as can be told "
        "(its volume '%s' is gone): boot with a flavor that hides it"
        % volume['id'])
    code, _, err = run(create('--snapshot', 'snap'), capsys)
    assert code == 0, err


# -- what is printed ------------------------------------------------------
def test_the_result_has_server_shows_columns_and_the_gpu_ones(
        cloud, capsys):
    code, server, err = run_json(create('--image', 'ubuntu', '--wait'),
                                 capsys)
    assert code == 0, err
    assert list(server) == [
        'id', 'name', 'status', 'flavor', 'image', 'volumes_attached',
        'addresses', 'key_name', 'security_groups', 'OS-EXT-SRV-ATTR:host',
        'gpus', 'gpu_devices', 'hypervisor_hidden_by']
    assert server['flavor']['original_name'] == 'gpu.p4'
    assert server['flavor']['extra_specs']['pci_passthrough:alias'] == 'P4:1'
    assert server['image'] == 'ubuntu (%s)' % cloud.image['id']
    assert server['OS-EXT-SRV-ATTR:host'] == 'gpu-node-1'
    assert (server['addresses'], server['volumes_attached']) == ({}, [])


def test_a_member_boots_with_the_checks_placement_allows(cloud, capsys):
    """Placement is admin-only by default: its refusal leaves capacity to
    nova and the GPU devices unknown, with notes; the boot goes on."""
    forbidden = {'errors': [{'status': 403, 'title': 'Forbidden',
                             'detail': 'Policy does not allow it'}]}
    for path in (r'/resource_providers(\?.*)?$', r'/allocations/[^/]+$'):
        cloud.mock.get(re.compile(re.escape(cloud.placement_url) + path),
                       status_code=403, json=forbidden)
    code, server, err = run_json(create('--image', 'ubuntu', '--wait'),
                                 capsys)
    assert code == 0, err
    assert server['status'] == 'ACTIVE' and server['gpu_devices'] is None
    notes = [line for line in err.splitlines() if line.startswith('note:')]
    assert [n.split(':')[1].strip() for n in notes] == [
        'GPU capacity not checked', 'gpu_devices unknown']
