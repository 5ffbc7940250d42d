"""Capacity agrees with the GPUs the compute nodes expose, before and
after a boot."""

import contextlib
import json

import pytest

from tests.functional.conftest import REPO
from tests.functional.cli import unique

NODES = REPO / 'tools' / 'devcloud_lib' / 'nodes.json'


# What fakelibvirt's mdev-capable GPU (GRID M60-0B) offers of each type.
VGPUS_PER_GPU = {'nvidia-11': 16, 'nvidia-12': 8}


def expected_totals():
    """{(host, resource class): count} from the local cloud's node file:
    whole GPUs (``gpus``), the VFs of SR-IOV GPUs (``vf_gpus``) and the
    vGPUs of mdev-capable GPUs (``vgpus``, one type each, class VGPU)."""
    layout = json.loads(NODES.read_text())
    models = layout['gpu_models']
    profiles = layout.get('vf_profiles', {})
    totals = {}
    for node in layout['nodes']:
        for gpu in node['gpus']:
            key = (node['name'], 'CUSTOM_PCI_%s_%s' % (
                models[gpu]['vendor_id'].upper(),
                models[gpu]['product_id'].upper()))
            totals[key] = totals.get(key, 0) + 1
        for gpu in node.get('vf_gpus', []):
            key = (node['name'], profiles[gpu['profile']]['resource_class'])
            totals[key] = totals.get(key, 0) + gpu['vfs']
        for mdev_type in node.get('vgpus', []):
            key = (node['name'], 'VGPU')
            totals[key] = totals.get(key, 0) + VGPUS_PER_GPU[mdev_type]
    return totals


def capacity(osc, *args):
    return {(r['Host'], r['Model']): r
            for r in osc.json(['gpu', 'capacity'] + list(args))}


def test_totals_match_the_compute_nodes(osc, devcloud):
    # A row per host and class, and one per GPU that offers vGPUs.
    rows = osc.json(['gpu', 'capacity'])
    totals = {}
    for r in rows:
        key = (r['Host'], r['Resource Class'])
        totals[key] = totals.get(key, 0) + r['Total']
    assert totals == expected_totals()
    for row in rows:
        assert row['Status'] == 'enabled'
        assert row['Used'] + row['Free'] == row['Total']


def test_a_boot_moves_one_gpu_from_free_to_used(osc, devcloud, cleanup):
    before = capacity(osc, '--alias', 'T4')[('gpu-node-2', 'Tesla T4')]
    flavor = osc.json(['gpu', 'flavor', 'create', unique('cap'), '--gpu',
                       'T4:1', '--ram', '256', '--disk', '1'])
    cleanup.append(('flavor', flavor['id']))
    osc.run(['gpu', 'image', 'prepare', 'tiny-raw'])
    server = osc.json(['gpu', 'server', 'create', unique('cap'), '--flavor',
                       flavor['name'], '--image', 'tiny-raw', '--nic', 'none',
                       '--wait'])
    cleanup.append(('server', server['id']))
    after = capacity(osc, '--alias', 'T4')[('gpu-node-2', 'Tesla T4')]
    assert (after['Used'], after['Free']) == (before['Used'] + 1,
                                              before['Free'] - 1)
    osc.run(['server', 'delete', '--wait', server['id']])
    again = capacity(osc, '--host', 'gpu-node-2')[('gpu-node-2', 'Tesla T4')]
    assert (again['Used'], again['Free']) == (before['Used'], before['Free'])


def test_unknown_alias_is_one_line(osc):
    line = osc.fails(['gpu', 'capacity', '--alias', 'NOPE'])
    assert 'NOPE' in line


@contextlib.contextmanager
def nova_compute_disabled(osc, host, reason):
    """nova-compute on ``host`` disabled for the block only: other tests
    on this cloud may be booting servers."""
    osc.run(['compute', 'service', 'set', '--disable', '--disable-reason',
             reason, host, 'nova-compute'])
    try:
        yield
    finally:
        osc.run(['compute', 'service', 'set', '--enable', host,
                 'nova-compute'])


def test_a_disabled_compute_offers_no_gpu_and_the_preflight_says_why(
        osc, devcloud, cleanup):
    free = {model: row['Free'] for (host, model), row in capacity(
        osc, '--host', 'gpu-node-2').items()}
    alias = next((a for a, m in (('T4', 'Tesla T4'), ('M60', 'Tesla M60'))
                  if free.get(m)), None)
    if alias is None:
        pytest.skip("gpu-node-2's GPUs are all in use by other tests")
    flavor = osc.json(['gpu', 'flavor', 'create', unique('off'), '--gpu',
                       '%s:1' % alias, '--ram', '256', '--disk', '1'])
    cleanup.append(('flavor', flavor['id']))
    boot = ['gpu', 'server', 'create', unique('vm'), '--flavor',
            flavor['name'], '--image', 'tiny-raw', '--nic', 'none',
            '--dry-run']
    reason = unique('maintenance')
    with nova_compute_disabled(osc, 'gpu-node-2', reason):
        rows = osc.json(['gpu', 'capacity', '--host', 'gpu-node-2'])
        refused = osc.run(boot, check=False)
    assert {(r['Status'], r['Free']) for r in rows} == {('disabled', 0)}
    assert refused.returncode == 1, refused.stdout
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("not enough free GPUs for flavor '%s' (%s:1)"
                           % (flavor['name'], alias)), line
    assert "gpu-node-2 0 (disabled)" in line
    assert ("nova-compute is disabled on gpu-node-2 ('%s')" % reason
            in line), line
    assert ("'openstack compute service set --enable gpu-node-2 "
            "nova-compute'" in line)
    # Enabled again, the same request passes the preflight.
    assert osc.json(boot)['status'] == 'not created (dry run)'
