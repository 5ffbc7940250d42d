"""Which server holds which GPU: ``gpu server list`` and ``show`` against
what libvirt was told, on the local cloud (gpu-node-1 has two Tesla P4).
"""

import re

import pytest

from tests.functional.cli import unique


@pytest.fixture
def image(osc, cleanup, tmp_path):
    disk = tmp_path / 'disk.raw'
    disk.write_bytes(b'\0' * 1024 * 1024)
    created = osc.json(['image', 'create', unique('img'), '--disk-format',
                        'raw', '--container-format', 'bare', '--file',
                        str(disk)])
    cleanup.append(('image', created['id']))
    return created['name']


@pytest.fixture
def flavor(osc, cleanup):
    def make(gpus):
        created = osc.json(['gpu', 'flavor', 'create', unique('flv'),
                            '--gpu', gpus, '--ram', '256', '--disk', '1'])
        cleanup.append(('flavor', created['id']))
        return created['name']
    return make


def hostdev_addresses(xml):
    """PCI addresses of the host devices in a domain's XML."""
    found = []
    for hostdev in re.findall(r'<hostdev .*?</hostdev>', xml, re.S):
        source = re.search(r'<source>\s*<address ([^>]*)/>', hostdev)
        attrs = dict(re.findall(r"(\w+)=['\"]0x([0-9a-fA-F]+)['\"]",
                                source.group(1)))
        found.append('%04x:%02x:%02x.%x' % tuple(
            int(attrs[k], 16) for k in ('domain', 'bus', 'slot',
                                        'function')))
    return found


def rows_of(osc, server_id, *options):
    return [r for r in osc.json(['gpu', 'server', 'list'] + list(options))
            if r['ID'] == server_id]


def test_list_and_show_name_the_gpu_libvirt_passed_through(
        osc, devcloud, image, flavor, cleanup):
    server = osc.json(['gpu', 'server', 'create', unique('vm'), '--flavor',
                       flavor('P4:1'), '--image', image, '--nic', 'none',
                       '--wait'])
    cleanup.append(('server', server['id']))
    [address] = hostdev_addresses(devcloud.domain_xml(server['id']))

    [row] = rows_of(osc, server['id'])
    assert (row['Status'], row['Host'], row['GPUs']) == (
        'ACTIVE', 'gpu-node-1', 'P4:1')
    [device] = row['GPU Devices']
    # nova names the provider with the address in upper case.
    assert (device['host'], device['address'].lower(), device['model'],
            device['resource_class']) == (
        'gpu-node-1', address, 'Tesla P4', 'CUSTOM_PCI_10DE_1BB3')
    assert device['provider'] == server['gpu_devices'][0]
    for options in (['--all-projects'], ['--host', 'gpu-node-1'],
                    ['--alias', 'P4']):
        assert rows_of(osc, server['id'], *options) == [row], options
    assert rows_of(osc, server['id'], '--alias', 'T4') == []
    assert rows_of(osc, server['id'], '--host', 'gpu-node-2') == []

    shown = osc.json(['gpu', 'server', 'show', server['name']])
    assert shown['id'] == server['id']
    assert shown['OS-EXT-SRV-ATTR:host'] == 'gpu-node-1'
    assert shown['gpu_devices'] == [device]
    [guest] = shown['guest_pci_devices']
    assert (guest['vendor_id'], guest['product_id'], guest['host_address'],
            guest['guest_address']) == ('10de', '1bb3', device['address'],
                                        None)
    assert shown['hypervisor_hidden_by'] == 'flavor hw:hide_hypervisor_id'
    assert "<hidden state='on'/>" in devcloud.domain_xml(
        server['id']).replace('"', "'")


def test_a_server_in_error_is_listed_holding_nothing(osc, devcloud, image,
                                                     flavor, cleanup):
    # Three P4 fit on no host: plain OSC boots it anyway, nova fails it.
    p4x3 = flavor('P4:3')
    name = unique('vm')
    result = osc.run(['server', 'create', name, '--flavor', p4x3, '--image',
                      image, '--nic', 'none', '--wait'], check=False)
    [plain] = [s for s in osc.json(['server', 'list', '--name', name])
               if s['Name'] == name]
    cleanup.append(('server', plain['ID']))
    assert result.returncode != 0

    [row] = rows_of(osc, plain['ID'])
    assert (row['Status'], row['GPUs'], row['GPU Devices'], row['Host']) \
        == ('ERROR', 'P4:3', [], None)
    shown = osc.json(['gpu', 'server', 'show', plain['ID']])
    assert (shown['gpu_devices'], shown['guest_pci_devices']) == ([], [])
    assert 'No valid host' in shown['fault']
