"""Image properties against glance and nova: ``gpu image prepare``.

What ``image_properties.wanted_properties`` accepts (its options and
``--property``), glance must take in a PATCH and nova must read when it
boots from the image. The table in ``osc_gpu.rules.image_meta`` must also
cover every property ``ImageMetaProps`` has, with nova's values.
"""

import itertools
import re

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from osc_gpu.rules import booleans
from osc_gpu.rules import image_meta as im
from osc_gpu.rules import image_properties as ip
from tests.functional.differential import verdicts

NUMA_SAMPLES = ['0', '1', '2', '5', '01', '127', '128']
INTS = ['0', '1', '-1', '4', '4096', ' 4', '4 ', '+4', '1_0', '\u0664',
        '4\n', '4.0', '', 'four', '0x4']
BOOLS = ['true', 'false', 'True', 'yes', 'NO', '1', '0', 'on', 't', 'n',
         ' true', 'ture', '', 'enabled', 'yes\n']
CPU_SETS = ['0', '0-3', '0-3,^2', '^1', '0,1', '0, 1', '0,,1', '', '3-1',
            '0-', '-1', 'a', ' 0', '0-3,^2,6', '\u0660-\u0661']
TEXTS = ['x', '', ' ', 'a b', '\x00', '\u00e9', 'x' * 300, '[]', '{}',
         '>=6.0', '[{"a": "b"}]']


def values_for(rule):
    if rule.kind == im.BOOL:
        return BOOLS
    if rule.kind == im.INT:
        return INTS
    if rule.kind == im.CPU_SET:
        return CPU_SETS
    if rule.kind == im.CHOICE:
        return [v for c in rule.choices[:6] for v in (
            c, c.upper(), c.capitalize(), c + ' ')] + [
            'bogus', '', 'amd64', 'i386', 'VirtualE1000', 'lsilogicsas',
            'paravirtual', 'pv', 'hv', 'baremetal', 'xapi', 'KVM']
    return TEXTS


def keys_of(rule):
    if '{n}' in rule.key:
        return [rule.key.replace('{n}', n) for n in NUMA_SAMPLES]
    return [rule.key]


PAIRS = [(key, value) for rule in im.IMAGE_PROPERTY_RULES
         for key in keys_of(rule) for value in values_for(rule)]
ODD_KEYS = ['name', 'visibility', 'tags', 'min_ram', 'protected',
            'os_hidden', 'deleted', 'location', 'os_glance_import_task',
            'status', 'custom', 'custom\n', 'bad key', 'a' * 255, 'a' * 256,
            'trait:CUSTOM_GPU', 'hw_numa_cpus.x', 'hw_numa_cpus_0',
            'description', 'kernel_id', 'traits_required', 'HW_DISK_BUS']
ALL_VALUES = sorted({v for _, v in PAIRS})
PROPERTY = st.one_of(
    st.sampled_from(PAIRS), st.sampled_from(PAIRS), st.sampled_from(PAIRS),
    st.tuples(st.sampled_from(ODD_KEYS), st.sampled_from(ALL_VALUES)),
    st.tuples(st.text(max_size=12), st.text(max_size=8)))
MACHINE_TYPES = ['q35', 'pc', 'virt', 'virt-8.2', 'pc-q35-rhel9.4.0',
                 'pseries', 's390-ccw-virtio', 'Q35', '', ' q35', 'q35\n',
                 'pc q35', 'q35;x', '-q35', 'x' * 255, 'x' * 256]


OPTION_VALUES = {
    'hw_machine_type': [None] + MACHINE_TYPES,
    'hw_firmware_type': [None, 'uefi', 'bios', 'UEFI', 'efi', ''],
    'hw_video_model': [None, 'none', 'virtio', 'VGA', 'nvidia'],
    'os_type': [None, 'linux', 'windows', 'Windows', 'LINUX', 'macos'],
}
# Every combination, so that one draw picks all four options.
OPTION_SETS = [dict(zip(OPTION_VALUES, values))
               for values in itertools.product(*OPTION_VALUES.values())]
