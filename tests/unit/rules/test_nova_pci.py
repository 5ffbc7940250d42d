import json

import pytest

from osc_gpu.rules import echo
from osc_gpu.rules import nova_pci

P4 = {'name': 'P4', 'vendor_id': '10de', 'product_id': '1bb3'}


def problems(issues):
    return [i.message for i in issues if i.severity == nova_pci.PROBLEM]


def warnings(issues):
    return [i.message for i in issues if i.severity == nova_pci.WARNING]


# alias ---------------------------------------------------------------------

def test_valid_alias_with_every_key():
    spec = dict(P4, device_type='type-PF', numa_policy='socket',
                capability_type='pci', live_migratable='yes')
    assert nova_pci.validate_alias(spec) == []


@pytest.mark.parametrize('vendor_id', ['0x10de', '10DE1', '10d', '', 'zzzz'])
def test_alias_vendor_id_must_be_4_hex_digits(vendor_id):
    [message] = problems(nova_pci.validate_alias(
        dict(P4, vendor_id=vendor_id)))
    assert repr(vendor_id) in message
    assert ('vendor_id must be 4 hex digits without 0x, e.g. "10de"'
            in message)


def test_alias_uppercase_hex_is_valid():
    assert nova_pci.validate_alias(dict(P4, vendor_id='10DE')) == []


def test_alias_product_id_rule_names_a_product_example():
    [message] = problems(nova_pci.validate_alias(
        dict(P4, product_id='0x1bb3')))
    assert 'product_id must be 4 hex digits without 0x, e.g. "1bb3"' in message


@pytest.mark.parametrize('key, value, rule', [
    ('device_type', 'PCI', 'device_type must be one of type-PCI, type-PF, '
                           'type-VF'),
    ('numa_policy', 'strict', 'numa_policy must be one of required, legacy, '
                              'preferred, socket'),
    ('capability_type', 'pcie', 'capability_type must be one of pci'),
    ('live_migratable', 'maybe', 'live_migratable must be a string "yes" or '
                                 '"no"'),
    ('live_migratable', True, 'live_migratable must be a string'),
    ('resource_class', 5, 'resource_class must be a JSON string'),
])
def test_alias_values_checked_against_the_table(key, value, rule):
    [message] = problems(nova_pci.validate_alias(dict(P4, **{key: value})))
    assert rule in message
    assert f'{key} {echo.shown(value)}: ' in message


@pytest.mark.parametrize('vendor_id', ['10de\n', '\u0661\u0660de'])
def test_alias_ids_nova_lets_through_but_no_device_has(vendor_id):
    # nova's pattern ^([\da-fA-F]{4})$ runs with re.search: "$" takes a
    # trailing newline and \d any Unicode digit; no device has such ids.
    assert problems(nova_pci.validate_alias(dict(P4, vendor_id=vendor_id)))


def test_alias_boolean_strings_are_stripped_as_nova_does():
    assert nova_pci.validate_alias(dict(P4, live_migratable=' Yes ')) == []


def test_alias_name_is_required_and_bounded():
    spec = dict(P4)
    del spec['name']
    assert problems(nova_pci.validate_alias(spec)) == [
        'name is required, e.g. "name": "P4"']
    assert 'name must be 1 to 256 characters' in problems(
        nova_pci.validate_alias(dict(P4, name='x' * 257)))[0]
    assert 'name must be 1 to 256 characters' in problems(
        nova_pci.validate_alias(dict(P4, name='')))[0]


def test_alias_name_unusable_in_a_flavor_is_a_warning():
    issues = nova_pci.validate_alias(dict(P4, name='p4:big'))
    assert problems(issues) == []
    assert 'cannot be used in a flavor' in warnings(issues)[0]


def test_alias_unknown_key_is_refused_with_the_valid_keys():
    [message] = problems(nova_pci.validate_alias(dict(P4, vendor='10de')))
    assert message.startswith('unknown key "vendor" (nova rejects it)')
    assert 'vendor_id, product_id' in message


def test_alias_must_be_an_object():
    [message] = problems(nova_pci.validate_alias([P4]))
    assert 'one JSON object per line' in message


def test_alias_needs_both_ids_without_pci_in_placement():
    spec = {'name': 'A16', 'resource_class': 'CUSTOM_A16'}
    issues = nova_pci.validate_alias(spec)
    assert any('vendor_id and product_id are both required' in m
               for m in problems(issues))
    assert any('ignored unless [filter_scheduler] pci_in_placement' in m
               for m in warnings(issues))
    assert nova_pci.validate_alias(spec, pci_in_placement=True) == []


def test_alias_group_must_agree_on_numa_policy_and_device_type():
    issues = nova_pci.check_alias_group('GPU', [
        dict(P4, name='GPU'),
        dict(P4, name='GPU', product_id='1eb8', numa_policy='required',
             device_type='type-PF')])
    messages = problems(issues)
    assert "aliases named 'GPU' disagree on numa_policy (legacy, required)" \
        in messages[0]
    assert 'disagree on device_type (type-PF, unset)' in messages[1]


