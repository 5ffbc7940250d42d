"""openstack server create's options on gpu server create: boot from a
volume, batches, the same servers as plain OSC makes, and no osc-gpu
bookkeeping left on them.

These run on the local cloud (cinder included), whose GPU layout is known:
gpu-node-1 has two Tesla P4, gpu-node-2 one Tesla M60 and one Tesla T4.
"""

import json
import time

import pytest

from tests.functional.cli import unique


@pytest.fixture
def image(osc, cleanup, tmp_path):
    """A fresh 1 MiB raw image, prepared unless asked otherwise."""
    def make(prepared=True):
        disk = tmp_path / 'disk.raw'
        disk.write_bytes(b'\0' * 1024 * 1024)
        created = osc.json(['image', 'create', unique('img'), '--disk-format',
                            'raw', '--container-format', 'bare', '--file',
                            str(disk)])
        cleanup.append(('image', created['id']))
        if prepared:
            osc.run(['gpu', 'image', 'prepare', created['id']])
        return created['name']
    return make


@pytest.fixture
def flavor(osc, cleanup):
    def make(gpus, *extra):
        created = osc.json(['gpu', 'flavor', 'create', unique('flv'),
                            '--gpu', gpus, '--ram', '256', '--disk', '1']
                           + list(extra))
        cleanup.append(('flavor', created['id']))
        return created['name']
    return make


@pytest.fixture
def volumes(osc):
    """Volumes to delete after the test, with the servers using them
    (``cleanup`` may come later: fixtures that use it were set up first)."""
    made = []
    yield made
    for volume in made:
        shown = osc.run(['volume', 'show', volume, '-f', 'json'],
                        check=False)
        if shown.returncode != 0:
            continue                                    # gone already
        for attachment in json.loads(shown.stdout)['attachments']:
            osc.run(['server', 'delete', '--wait',
                     attachment['server_id']], check=False)
        # Detaching from a deleted server can take a moment.
        for _ in range(60):
            status = osc.run(['volume', 'show', volume, '-f', 'value', '-c',
                              'status'], check=False).stdout.strip()
            if status in ('available', 'error', ''):
                break
            time.sleep(2)
        osc.run(['volume', 'delete', volume], check=False)


def volume_from(osc, volumes, image):
    volume = osc.json(['volume', 'create', unique('vol'), '--image', image,
                       '--size', '1'])
    volumes.append(volume['id'])
    for _ in range(120):
        status = osc.json(['volume', 'show', volume['id']])['status']
        if status in ('available', 'error'):
            break
        time.sleep(0.5)
    assert status == 'available'
    return volume


def servers_named(osc, prefix):
    return [s for s in osc.json(['server', 'list', '--name', prefix])
            if s['Name'] == prefix or s['Name'].startswith(prefix + '-')]


def hidden(xml):
    return "<hidden state='on'/>" in xml.replace('"', "'")


def test_boot_from_volume_reaches_active_with_its_gpu(osc, devcloud, image,
                                                      flavor, cleanup):
    prepared = image()
    server = osc.json(['gpu', 'server', 'create', unique('bfv'), '--flavor',
                       flavor('T4:1', '--no-hide-hypervisor'), '--image',
                       prepared, '--boot-from-volume', '1',
                       '--delete-on-termination', '--nic', 'none', '--wait'])
    cleanup.append(('server', server['id']))
    assert server['status'] == 'ACTIVE'
    assert server['image'] == 'N/A (booted from volume)'
    # cinder copied the image's properties to the volume; nova read them.
    assert server['hypervisor_hidden_by'] == 'image img_hide_hypervisor_id'
    [device] = server['gpu_devices']
    assert device.startswith('gpu-node-2_')
    [volume] = server['volumes_attached']
    assert volume['delete_on_termination'] is True
    xml = devcloud.domain_xml(server['id'])
    assert '<hostdev' in xml and hidden(xml)


def test_a_volume_made_from_a_prepared_image_boots(osc, devcloud, image,
                                                   flavor, volumes, cleanup):
    volume = volume_from(osc, volumes, image())
    server = osc.json(['gpu', 'server', 'create', unique('vol'), '--flavor',
                       flavor('M60:1', '--no-hide-hypervisor'), '--volume',
                       volume['name'], '--nic', 'none', '--wait'])
    cleanup.append(('server', server['id']))
    assert (server['status'], server['OS-EXT-SRV-ATTR:host']) == (
        'ACTIVE', 'gpu-node-2')
    assert server['hypervisor_hidden_by'] == 'image img_hide_hypervisor_id'
    assert [v['id'] for v in server['volumes_attached']] == [volume['id']]
    assert hidden(devcloud.domain_xml(server['id']))


def test_an_unprepared_volume_is_refused_or_prepared_through_cinder(
        osc, devcloud, image, flavor, volumes, cleanup):
    volume = volume_from(osc, volumes, image(prepared=False))
    m60 = flavor('M60:1', '--no-hide-hypervisor')
    name = unique('vol')
    line = osc.fails(['gpu', 'server', 'create', name, '--flavor', m60,
                      '--volume', volume['name'], '--nic', 'none'])
    assert line.startswith(
        "volume '%s' does not hide the hypervisor (no img_hide_hypervisor_id"
        "=true in the image metadata of the volume): run 'openstack volume "
        "set --image-property img_hide_hypervisor_id=true %s' or pass "
        "--prepare-image" % (volume['name'], volume['name']))
    assert servers_named(osc, name) == []
    server = osc.json(['gpu', 'server', 'create', name, '--flavor', m60,
                       '--volume', volume['name'], '--prepare-image',
                       '--nic', 'none', '--wait'])
    cleanup.append(('server', server['id']))
    shown = osc.json(['volume', 'show', volume['id']])
    assert shown['volume_image_metadata']['img_hide_hypervisor_id'] == 'true'
    assert hidden(devcloud.domain_xml(server['id']))


