"""Capacity arithmetic over what placement answers, without a cloud."""

import pytest

from osc_gpu.rules import capacity

P4 = 'CUSTOM_PCI_10DE_1BB3'
T4 = 'CUSTOM_PCI_10DE_1EB8'


def provider(name, root='root-1', rp_uuid=None, parent='root-1'):
    return {'uuid': rp_uuid or name, 'name': name,
            'parent_provider_uuid': parent, 'root_provider_uuid': root}


def device(name, root='root-1'):
    return capacity.device_from_provider(provider(name, root))


def summary(rc, cap, used):
    return {'resources': {rc: {'capacity': cap, 'used': used}}}


def test_device_name_gives_host_and_address():
    assert capacity.split_device_name('gpu-node-1_0000:81:00.0') == (
        'gpu-node-1', '0000:81:00.0')
    # Host names may hold underscores; only the address is recognised.
    assert capacity.split_device_name('rack_7_node_2_0000:3B:00.1') == (
        'rack_7_node_2', '0000:3B:00.1')


def test_name_in_another_shape_keeps_the_device():
    assert capacity.split_device_name('my-odd-provider') == (
        'my-odd-provider', '')


def test_full_host():
    devices = [device('n1_0000:81:00.0'), device('n1_0000:82:00.0')]
    summaries = {d.uuid: summary(P4, 1, 1) for d in devices}
    caps, missing = capacity.capacity_from_summaries(devices, summaries)
    assert missing == []
    assert capacity.by_host(caps) == [
        capacity.HostCapacity('n1', P4, total=2, used=2, free=0)]
    assert capacity.free_by_host(caps, [P4]) == {}


def test_partly_used_hosts_sum_per_host_and_class_sorted():
    devices = [device('n2_0000:81:00.0', 'r2'),
               device('n2_0000:82:00.0', 'r2'),
               device('n1_0000:81:00.0'), device('n1_0000:82:00.0'),
               device('n1_0000:83:00.0')]
    summaries = {
        'n2_0000:81:00.0': summary(P4, 1, 1),
        'n2_0000:82:00.0': summary(P4, 1, 0),
        'n1_0000:81:00.0': summary(T4, 1, 0),
        'n1_0000:82:00.0': summary(P4, 1, 1),
        'n1_0000:83:00.0': summary(P4, 1, 0)}
    caps, _ = capacity.capacity_from_summaries(devices, summaries)
    assert capacity.by_host(caps) == [
        capacity.HostCapacity('n1', P4, 2, 1, 1),
        capacity.HostCapacity('n1', T4, 1, 0, 1),
        capacity.HostCapacity('n2', P4, 2, 1, 1)]
    assert capacity.free_by_host(caps, [P4]) == {'n1': 1, 'n2': 1}
    assert capacity.free_by_host(caps, [P4, T4]) == {'n1': 2, 'n2': 1}


def test_no_pci_providers_gives_nothing_to_sum():
    caps, missing = capacity.capacity_from_summaries([], {'root-1': {}})
    assert (caps, missing) == ([], [])
    assert capacity.by_host(caps) == []
    assert capacity.free_by_host(caps, [P4]) == {}
    assert 'report_in_placement = true' in capacity.NOT_REPORTED


def test_unknown_class_is_refused_naming_the_classes_seen():
    caps, _ = capacity.capacity_from_summaries(
        [device('n1_0000:81:00.0')], {'n1_0000:81:00.0': summary(P4, 1, 0)})
    with pytest.raises(ValueError) as exc:
        capacity.of_classes(caps, [T4], "alias 'T4'")
    assert str(exc.value) == ("no device of alias 'T4' (%s) in placement; "
                              "classes reported: %s" % (T4, P4))
    assert capacity.free_by_host(caps, ['CUSTOM_NOPE']) == {}


