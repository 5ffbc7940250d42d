import textwrap

import pytest

from osc_gpu.host import libvirt_managed
from osc_gpu.host import nova_pci_conf
from osc_gpu.host import sysfs
from tests.unit.host import fakehost


def unmanaged(text, host='m60-t4'):
    conf = nova_pci_conf.parse_ini(textwrap.dedent(text))
    devices = sysfs.read_host(fakehost.fixture_root(host)).gpus()
    return libvirt_managed.unmanaged_devices(conf, devices)


def test_managed_is_the_default():
    assert unmanaged('''\
        [pci]
        device_spec = {"vendor_id": "10de", "product_id": "13f2"}
        device_spec = {"vendor_id": "10de", "managed": "yes"}
        ''') == {}


@pytest.mark.parametrize('value', ['"no"', '"No "', '"false"', '"0"',
                                   'false'])
def test_managed_no_in_any_spelling_nova_reads(value):
    assert unmanaged(f'''\
        [pci]
        device_spec = {{"vendor_id": "10de", "product_id": "1eb8",
          "managed": {value}}}
        ''') == {'0000:81:01.0': 'line 2 [pci] device_spec'}


def test_the_first_device_spec_selecting_a_device_is_its_own():
    assert unmanaged('''\
        [DEFAULT]
        pci_passthrough_whitelist = {"address": "0000:81:00.0"}
        [pci]
        device_spec = [{"vendor_id": "10de", "managed": "no"}]
        ''') == {'0000:81:01.0': 'line 4 [pci] device_spec'}


@pytest.mark.parametrize('line', [
    'device_spec = {"vendor_id": "10de", "managed": "no"',
    'device_spec = {"vendor_id": "10de", "managed": "maybe"}',
    'device_spec = {"vendor_id": "$x", "managed": "no"}',
    'device_spec = 5',
])
def test_values_nova_refuses_are_left_to_the_nova_conf_check(line):
    assert unmanaged(f'[pci]\n{line}\n') == {}