def test_a_batch_larger_than_the_p4s_is_refused_before_any_create(
        osc, devcloud, flavor):
    p4 = flavor('P4:1')
    name = unique('batch')
    line = osc.fails(['gpu', 'server', 'create', name, '--flavor', p4,
                      '--image', 'tiny-raw', '--nic', 'none', '--min', '3',
                      '--max', '3', '--wait'])
    assert line.startswith(
        "not enough free GPUs for 3 servers of flavor '%s' (P4:1 each, on "
        "one host): the hosts have room for 2; free P4 per host: " % p4), line
    assert 'gpu-node-1 2' in line
    assert servers_named(osc, name) == []


def test_a_batch_of_two_p4_servers_lands_on_gpu_node_1(osc, devcloud,
                                                       flavor, cleanup):
    name = unique('batch')
    try:
        servers = osc.json(['gpu', 'server', 'create', name, '--flavor',
                            flavor('P4:1'), '--image', 'tiny-raw', '--nic',
                            'none', '--min', '2', '--max', '2', '--wait',
                            '--delete-on-error'])
    finally:
        cleanup.extend(('server', s['ID']) for s in servers_named(osc, name))
    assert [s['name'] for s in servers] == [name + '-1', name + '-2']
    assert {s['OS-EXT-SRV-ATTR:host'] for s in servers} == {'gpu-node-1'}
    devices = [d for s in servers for d in s['gpu_devices']]
    assert len(set(devices)) == 2


def shown_as_osc_shows_it(osc, server_id):
    """The fields the options set, from openstack server show."""
    shown = osc.json(['server', 'show', server_id])
    return {
        'status': shown['status'],
        'tags': sorted(shown['tags']),
        'description': shown['description'],
        'hostname': shown['OS-EXT-SRV-ATTR:hostname'],
        'config_drive': shown['config_drive'],
        'properties': shown['properties'],
        'scheduler_hints': shown.get('scheduler_hints'),
        'flavor': shown['flavor'],
        'image': shown['image'],
        'volumes': [v.get('delete_on_termination')
                    for v in shown['volumes_attached']],
    }


def test_options_make_the_server_openstack_server_create_makes(
        osc, devcloud, flavor, cleanup):
    group = osc.json(['server', 'group', 'create', unique('grp'),
                      '--policy', 'anti-affinity'])
    cleanup.append(('server group', group['id']))
    options = ['--flavor', flavor('M60:1'), '--image', 'tiny-raw', '--nic',
               'none', '--tag', 'team-a', '--tag', 'ml', '--description',
               'training box', '--hostname', 'ml-host', '--use-config-drive',
               '--server-group', group['name'], '--hint', 'osc-gpu-test=1',
               '--property', 'owner=ml', '--block-device',
               'source_type=blank,destination_type=volume,volume_size=1,'
               'delete_on_termination=true', '--wait']
    seen = {}
    for way in (['server', 'create'], ['gpu', 'server', 'create']):
        created = osc.json(way + [unique('same')] + options)
        try:
            seen[' '.join(way)] = shown_as_osc_shows_it(osc, created['id'])
            members = osc.json(['server', 'group', 'show', group['id']])[
                'members']
            seen[' '.join(way)]['in_group'] = created['id'] in members
        finally:
            # One M60: each server goes before the next is made.
            osc.run(['server', 'delete', '--wait', created['id']])
    plain, ours = seen['server create'], seen['gpu server create']
    assert ours == plain
    assert ours['in_group'] and ours['tags'] == ['ml', 'team-a']
    assert ours['volumes'] == [True]


def test_a_tenant_sees_no_osc_gpu_bookkeeping(osc, devcloud, flavor):
    """The create mark is gone once the server is ACTIVE: a member of the
    project sees only what it asked for."""
    member = osc.as_cloud('devcloud-member')
    name = unique('tenant')
    server = member.json(['gpu', 'server', 'create', name, '--flavor',
                          flavor('M60:1'), '--image', 'tiny-raw', '--nic',
                          'none', '--tag', 'mine', '--wait'])
    try:
        shown = member.json(['server', 'show', server['id']])
    finally:
        member.run(['server', 'delete', '--wait', server['id']])
    assert shown['tags'] == ['mine']
    assert shown['properties'] == {}
    assert 'osc-gpu' not in str(shown)
    # Placement is admin-only: the GPU is left to nova, and said so.
    assert server['gpu_devices'] is None


def test_a_p4_server_resizes_to_a_t4_flavor_on_the_other_compute(
        osc, devcloud, flavor, cleanup):
    server = osc.json(['gpu', 'server', 'create', unique('resize'),
                       '--flavor', flavor('P4:1'), '--image', 'tiny-raw',
                       '--nic', 'none', '--wait'])
    cleanup.append(('server', server['id']))
    assert server['OS-EXT-SRV-ATTR:host'] == 'gpu-node-1'
    t4 = flavor('T4:1')
    osc.run(['server', 'resize', '--flavor', t4, '--wait', server['id']],
            timeout=600)
    assert osc.json(['server', 'show', server['id']])['status'] == \
        'VERIFY_RESIZE'
    osc.run(['server', 'resize', 'confirm', server['id']])
    shown = osc.json(['server', 'show', server['id']])
    assert (shown['OS-EXT-SRV-ATTR:host'], shown['flavor']['original_name'],
            shown['status']) == ('gpu-node-2', t4, 'ACTIVE')
    xml = devcloud.domain_xml(server['id'])
    assert '<hostdev' in xml and hidden(xml)
