"""The vGPU lines `gpu host config` writes are the ones the local cloud's
gpu-node-3 runs with, and `gpu host check` accepts that nova.conf.

The fixture host vgpu-node is gpu-node-3's recorded layout (two mdev GPUs
offering nvidia-11 and nvidia-12, an A16 whose VFs are passed through);
tests/unit/host/test_devcloud_vgpu_node.py compares with what devcloud
renders, without a cloud.
"""

import json
import os
import pathlib

import pytest

from osc_gpu.host import nova_mdev_conf
from osc_gpu.rules import nova_conf
from tests.functional.conftest import REPO
from tests.unit.host.fakehost import fixture_root

NODE = 'gpu-node-3'
CONFIG = ['gpu', 'host', 'config', '--root', fixture_root('vgpu-node'),
          '--vgpu-type', '0000:81:00.0=nvidia-11',
          '--vgpu-type', '0000:81:01.0=nvidia-12',
          '--alias-name', 'A2-A16=A16_8Q']


@pytest.fixture(scope='module')
def nova_etc(devcloud):
    state = os.environ.get('DEVCLOUD_STATE') or REPO / '.state' / 'devcloud'
    etc = pathlib.Path(state) / 'etc' / 'nova'
    if not (etc / f'compute-{NODE}.conf').exists():
        pytest.skip(f'the local cloud runs without {NODE} (started before '
                    'it was added, or DEVCLOUD_NODES names other nodes)')
    return etc


def read(path):
    return nova_conf.parse_ini(path.read_text(), str(path))


def test_generated_vgpu_lines_are_what_nova_runs_with(osc, nova_etc):
    generated = osc.json(CONFIG)
    running = nova_mdev_conf.read_mdev_options(
        read(nova_etc / f'compute-{NODE}.conf'))
    assert list(running.types) == generated['enabled_mdev_types']
    for mdev_type in generated['vgpu_types']:
        group = running.groups[mdev_type['type']]
        assert list(group.addresses) == mdev_type['device_addresses']
    specs = [json.loads(o.value) for o in read(
        nova_etc / f'compute-{NODE}.conf').values('pci', 'device_spec')]
    assert specs == generated['device_spec']
    aliases = [json.loads(o.value) for o in read(
        nova_etc / 'nova.conf').values('pci', 'alias')]
    for alias in generated['alias']:
        assert alias in aliases


def test_host_check_accepts_the_running_vgpu_node_conf(osc, nova_etc,
                                                       tmp_path):
    conf = tmp_path / 'nova.conf'
    conf.write_text((nova_etc / 'nova.conf').read_text() + '\n'
                    + (nova_etc / f'compute-{NODE}.conf').read_text())
    result = osc.run(['gpu', 'host', 'check', '--root',
                      fixture_root('vgpu-node'), '--nova-conf', str(conf),
                      '-f', 'json'], check=False)
    report = json.loads(result.stdout)
    assert report['nova_conf']['enabled_mdev_types'] == ['nvidia-11',
                                                         'nvidia-12']
    assert [p for p in report['problems'] if p['check'] == 'nova-conf'] == []
    # The controller's aliases cover every node's models.
    for warning in report['warnings']:
        if warning['check'] == 'nova-conf':
            assert 'matches no GPU on this host' in warning['message']
