"""The [pci] lines `gpu host config` writes are the ones the local cloud's
nova runs with, and `gpu host check` accepts that nova.conf.

The fixture hosts p4-nvidia and m60-t4 are the recorded sysfs of the local
cloud's gpu-node-1 and gpu-node-2 (same ids, same PCI addresses), so every
boot in the other functional tests runs on exactly these lines.
"""

import json
import os
import pathlib

import pytest

from tests.functional.conftest import REPO
from tests.unit.host.fakehost import fixture_root


def nova_pci_values(path, option):
    """JSON values of a multi-valued [pci] option, as nova reads them."""
    values = []
    for line in path.read_text().splitlines():
        key, sep, value = line.partition('=')
        if sep and key.strip() == option:
            values.append(json.loads(value))
    return values


@pytest.fixture(scope='module')
def nova_etc(devcloud):
    state = os.environ.get('DEVCLOUD_STATE') or REPO / '.state' / 'devcloud'
    return pathlib.Path(state) / 'etc' / 'nova'


@pytest.mark.parametrize('node, fixture', [('gpu-node-1', 'p4-nvidia'),
                                           ('gpu-node-2', 'm60-t4')])
def test_generated_lines_are_what_nova_runs_with(osc, nova_etc, node,
                                                 fixture):
    generated = osc.json(['gpu', 'host', 'config', '--root',
                          fixture_root(fixture)])
    compute = nova_etc / ('compute-%s.conf' % node)
    assert nova_pci_values(compute, 'device_spec') == generated['device_spec']
    aliases = nova_pci_values(nova_etc / 'nova.conf', 'alias')
    for alias in generated['alias']:
        assert alias in aliases


@pytest.mark.parametrize('node, fixture', [('gpu-node-1', 'p4-nvidia'),
                                           ('gpu-node-2', 'm60-t4')])
def test_host_check_accepts_the_running_nova_conf(osc, nova_etc, tmp_path,
                                                  node, fixture):
    conf = tmp_path / 'nova.conf'
    # What this compute reads: the shared file plus its own.
    conf.write_text((nova_etc / 'nova.conf').read_text() + '\n'
                    + (nova_etc / ('compute-%s.conf' % node)).read_text())
    # The recorded host may be unready for other reasons (p4-nvidia's GPUs
    # are still on the nvidia driver): only the nova.conf findings count.
    result = osc.run(['gpu', 'host', 'check', '--root',
                      fixture_root(fixture), '--nova-conf', str(conf),
                      '-f', 'json'], check=False)
    report = json.loads(result.stdout)
    assert report['nova_conf']['pci_in_placement'] is True
    assert [p for p in report['problems'] if p['check'] == 'nova-conf'] == []
    # The controller's aliases cover every node's models; the ones of the
    # other node match nothing here, which is only a warning.
    for warning in report['warnings']:
        if warning['check'] == 'nova-conf':
            assert 'matches no GPU on this host' in warning['message']


def test_broken_alias_json_is_one_line_with_the_fix(osc, tmp_path):
    conf = tmp_path / 'nova.conf'
    conf.write_text('[pci]\nalias = {"name": "P4", "vendor_id": "0x10de", '
                    '"product_id": "1bb3"}\npassthrough_whitelist = '
                    '{"vendor_id": "10de"}\n')
    result = osc.run(['gpu', 'host', 'check', '--root',
                      fixture_root('p4-nvidia'), '--nova-conf', str(conf)],
                     check=False)
    assert result.returncode == 1
    assert 'vendor_id must be 4 hex digits without 0x, e.g. "10de"' in \
        result.stdout + result.stderr
    assert 'passthrough_whitelist' in result.stdout + result.stderr