def test_alias_group_same_settings_is_fine():
    specs = [dict(P4, numa_policy='legacy', device_type='type-PCI'),
             dict(P4, product_id='1eb8', device_type='type-PCI')]
    assert nova_pci.check_alias_group('P4', specs) == []
    assert 'may have only one line' in problems(nova_pci.check_alias_group(
        'P4', specs, pci_in_placement=True))[0]


def test_alias_group_without_device_type_is_refused():
    # nova 34 _get_alias_from_config reads spec['dev_type'] of the first
    # and the next alias of a name: a KeyError, "Invalid PCI alias
    # definition", when they do not set device_type, even if they agree.
    specs = [dict(P4), dict(P4, product_id='1eb8')]
    [message] = problems(nova_pci.check_alias_group('P4', specs))
    assert message.startswith("2 aliases are named 'P4' and none sets "
                              'device_type: nova refuses')
    assert nova_pci.check_alias_group('P4', [dict(P4)]) == []


def test_alias_group_name_is_stripped_as_nova_does():
    assert nova_pci.alias_group_name(dict(P4, name=' P4\t')) == 'P4'


@pytest.mark.parametrize('name, ok', [
    ('P4', True), ('gpu-p4', True), ('A100_80G', True), ('p4:1', False),
    ('a,b', False), ('two words', False), ('', False), ('x' * 257, False)])
def test_validate_alias_name(name, ok):
    assert (nova_pci.validate_alias_name(name) is None) is ok


# device_spec ---------------------------------------------------------------

@pytest.mark.parametrize('value', [
    {'vendor_id': '10de', 'product_id': '1bb3'},
    {'vendor_id': '10de', 'product_id': '*', 'address': '0000:81:00.0'},
    [{'vendor_id': '10de', 'product_id': '1bb3'},
     {'vendor_id': '10de', 'product_id': '1eb8'}],
    {'address': '*:81:*.*'},
    {'address': ':81:00.'},
    {'address': {'domain': '.*', 'bus': '81', 'slot': '0[0-1]',
                 'function': '0'}},
    {'vendor_id': '10de', 'managed': 'no', 'live_migratable': 'yes',
     'one_time_use': True, 'resource_class': 'CUSTOM_P4', 'traits': 'A,B',
     'physical_network': 'physnet1', 'trusted': 'true',
     'remote_managed': 'false'},
    {'address': '0000:81:00.'},
    {'address': ' :81: 00. * '},
])
def test_valid_device_specs(value):
    assert problems(nova_pci.validate_device_spec(
        value, report_in_placement=True)) == []


@pytest.mark.parametrize('one_time_use', [True, 'yes', ' True'])
def test_one_time_use_needs_report_in_placement(one_time_use):
    spec = {'vendor_id': '10de', 'one_time_use': one_time_use}
    assert problems(nova_pci.validate_device_spec(spec)) == [
        'one_time_use needs [pci] report_in_placement = true: set it, or '
        'drop one_time_use']
    assert problems(nova_pci.validate_device_spec(
        dict(spec, one_time_use='no'))) == []


@pytest.mark.parametrize('value, rule', [
    ({'vendor_id': '0x10de'},
     'vendor_id must be 4 hex digits without 0x, e.g. "10de"'),
    ({'vendor_id': '10DE1'},
     'vendor_id must be 4 hex digits without 0x, e.g. "10de"'),
    ({'address': '0000:81:00.8'}, "address function '8' is above the "
                                  'maximum 7'),
    ({'address': '0000:81:20.0'}, "address slot '20' is above the maximum 1f"),
    ({'address': '0000:100:00.0'}, "address bus '100' is above"),
    ({'address': '10000:81:00.0'}, "address domain '10000' is above"),
    ({'address': '0:0:81:00.0'}, 'has too many ":" fields'),
    ({'address': '0000:xy:00.0'}, "address bus 'xy' is not hex"),
    # nova's PciAddressGlobSpec: a blank function is no wildcard
    ({'address': '0000:81:00. '}, "address function '' is not hex"),
    ({'address': '.\t'}, "address function '' is not hex"),
    ({'vendor_id': '10de\n'}, 'vendor_id must be 4 hex digits'),
    ({'address': {'bus': '('}}, "address bus '(' is not a regular expression"),
    ({'address': {'socket': '0'}}, 'address key "socket" is unknown'),
    ({'address': 81}, 'address must be a string'),
    ({'vendor_id': '10de', 'managed': 'sometimes'},
     'managed must be a string "yes" or "no"'),
    ({'address': '0000:81:00.0', 'devname': 'eth0'},
     'devname and address are mutually exclusive'),
    # nova: PciDeviceRemoteManagedNotPresent where there is no eth0
    ({'devname': 'eth0', 'remote_managed': 'true'},
     'remote_managed with devname: nova looks the interface up'),
])
def test_invalid_device_specs(value, rule):
    messages = problems(nova_pci.validate_device_spec(value))
    assert any(rule in m for m in messages), messages


