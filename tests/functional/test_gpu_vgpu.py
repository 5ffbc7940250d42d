"""vGPUs, as an operator sets them up on a vGPU compute (the local cloud's
gpu-node-3): tag the GPU with its type, make a flavor, boot, and see the
vGPU in capacity and in the domain XML. Skipped where no compute offers
vGPUs."""

import json
import re

import pytest

from tests.functional.cli import unique
from tests.functional.conftest import REPO

NODES = REPO / 'tools' / 'devcloud_lib' / 'nodes.json'
TYPE = 'nvidia-12'
TRAIT = 'CUSTOM_NVIDIA_12'


@pytest.fixture(scope='module')
def vgpu_gpus(osc):
    rows = osc.json(['gpu', 'vgpu', 'type', 'list'])
    if not rows:
        pytest.skip('no compute offers vGPUs (placement has no provider '
                    'with VGPU inventory): needs a vGPU compute such as the '
                    "local cloud's gpu-node-3")
    return rows


def type_gpu(type_id):
    """(host, address) of the GPU the local cloud runs ``type_id`` on: its
    node file gives each node's slots on bus 0x81 to ``gpus``, then to
    ``vgpus`` (one type per GPU)."""
    for node in json.loads(NODES.read_text())['nodes']:
        types = node.get('vgpus', [])
        if type_id in types:
            slot = len(node['gpus']) + types.index(type_id)
            return node['name'], '0000:81:%02x.0' % slot
    return None


@pytest.fixture(scope='module')
def nvidia12(osc, devcloud, vgpu_gpus):
    """The nvidia-12 GPU, tagged with its type for the module; the tag is
    removed again only if this module added it (others may rely on it)."""
    where = type_gpu(TYPE)
    if where is None or not any((r['Host'], r['Address']) == where
                                for r in vgpu_gpus):
        pytest.skip('the local cloud runs no %s GPU' % TYPE)
    host, address = where
    shown = osc.json(['gpu', 'vgpu', 'type', 'set', '--host', host,
                      '--address', address, TYPE])
    yield host, address, shown
    if shown['changed']:
        osc.run(['gpu', 'vgpu', 'type', 'unset', '--host', host,
                 '--address', address, TYPE])


def gpu_row(osc, host, address):
    [row] = [r for r in osc.json(['gpu', 'capacity', '--type', TYPE])
             if (r['Host'], r['Address']) == (host, address)]
    return row


def vgpu_flavor(osc, cleanup, request):
    flavor = osc.json(['gpu', 'flavor', 'create', unique('vgpu'), '--vgpu',
                       request, '--ram', '256', '--disk', '1'])
    cleanup.append(('flavor', flavor['id']))
    return flavor


def test_tagging_keeps_the_other_traits_and_is_idempotent(osc, nvidia12):
    host, address, shown = nvidia12
    assert TRAIT in shown['traits'] and 'OWNER_NOVA' in shown['traits']
    again = osc.json(['gpu', 'vgpu', 'type', 'set', '--host', host,
                      '--address', address, TYPE])
    assert again['changed'] is False and again['traits'] == shown['traits']
    [row] = [r for r in osc.json(['gpu', 'vgpu', 'type', 'list', '--host',
                                  host]) if r['Address'] == address]
    assert TRAIT in row['Types']


def test_a_vgpu_server_lands_on_the_tagged_gpu(osc, devcloud, cleanup,
                                               nvidia12):
    host, address, _ = nvidia12
    flavor = vgpu_flavor(osc, cleanup, TYPE + ':1')
    assert flavor['vgpus'] == 'VGPU:1 ' + TRAIT
    assert flavor['properties']['resources:VGPU'] == '1'
    before = gpu_row(osc, host, address)
    if not before['Free']:
        pytest.skip('the %s GPU has no free vGPU (other tests use it)'
                    % TYPE)
    server = osc.json(['gpu', 'server', 'create', unique('vgpu'), '--flavor',
                       flavor['name'], '--image', 'tiny-raw', '--nic', 'none',
                       '--wait'])
    cleanup.append(('server', server['id']))
    assert server['status'] == 'ACTIVE'
    assert server.get('OS-EXT-SRV-ATTR:host', server.get('host')) == host
    provider = '%s_pci_%s' % (host, re.sub('[:.]', '_', address))
    assert provider in server['gpu_devices']
    after = gpu_row(osc, host, address)
    assert after['Used'] == before['Used'] + 1
    assert after['Free'] == before['Free'] - 1
    xml = devcloud.domain_xml(server['id'])
    assert re.search(r'<hostdev [^>]*type=["\']mdev["\']', xml), xml
    osc.run(['server', 'delete', '--wait', server['id']])
    assert gpu_row(osc, host, address)['Used'] == before['Used']


def test_an_untagged_type_is_refused_before_any_create(osc, cleanup,
                                                       vgpu_gpus):
    untagged = 'ft-%s' % unique('t')[-8:]
    flavor = vgpu_flavor(osc, cleanup, untagged + ':1')
    name = unique('vgpu')
    line = osc.fails(['gpu', 'server', 'create', name, '--flavor',
                      flavor['name'], '--image', 'tiny-raw', '--nic',
                      'none'])
    assert line.startswith('no GPU offering VGPU vGPUs carries CUSTOM_FT_')
    assert ("'openstack gpu vgpu type set --host HOST --address ADDRESS %s'"
            % untagged) in line
    assert osc.json(['server', 'list', '--name', '^%s$' % name]) == []


def test_two_vgpus_need_two_gpus_of_the_type(osc, cleanup, nvidia12):
    flavor = vgpu_flavor(osc, cleanup, TYPE + ':2')
    assert flavor['properties']['group_policy'] == 'isolate'
    line = osc.fails(['gpu', 'server', 'create', unique('vgpu'), '--flavor',
                      flavor['name'], '--image', 'tiny-raw', '--nic', 'none',
                      '--dry-run'])
    assert 'each from another physical GPU (group_policy=isolate' in line
    assert 'no host has 2 such GPUs' in line


def test_capacity_counts_the_vgpus_nova_reports(osc, devcloud, vgpu_gpus):
    # fakelibvirt's GRID M60-0B offers nvidia-11 x16 and nvidia-12 x8.
    offered = {'nvidia-11': 16, 'nvidia-12': 8}
    for type_id, total in offered.items():
        where = type_gpu(type_id)
        rows = [r for r in vgpu_gpus if (r['Host'], r['Address']) == where]
        if rows:
            assert rows[0]['Total'] == total, rows
            assert rows[0]['Used'] + rows[0]['Free'] == total
