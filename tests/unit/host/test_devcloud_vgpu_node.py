"""The local cloud's vGPU compute runs on the lines gpu host config writes.

The fixture host vgpu-node is gpu-node-3 of tools/devcloud_lib/nodes.json
(same PCI addresses, mdev types and VFs). tools/devcloud renders that
node's nova.conf from the node description; here it is rendered into a
temporary folder and compared, value by value as nova reads them, with
``gpu host config`` on the fixture (tests/functional/test_gpu_host_vgpu.py
compares with the files of a running cloud).
"""

import json
import sys

import pytest

from osc_gpu.host import config_gen
from osc_gpu.host import inventory
from osc_gpu.host import nova_mdev_conf
from osc_gpu.host import sysfs
from osc_gpu.rules import nova_conf
from tests.unit.host import fakehost

NODE = 'gpu-node-3'
# What says which GPU gets which type, and names the VF profile.
CONFIG_ARGS = {'vgpu_types': ['0000:81:00.0=nvidia-11',
                              '0000:81:01.0=nvidia-12'],
               'alias_names': {'A2-A16': 'A16_8Q'}}


@pytest.fixture(scope='module')
def render():
    sys.path.insert(0, str(fakehost.REPO) + '/tools')
    try:
        from devcloud_lib import render
        from devcloud_lib import settings
    finally:
        sys.path.pop(0)
    return render, settings


@pytest.fixture(scope='module')
def description(render):
    _, settings = render
    with open(settings.NODES_FILE) as f:
        return json.load(f)


@pytest.fixture
def rendered(render, description, monkeypatch, tmp_path):
    """{file name: nova.conf text} devcloud writes for the node."""
    module, settings = render
    written = {}
    monkeypatch.setattr(settings, 'DATA', str(tmp_path / 'data'))
    monkeypatch.setattr(settings, 'ETC', str(tmp_path / 'etc'))
    monkeypatch.setattr(module, '_write', lambda path, text: written.update(
        {path.rsplit('/', 1)[1]: text}))
    [node] = [n for n in description['nodes'] if n['name'] == NODE]
    module.compute_node(node, description)
    return written


def generated():
    facts = sysfs.read_host(fakehost.fixture_root('vgpu-node'))
    config = config_gen.build_host_config(
        facts, inventory.list_gpus(facts), **CONFIG_ARGS)
    return config, nova_conf.parse_ini(config_gen.render_nova_conf(config))


def json_values(conf, section, key):
    return [json.loads(nova_conf.substitute(o.value)[0])
            for o in conf.values(section, key)]


def test_the_vgpu_lines_are_the_ones_devcloud_renders(rendered):
    node = nova_conf.parse_ini(rendered[f'compute-{NODE}.conf'])
    config, ours = generated()
    theirs = nova_mdev_conf.read_mdev_options(node)
    mine = nova_mdev_conf.read_mdev_options(ours)
    assert theirs.findings == [] and mine.findings == []
    assert mine.types == theirs.types == ('nvidia-11', 'nvidia-12')
    assert mine.groups == theirs.groups
    assert mine.layout == theirs.layout


def test_the_vf_lines_are_the_ones_devcloud_renders(render, description,
                                                    rendered):
    module, _ = render
    node = nova_conf.parse_ini(rendered[f'compute-{NODE}.conf'])
    config, ours = generated()
    assert json_values(ours, 'pci', 'device_spec') == json_values(
        node, 'pci', 'device_spec')
    aliases = [json.loads(module.vf_alias(name, profile)) for name, profile
               in description['vf_profiles'].items()]
    assert config.aliases == aliases


def test_the_fixture_is_the_node(render, description):
    """Same addresses, types and VFs as the host devcloud simulates."""
    module, _ = render
    [node] = [n for n in description['nodes'] if n['name'] == NODE]
    devices = module.host_devices(node, description['gpu_models'],
                                  description.get('vf_profiles', {}))
    facts = sysfs.read_host(fakehost.fixture_root('vgpu-node'))
    for device in devices:
        address = module.pci_address(device)
        assert facts.devices[address].ids == (
            f"{device['vendor_id']}:{device['product_id']}")
        if device['dev_type'] == 'MDEV_TYPES':
            offered = {t.type_id: t.available
                       for t in facts.mdev_types[address]}
            assert offered == module.MDEV_INSTANCES
        if device['dev_type'] == 'VF':
            assert facts.devices[address].is_vf
    assert facts.hostname == NODE
