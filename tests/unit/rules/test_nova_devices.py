"""nova's [devices] / [mdev_<type>] rules (nova 34)."""

import pytest

from osc_gpu.rules import nova_devices as nd


@pytest.mark.parametrize('text, items', [
    ('nvidia-11, nvidia-12', ['nvidia-11', 'nvidia-12']),
    ('  nvidia-11 ,', ['nvidia-11']),       # a trailing comma ends the list
    ('', []), (',', []),
    ('a,,b', ['a', '', 'b']), (' , x', ['', 'x']),
])
def test_lists_read_as_oslo_config_reads_them(text, items):
    assert nd.parse_list(text) == items


@pytest.mark.parametrize('address, rule', [
    ('0000:84:00.0', None),
    ('0000:AF:00.0', 'is not written as sysfs and libvirt write it: nova '
                     'compares it with 0000:af:00.0, as text'),
    ('0000:84:00x0', 'is not a PCI address like 0000:84:00.0'),
    ('84:00.0', 'is not a PCI address like 0000:84:00.0'),
    ('mtty', 'is not a PCI address like 0000:84:00.0'),
    ('', 'is not a PCI address like 0000:84:00.0'),
    ('0000:84:00.\u0663', 'is not a PCI address like 0000:84:00.0'),
])
def test_addresses(address, rule):
    assert nd.address_rule(address) == rule


@pytest.mark.parametrize('value, bad', [
    ('VGPU', False), ('CUSTOM_NVIDIA_11', False), ('CUSTOM_', True),
    ('custom_x', True), ('', True), ('CUSTOM_A-B', True), ('VGPU2', True),
    ('CUSTOM_' + 'X' * 248, False), ('CUSTOM_' + 'X' * 249, True),
])
def test_mdev_class(value, bad):
    assert bool(nd.class_rule(value)) is bad


@pytest.mark.parametrize('text, result', [
    ('24', (24, None)), (' 3 ', (3, None)), ('', (None, None)),
    ('0', (None, 'must be 1 or more')),
    ('+5', (None, 'is not a whole number written in plain digits')),
    ('1_0', (None, 'is not a whole number written in plain digits')),
    ('\u0665', (None, 'is not a whole number written in plain digits')),
    ('1' * 11, (None, 'is not a whole number written in plain digits')),
    ('4294967296', (None, 'is above 2147483647')),
])
def test_max_instances(text, result):
    assert nd.count_value(text) == result


@pytest.mark.parametrize('type_id, trait', [
    ('nvidia-11', 'CUSTOM_NVIDIA_11'), ('i915-GVTg_V5_4',
                                        'CUSTOM_I915_GVTG_V5_4'),
    ('mtty-1.x+', 'CUSTOM_MTTY_1_X_'),
])
def test_trait_names(type_id, trait):
    assert nd.trait_name(type_id) == trait


def group(type_id, *addresses, **values):
    return nd.TypeGroup(type_id, tuple(addresses), **values)


def test_one_type_without_addresses_is_every_gpus_default():
    layout = nd.resolve(('nvidia-11',), {})
    assert layout.types == ('nvidia-11',) and layout.default == 'nvidia-11'
    assert layout.type_of('0000:84:00.0') == 'nvidia-11'
    assert layout.classes == {'nvidia-11': 'VGPU'}


def test_types_with_addresses_and_one_default():
    layout = nd.resolve(('a', 'b', 'c'), {
        'a': group('a', '0000:84:00.0'), 'b': group('b'),
        'c': group('c', '0000:85:00.0', mdev_class='CUSTOM_C',
                   max_instances=4)})
    assert layout.types == ('a', 'b', 'c') and layout.default == 'b'
    assert layout.by_address == {'0000:84:00.0': 'a', '0000:85:00.0': 'c'}
    assert layout.limits == {'c': 4}
    assert layout.classes == {'a': 'VGPU', 'b': 'VGPU', 'c': 'CUSTOM_C'}
    assert layout.type_of('0000:86:00.0') == 'b'


def test_the_second_type_without_addresses_is_dropped():
    # nova: "Mdev type default already set to a so b will not be used."
    layout = nd.resolve(('a', 'b'), {})
    assert layout.types == ('a',) and layout.dropped == (('b', 'a'),)
    assert layout.refusal is None


def test_a_dropped_type_keeps_its_limit_as_nova_does():
    layout = nd.resolve(('a', 'b'), {'b': group('b', max_instances=2)})
    assert layout.limits == {'b': 2} and layout.types == ('a',)


def test_the_same_address_twice_stops_nova():
    layout = nd.resolve(('a', 'b'), {'a': group('a', '0000:84:00.0'),
                                     'b': group('b', '0000:84:00.0')})
    assert layout.refusal == ('0000:84:00.0 is in device_addresses of both a '
                              'and b')
    layout = nd.resolve(('a', 'a'), {'a': group('a', '0000:84:00.0')})
    assert layout.refusal.startswith('0000:84:00.0 is in device_addresses')


def test_a_type_listed_twice_without_addresses_stays_once():
    assert nd.resolve(('a', 'a'), {}).types == ('a',)


def test_the_command_that_tags_a_gpu():
    assert nd.type_command('c1', '0000:84:00.0', 'nvidia-11') == (
        'openstack gpu vgpu type set --host c1 --address 0000:84:00.0 '
        'nvidia-11')