def test_host_missing_from_candidates_takes_the_per_provider_path():
    full = device('n9_0000:81:00.0', 'r9')
    seen = device('n1_0000:81:00.0')
    caps, missing = capacity.capacity_from_summaries(
        [full, seen], {seen.uuid: summary(P4, 1, 0)})
    assert missing == [full]
    inventories = {P4: {'total': 1, 'reserved': 0, 'allocation_ratio': 1.0}}
    caps += capacity.capacity_from_inventory(full, inventories, {P4: 1})
    assert capacity.by_host(caps) == [
        capacity.HostCapacity('n1', P4, 1, 0, 1),
        capacity.HostCapacity('n9', P4, 1, 1, 0)]


def test_reserved_units_are_not_offered():
    inventory = {'total': 4, 'reserved': 1, 'allocation_ratio': 1.0}
    assert capacity.usable_units(inventory) == 3
    # nova reserves a used one_time_use device: never negative free.
    cap = capacity.capacity_from_inventory(
        device('n1_0000:81:00.0'),
        {P4: {'total': 1, 'reserved': 1, 'allocation_ratio': 1.0}},
        {P4: 1})[0]
    assert (cap.total, cap.used, cap.free) == (0, 1, 0)


def test_unknown_host_names_some_known_ones():
    devices = [device('n%d_0000:81:00.0' % i) for i in range(7)]
    assert capacity.on_host(devices, 'n3') == [devices[3]]
    with pytest.raises(ValueError) as exc:
        capacity.on_host(devices, 'n33')
    assert str(exc.value) == (
        "host 'n33' has no PCI device in placement; hosts with devices: "
        "n0, n1, n2, n3, n4 and 2 more")


def test_devices_in_allocation_names_host_and_address():
    tree = [provider('node_a', rp_uuid='root', parent=None, root='root'),
            provider('node_a_0000:81:00.0', rp_uuid='gpu1', root='root',
                     parent='root'),
            provider('node_a:Open vSwitch agent', rp_uuid='ovs', root='root',
                     parent='root')]
    allocations = {
        'root': {'resources': {'VCPU': 4, 'MEMORY_MB': 2048}},
        'gpu1': {'resources': {P4: 1}},
        'ovs': {'resources': {'NET_BW_EGR_KILOBIT_PER_SECOND': 1000}},
        'shared-disk': {'resources': {'DISK_GB': 20}}}
    assert capacity.device_candidates(allocations) == ['gpu1']
    assert capacity.devices_in_allocation(allocations, tree) == [
        capacity.AllocatedDevice('gpu1', 'node_a_0000:81:00.0', 'node_a',
                                 '0000:81:00.0', P4, 1)]


def test_devices_of_a_disabled_compute_are_marked_and_never_free():
    devices = capacity.mark_disabled(
        [device('n1_0000:81:00.0', 'r1'), device('n1_0000:82:00.0', 'r1'),
         device('n2_0000:81:00.0', 'r2')], {'r2'})
    assert [d.disabled for d in devices] == [False, False, True]
    summaries = {d.uuid: summary(P4, 1, 0) for d in devices}
    summaries['n1_0000:82:00.0'] = summary(P4, 1, 1)
    caps, _ = capacity.capacity_from_summaries(devices, summaries)
    assert capacity.by_host(caps) == [
        capacity.HostCapacity('n1', P4, 2, 1, 1),
        capacity.HostCapacity('n2', P4, 1, 0, 0, disabled=True)]
    assert capacity.free_by_host(caps, [P4]) == {'n1': 1}


def test_availability_keeps_what_a_disabled_host_would_offer():
    devices = capacity.mark_disabled(
        [device('n1_0000:81:00.0', 'r1'), device('n2_0000:81:00.0', 'r2'),
         device('n2_0000:82:00.0', 'r2')], {'r2'})
    summaries = {d.uuid: summary(P4, 1, 0) for d in devices}
    summaries['n2_0000:82:00.0'] = summary(T4, 1, 1)
    caps, _ = capacity.capacity_from_summaries(devices, summaries)
    assert capacity.availability(caps) == capacity.Availability(
        free={P4: {'n1': 1, 'n2': 0}, T4: {'n2': 0}},
        disabled={'n2': {P4: 1, T4: 0}})


def test_no_disabled_root_changes_nothing():
    devices = [device('n1_0000:81:00.0')]
    assert capacity.mark_disabled(devices, set()) == devices