@pytest.mark.parametrize('value', ['10de', 5, [1], None])
def test_device_spec_must_be_object_or_list(value):
    assert 'must be a JSON object or a list' in problems(
        nova_pci.validate_device_spec(value))[0]


def test_device_spec_unknown_key_and_match_all_are_warnings():
    issues = nova_pci.validate_device_spec({'vendor-id': '10de'})
    assert problems(issues) == []
    assert 'unknown key "vendor-id": nova keeps it as a free-form tag' \
        in warnings(issues)[0]
    assert 'matches every PCI device of the host' in warnings(issues)[1]


# matching ------------------------------------------------------------------

@pytest.mark.parametrize('spec, matches', [
    ({}, True),
    ({'vendor_id': '10de'}, True),
    ({'vendor_id': '10DE', 'product_id': '1bb3'}, True),
    ({'vendor_id': '10de', 'product_id': '1eb8'}, False),
    ({'address': '0000:81:00.0'}, True),
    ({'address': '0000:81:01.0'}, False),
    ({'address': '*:81:*.*'}, True),
    ({'address': ':81:00.'}, True),
    ({'address': '00.0'}, True),
    ({'address': {'bus': '8[0-9]', 'slot': '00'}}, True),
    ({'address': {'bus': '82'}}, False),
    # nova matches the regular expressions at the start of the field
    ({'address': {'bus': '8'}}, True),
    ({'address': {'bus': '1'}}, False),
    ({'devname': 'eth0'}, False),
])
def test_device_spec_matches(spec, matches):
    assert nova_pci.device_spec_matches(
        spec, '10de', '1bb3', '0000:81:00.0') is matches


@pytest.mark.parametrize('spec, device_type, matches', [
    (P4, 'type-PCI', True),
    (P4, 'type-PF', False),     # no device_type: nova drops PF pools
    (dict(P4, device_type='type-PF'), 'type-PF', True),
    (dict(P4, device_type='type-PF'), 'type-PCI', False),
    (dict(P4, product_id='1eb8'), 'type-PCI', False),
])
def test_alias_matches(spec, device_type, matches):
    assert nova_pci.alias_matches(spec, '10de', '1bb3',
                                  device_type) is matches


def test_alias_matches_by_resource_class():
    spec = {'name': 'A16', 'resource_class': 'a16-16a'}
    assert nova_pci.alias_matches(spec, '10de', '25b6', 'type-PCI',
                                  'CUSTOM_A16_16A')
    assert not nova_pci.alias_matches(spec, '10de', '25b6', 'type-PCI',
                                      'CUSTOM_PCI_10DE_25B6')


def test_resource_class_names():
    assert nova_pci.normalize_resource_class('a16 16a') == 'CUSTOM_A16_16A'
    assert nova_pci.normalize_resource_class('CUSTOM_X') == 'CUSTOM_X'
    assert nova_pci.default_resource_class('10de', '1eb8') == \
        'CUSTOM_PCI_10DE_1EB8'


# rendering -----------------------------------------------------------------

def test_rendered_lines_are_valid_json_in_key_order():
    alias = nova_pci.alias_spec('P4', '10de', '1bb3', 'type-PCI',
                                'preferred')
    line = nova_pci.option_line('alias', alias)
    assert line == ('alias = {"name": "P4", "vendor_id": "10de", '
                    '"product_id": "1bb3", "device_type": "type-PCI", '
                    '"numa_policy": "preferred"}')
    assert nova_pci.validate_alias(json.loads(line.split(' = ', 1)[1])) \
        == []
    spec = nova_pci.device_spec('10de', '1bb3', '0000:81:00.0')
    assert nova_pci.option_line('device_spec', spec) == (
        'device_spec = {"vendor_id": "10de", "product_id": "1bb3", '
        '"address": "0000:81:00.0"}')
    assert nova_pci.alias_spec('P4', '10de', '1bb3') == P4


def test_rendered_lines_keep_a_dollar_from_oslo_config():
    # oslo.config would replace "$x" by the value of an option x.
    line = nova_pci.option_line('alias', {'name': 'a$x\\$y'})
    assert '$' not in line
    assert json.loads(line.split(' = ', 1)[1]) == {'name': 'a$x\\$y'}


def test_messages_escape_and_bound_what_they_echo():
    [message] = problems(nova_pci.validate_alias(
        dict(P4, vendor_id='\x1b[31m' + 'x' * 5000)))
    assert '\x1b' not in message and '\\x1b' in message
    assert len(message) < 200
    [message] = problems(nova_pci.validate_alias(dict(P4, **{'\u202ek': 1})))
    assert "unknown key '\\u202ek'" in message


def test_legacy_options_point_to_new_names():
    assert nova_pci.LEGACY_OPTIONS[('pci', 'passthrough_whitelist')] == (
        'pci', 'device_spec')
    assert nova_pci.LEGACY_OPTIONS[('DEFAULT', 'pci_alias')] == (
        'pci', 'alias')