NO_OPTIONS = OPTION_SETS[0]
OPTIONS = st.one_of(
    st.sampled_from(OPTION_SETS), st.sampled_from(OPTION_SETS),
    st.builds(lambda text: dict(NO_OPTIONS, hw_machine_type=text),
              st.text(max_size=8)))
CASES = st.tuples(
    st.booleans(), OPTIONS,
    st.builds(lambda a, b, n: dict([a, b][:n]), PROPERTY, PROPERTY,
              st.integers(0, 2)))


def sent(case):
    """What the command would PATCH if it did not refuse."""
    hide, options, properties = case
    wanted = {im.rule_for('img_hide_hypervisor_id').key:
              'true' if hide else 'false'}
    wanted.update({k: v for k, v in options.items() if v is not None})
    wanted.update(properties)
    return wanted


def _rules(case):
    """``(key, value, rule)`` of every property and option set."""
    given = dict(case[2], **{k: v for k, v in case[1].items()
                             if v is not None})
    return [(key, value, im.rule_for(key)) for key, value in given.items()]


def _numa_cell_unread(key, properties):
    cell = re.fullmatch(r'(hw_numa_(?:cpus|mem))\.([0-9]+)', key)
    if not cell:
        return False
    prefix, number = cell.groups()
    return (number != str(int(number)) or int(number) >= im.NUMA_NODES_MAX
            or any('%s.%d' % (prefix, n) not in properties
                   for n in range(int(number))))


def _kind_spelled(case, kind, good):
    return any(rule and rule.kind == kind and not good(value, rule)
               for _, value, rule in _rules(case))


# When glance and nova accept what the command refuses; case =
# (hide, options, properties).
MATCHERS = {
    'image-own-option': lambda c: any(
        k in ip.GPU_IMAGE_PROPERTIES_BY_KEY for k in c[2]),
    'image-glance-attribute': lambda c: any(
        k in ip._RESERVED for k in c[2]),
    'image-key-charset': lambda c: any(
        not re.fullmatch('[A-Za-z0-9_:.-]{1,255}', k) for k in c[2]),
    'image-bool-words': lambda c: _kind_spelled(
        c, im.BOOL, lambda v, r: v.lower() in booleans.BOOLEAN_STRINGS),
    'image-int-spelling': lambda c: _kind_spelled(
        c, im.INT, lambda v, r: re.fullmatch('-?[0-9]+', v)),
    'image-enum-spelling': lambda c: _kind_spelled(
        c, im.CHOICE, lambda v, r: v in r.choices),
    'image-cpu-set-spelling': lambda c: _kind_spelled(
        c, im.CPU_SET, lambda v, r: re.fullmatch(
            r'\^?[0-9]+(-[0-9]+)?(,\^?[0-9]+(-[0-9]+)?)*', v)),
    'image-numa-cells': lambda c: any(
        _numa_cell_unread(k, c[2]) for k in c[2]),
    'image-structured-data': lambda c: _kind_spelled(
        c, im.NOT_BY_HAND, lambda v, r: False),
    'machine-type-charset': lambda c: c[1].get('hw_machine_type') is not None
    and not re.fullmatch(ip.MACHINE_TYPE, c[1]['hw_machine_type']),
}

# One case per entry: glance and nova accept it, the command refuses it,
# and the entry's matcher covers it.
STRICT_EXAMPLES = {
    'image-own-option': (True, NO_OPTIONS, {'os_type': 'linux'}),
    'image-glance-attribute': (True, NO_OPTIONS, {'name': 'x'}),
    'image-key-charset': (True, NO_OPTIONS, {'bad key': 'x'}),
    'image-bool-words': (True, NO_OPTIONS, {'hw_qemu_guest_agent': 'ture'}),
    'image-int-spelling': (True, NO_OPTIONS, {'hw_cpu_cores': ' 4'}),
    'image-enum-spelling': (True, NO_OPTIONS, {'architecture': 'amd64'}),
    'image-cpu-set-spelling': (True, NO_OPTIONS, {'hw_numa_cpus.0': '0, 1'}),
    'image-numa-cells': (True, NO_OPTIONS, {'hw_numa_cpus.5': 'x'}),
    'image-structured-data': (True, NO_OPTIONS, {'mappings': '[]'}),
    'machine-type-charset': (True, dict(NO_OPTIONS, hw_machine_type='pc q35'),
                             {}),
}


