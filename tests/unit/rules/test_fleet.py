"""Joining servers, flavors and placement into GPU server rows."""

import pytest

from osc_gpu.rules import aliases
from osc_gpu.rules import capacity
from osc_gpu.rules import fleet
from osc_gpu.rules import releases

P4 = 'CUSTOM_PCI_10DE_1BB3'


def device(name, uuid=None):
    host, address = capacity.split_device_name(name)
    return capacity.Device(uuid or name, name, host, address, 'root-' + host)


def held(consumer, dev, rc=P4, amount=1):
    return capacity.AllocatedDevice(dev.uuid, dev.name, dev.host,
                                    dev.address, rc, amount)


@pytest.mark.parametrize('specs, text', [
    ({'pci_passthrough:alias': 'P4:1'}, 'P4:1'),
    ({'pci_passthrough:alias': 'P4:1,T4:2'}, 'P4:1,T4:2'),
    # As nova boots it: one alias twice is one request for the sum.
    ({'pci_passthrough:alias': 'P4:1,P4:1'}, 'P4:2'),
    ({'resources:VGPU': '1'}, 'resources:VGPU=1'),
    ({'resources1:VGPU': '1', 'resources2:VGPU': '1'},
     'resources1:VGPU=1,resources2:VGPU=1'),
    ({'resources:%s' % P4: '2'}, 'resources:%s=2' % P4),
    ({'pci_passthrough:alias': 'P4:1', 'resources:VGPU': '1'},
     'P4:1,resources:VGPU=1'),
    ({'pci_passthrough:alias': 'P4'}, 'P4'),      # nova cannot boot it
    ({'pci_passthrough:alias': 'P4:0'}, ''),
    ({'resources:VGPU': '0'}, ''),
    ({'resources:VCPU': '0', 'resources:CUSTOM_BAREMETAL_GOLD': '1'}, ''),
    ({'resources:VGPU': 'x'}, ''),
    ({}, ''),
    (None, ''),
])
def test_what_a_flavor_asks_for(specs, text):
    gpus = fleet.flavor_gpus(specs)
    assert gpus.text == text
    assert bool(gpus) == bool(text)


def test_custom_classes_count_when_the_cloud_says_they_are_gpus():
    specs = {'resources:CUSTOM_A16_16A': '1'}
    assert not fleet.flavor_gpus(specs)
    assert fleet.flavor_gpus(specs, {'CUSTOM_A16_16A'}).text == \
        'resources:CUSTOM_A16_16A=1'


def test_in_use_keeps_used_devices_once_optionally_per_host():
    a, b, c = (device('n1_0000:81:00.0'), device('n1_0000:82:00.0'),
               device('n2_0000:81:00.0'))
    caps = [capacity.DeviceCapacity(a, P4, 1, 1),
            capacity.DeviceCapacity(a, 'CUSTOM_OTHER', 1, 1),
            capacity.DeviceCapacity(b, P4, 1, 0),
            capacity.DeviceCapacity(c, P4, 1, 1)]
    assert fleet.in_use(caps) == [a, c]
    assert fleet.in_use(caps, {'n2'}) == [c]
    assert fleet.in_use(caps, set()) == []


def test_holdings_turn_provider_allocations_around():
    a, b = device('n1_0000:81:00.0'), device('n1_0000:82:00.0')
    found = fleet.holdings([a, b], {
        a.uuid: {'vm-1': {P4: 1}},
        b.uuid: {'vm-1': {P4: 1}, 'vm-2': {P4: 1, 'VCPU': 2}},
        'gone': {'vm-3': {P4: 1}}})
    assert found == {'vm-1': [held('vm-1', a), held('vm-1', b)],
                     'vm-2': [held('vm-2', b)]}


def server(sid, specs, **attrs):
    return fleet.Server(sid, sid, extra_specs=specs, **attrs)


def test_join_keeps_gpu_servers_and_says_what_is_unknown():
    a = device('n1_0000:81:00.0')
    servers = [server('gpu', {'pci_passthrough:alias': 'P4:1'},
                      hypervisor='n1'),
               server('web', {}),
               server('error', {'pci_passthrough:alias': 'P4:1'},
                      status='ERROR'),
               server('odd', {}, hypervisor='n1'),
               server('old-host', {'pci_passthrough:alias': 'P4:1'},
                      hypervisor='n9'),
               server('unknown', None)]
    holdings = {'gpu': [held('gpu', a)], 'odd': [held('odd', a)]}
    rows = fleet.join(servers, holdings, reporting={'n1'})
    assert [(r.server.id, r.devices) for r in rows] == [
        ('gpu', (held('gpu', a),)), ('error', ()), ('odd', (held('odd', a),)),
        ('old-host', None)]
    assert [r.devices for r in fleet.join(servers, None)] == [None] * 3


def test_alias_matcher_by_name_and_by_class():
    alias_map = aliases.AliasMap({'p4_small': (P4,)})
    matches = fleet.alias_matcher('p4-small', (P4,), alias_map)
    a = device('n1_0000:81:00.0')

    def row(specs, devices=()):
        return fleet.Row(server('x', specs), fleet.flavor_gpus(specs, {P4}),
                         devices)
    assert matches(row({'pci_passthrough:alias': 'p4-small:1'}))
    assert matches(row({'pci_passthrough:alias': 'p4_small:1'}))
    assert matches(row({'resources:%s' % P4: '1'}))
    assert matches(row({}, (held('x', a),)))
    assert not matches(row({'pci_passthrough:alias': 'T4:1'}))
    assert not matches(row({'pci_passthrough:alias': 'T4:1'}, None))


def test_unlisted_consumers():
    assert fleet.unlisted_consumers({'a': [], 'm': []},
                                    [server('a', {})]) == ['m']
    assert fleet.unlisted_consumers(None, []) == []


def test_device_and_guest_records():
    alias_map = aliases.AliasMap()
    p4 = held('x', device('n1_0000:81:00.0'))
    assert fleet.device_record(p4, alias_map) == {
        'host': 'n1', 'address': '0000:81:00.0',
        'provider': 'n1_0000:81:00.0', 'resource_class': P4,
        'model': 'Tesla P4', 'aliases': ['P4'], 'units': 1}
    assert fleet.guest_record(p4) == {
        'model': 'Tesla P4', 'vendor_id': '10de', 'product_id': '1bb3',
        'count': 1, 'host_address': '0000:81:00.0', 'guest_address': None,
        'find_in_guest': 'lspci -nn -d 10de:1bb3'}
    vgpu = held('x', device('n1_pci_0000_84_00_0'), 'VGPU', 2)
    assert fleet.device_record(vgpu, alias_map)['model'] == ''
    assert fleet.guest_record(vgpu)['find_in_guest'] is None


@pytest.mark.parametrize('specs, props, expected', [
    ({'hw:hide_hypervisor_id': 'true'}, None,
     'flavor hw:hide_hypervisor_id'),
    ({}, {'img_hide_hypervisor_id': 'yes'}, 'image img_hide_hypervisor_id'),
    ({}, {}, ''),
    ({}, None, None),           # booted from a volume: cannot be told
    (None, {}, None),
])
def test_hidden_by(specs, props, expected):
    release = releases.release_for_max_microversion(
        releases.Microversion(2, 100))
    assert fleet.hidden_by(server('x', specs, image_properties=props),
                           release) == expected
