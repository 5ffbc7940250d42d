"""Capacity agrees with the GPUs the compute nodes expose, before and
after a boot."""

import json

from tests.functional.conftest import REPO
from tests.functional.cli import unique

NODES = REPO / 'tools' / 'devcloud_lib' / 'nodes.json'


def expected_totals():
    """{(host, model name): count} from the local cloud's node file."""
    layout = json.loads(NODES.read_text())
    models = layout['gpu_models']
    totals = {}
    for node in layout['nodes']:
        for gpu in node['gpus']:
            key = (node['name'], models[gpu]['name'])
            totals[key] = totals.get(key, 0) + 1
    return totals


def capacity(osc, *args):
    return {(r['Host'], r['Model']): r
            for r in osc.json(['gpu', 'capacity'] + list(args))}


def test_totals_match_the_compute_nodes(osc, devcloud):
    rows = capacity(osc)
    assert {k: r['Total'] for k, r in rows.items()} == expected_totals()
    for row in rows.values():
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