def sent_or_wanted(case):
    """What the command sends (or would, had it not refused)."""
    try:
        return ip.wanted_properties(*case)
    except ip.InvalidImageProperty:
        return sent(case)


def judged(nova_judge, case):
    ok, message = verdicts.ours(ip.wanted_properties, *case)
    return ok, message, nova_judge('image_properties',
                                   {'properties': sent_or_wanted(case)})


@settings(verdicts.DIFFERENTIAL, max_examples=1500)
@given(case=CASES)
@example(case=(True, NO_OPTIONS, {'hw_disk_bus': 'bogus'}))
@example(case=(True, dict(NO_OPTIONS, hw_machine_type='virt-8.2'), {}))
@example(case=(False, NO_OPTIONS, {'deleted': 'x'}))
def test_what_image_prepare_accepts_glance_and_nova_take(nova_judge, case):
    ok, message, nova = judged(nova_judge, case)
    verdicts.check(nova, ok, message, case, MATCHERS)


def test_every_property_and_option_with_its_candidate_values(nova_judge):
    cases = [(True, NO_OPTIONS, {key: value})
             for key, value in sorted(set(PAIRS))] + [
        (False, options, {}) for options in OPTION_SETS]
    nova = nova_judge.many('image_properties', [
        {'properties': sent_or_wanted(case)} for case in cases])
    verdicts.sweep(cases, nova, lambda case: verdicts.ours(
        ip.wanted_properties, *case), MATCHERS)


@pytest.mark.parametrize('sid', sorted(STRICT_EXAMPLES))
def test_each_deliberate_strictness_is_real(nova_judge, sid):
    ok, message, nova = judged(nova_judge, STRICT_EXAMPLES[sid])
    verdicts.check_strict(nova, ok, message, STRICT_EXAMPLES[sid], MATCHERS,
                          sid)


KINDS = {'FlexibleBooleanField': im.BOOL, 'IntegerField': im.INT,
         'StringField': im.TEXT, 'UUIDField': im.TEXT,
         'VersionPredicateField': im.NOT_BY_HAND,
         'ListOfDictOfNullableStringsField': im.NOT_BY_HAND,
         'ListOfSetsOfIntegersField': im.CPU_SET,
         'ListOfIntegersField': im.INT}
# nova fills traits_required from trait:* properties, never from its name.
NOT_READ_BY_NAME = {'traits_required'}


def test_the_table_has_every_property_nova_reads(nova_judge):
    catalogue = nova_judge('image_meta_catalogue', {}).data
    for name, field in catalogue['fields'].items():
        if name in NOT_READ_BY_NAME:
            continue
        rule = im.rule_for(name + '.0' if name in (
            'hw_numa_cpus', 'hw_numa_mem') else name)
        assert rule is not None, 'no rule for %s' % name
        if field['values']:
            assert (rule.kind, sorted(rule.choices)) == (
                im.CHOICE, sorted(field['values'])), name
        else:
            assert rule.kind == KINDS[field['field']], name
    ours = {r.key.split('.')[0] for r in im.IMAGE_PROPERTY_RULES
            if not r.reads_as}
    assert ours <= set(catalogue['fields'])
    assert im.LEGACY_NAMES == catalogue['legacy']
    assert im.NUMA_NODES_MAX == catalogue['numa_nodes_max']


def test_glance_attributes_are_reserved(nova_judge):
    catalogue = nova_judge('image_meta_catalogue', {}).data
    assert set(catalogue['glance_attributes']) <= ip._RESERVED
    assert catalogue['glance_reserved_namespaces'] == [ip._RESERVED_PREFIX]
