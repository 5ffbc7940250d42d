"""Flavor extra specs against nova: ``gpu flavor create --property``.

What ``flavor_specs.check_property`` accepts nova must take at
microversion 2.86 (its JSON schema, then its validators). The table in
``osc_gpu.rules.nova_extra_specs`` must also say what nova's validators
say, entry by entry, and know the same placement names.
"""

import itertools
import re

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from osc_gpu.rules import flavor_specs
from osc_gpu.rules import nova_extra_specs as nes
from osc_gpu.rules import placement_names
from tests.functional.differential import verdicts

TRAITS = sorted(placement_names.STANDARD_TRAITS)[::15] + [
    'COMPUTE_MANAGED_PCI_DEVICE', 'CUSTOM_GPU', 'CUSTOM_', 'FOO_BAR',
    'custom_gpu', 'HW_GPU_API_VULKAN']
SAMPLES = {
    'num': ['0', '1', '12', '01'],
    'group': ['', '1', 'gpu', '_a-1', 'x' * 64, 'x' * 65],
    'resource': list(placement_names.STANDARD_RESOURCE_CLASSES[::4]) + [
        'VGPU', 'CUSTOM_PCI_10DE_1EB8', 'CUSTOM_', 'FOO', 'vgpu'],
    'trait': TRAITS,
    'key': ['x', 'a:b', ' ', 'cpu_arch'],
    'filter': ['', ':x', ':x:y', ':', ':a b'],
}


def keys_of(rule):
    """Keys that ``rule``'s name stands for, parameters filled in."""
    names = re.findall(r'\{(\w+)\}', rule.name)
    for values in itertools.product(*(SAMPLES[n] for n in names)):
        key = rule.name
        for name, value in zip(names, values):
            key = key.replace('{%s}' % name, value, 1)
        yield key


def near_misses(key):
    return [key + '_', key[:-1], key.upper(), key + ' ', ' ' + key,
            key + '\n', key.replace(':', '_', 1), key.replace('_', '-')]


INTS = ['-1', '0', '1', '2', '7', '15', '16', '1000', ' 7', '7 ', '+7',
        '1_000', '\u0667', '7\n', '0x7', '7.0', '', 'seven', '07', '-0']
BOOLS = ['true', 'false', 'True', 'YES', 'no', '1', '0', 'on', 'off', 't',
         'F', ' true', 'true\n', 'yes ', 'tru', '', '2', 'enabled']
PATTERNED = [
    '0', '0-3', '^0', '0-3,^2', '1-2-3', '0,,1', '0-', '', ' 0', '0-3,5-7,^6',
    '\u0660-\u0663', '0\n', 'a', 'large', 'small', 'any', '2MB', '2048',
    '1Gi', '1GiB', '4kb', '2Mbit', '1T', 'huge', '2 MB', '\u0662MB',
    'SMALL', 'SMALL,LARGE', 'a,', ',a', 'a,,b', 'a b', 'P4:1',
    'P4:1, T4:2', 'P4', 'P4:\u0662']
FREE = ['x', ' ', 'a' * 255, 'a' * 256, '\x00', '\u00e9', 'dedicated']


def values_for(rule):
    if rule.kind == nes.INT:
        edges = [n + d for n in (rule.minimum, rule.maximum)
                 if n is not None for d in (-1, 0, 1)]
        return INTS + [str(n) for n in edges]
    if rule.kind == nes.BOOL:
        return BOOLS
    if rule.choices:
        return [v for c in rule.choices for v in (
            c, c.upper(), c + ' ', ' ' + c, c[:-1])] + ['bogus', '']
    return PATTERNED if rule.pattern else FREE


PAIRS = [(key, value) for rule in nes.EXTRA_SPEC_RULES
         for key in keys_of(rule) for value in values_for(rule)]
KEYS = sorted({k for rule in nes.EXTRA_SPEC_RULES for k in keys_of(rule)})
ODD_KEYS = [m for key in KEYS[::3] for m in near_misses(key)] + [
    'foo', 'foo:bar', 'custom:thing', 'hw', 'hw:', ':x', 'HW:cpu_policy',
    'a' * 255, 'a' * 256, '', 'x\n', 'bad/key', 'key with space',
    'hw:numa_cpus_0', 'hw:numa_cpusX1', 'hw:numa_cpus:0', 'hw:numa_mem-1',
    'resources' + 'x' * 65 + ':VGPU', 'hw :cpu_policy']
ALL_VALUES = sorted({v for _, v in PAIRS} | set(FREE))

CASES = st.one_of(
    st.sampled_from(PAIRS), st.sampled_from(PAIRS), st.sampled_from(PAIRS),
    st.tuples(st.sampled_from(KEYS + ODD_KEYS),
              st.one_of(st.sampled_from(ALL_VALUES), st.text(max_size=10))),
    st.tuples(st.text(max_size=16), st.text(max_size=8)),
)


def _kind(key):
    rule = nes.rule_for(key)
    return rule.kind if rule else None


def _patterned(key):
    rule = nes.rule_for(key)
    return bool(rule and rule.pattern)


# When nova accepts what --property refuses; case = (key, value).
MATCHERS = {
    'spec-own-option': lambda c: c[0] in flavor_specs.GPU_EXTRA_SPECS_BY_KEY,
    'spec-int-spelling': lambda c: _kind(c[0]) == nes.INT
    and not re.fullmatch('-?[0-9]+', c[1]),
    'spec-bool-spelling': lambda c: _kind(c[0]) == nes.BOOL
    and c[1] != c[1].strip(),
    'spec-pattern-digits': lambda c: _patterned(c[0]) and any(
        ch.isdigit() and not ch.isascii() for ch in c[1]),
    'spec-key-newline': lambda c: c[0].endswith('\n'),
    'spec-numa-cell-dot': lambda c: bool(
        re.fullmatch(r'hw:numa_(cpus|mem)[^.][0-9]+', c[0])),
}


# One case per entry: nova accepts it, osc-gpu refuses it, and the
# entry's matcher covers it.
STRICT_EXAMPLES = {
    'spec-own-option': ('pci_passthrough:alias', 'P4:1'),
    'spec-int-spelling': ('hw:cpu_cores', ' 2'),
    'spec-bool-spelling': ('hw:locked_memory', ' true'),
    'spec-pattern-digits': ('hw:cpu_realtime_mask', '^\u0660'),
    'spec-key-newline': ('custom\n', 'x'),
    'spec-numa-cell-dot': ('hw:numa_cpus_0', '0-1'),
}


def judged(nova_judge, case):
    key, value = case
    ok, message = verdicts.ours(flavor_specs.check_property, key, value)
    return ok, message, nova_judge('flavor_extra_spec', {'key': key,
                                                         'value': value})


@settings(verdicts.DIFFERENTIAL, max_examples=1500)
@given(case=CASES)
@example(case=('hw:cpu_policy', 'bogus'))
@example(case=('hw:cpu_cores', '0'))
@example(case=('resources:FOO', '1'))
def test_what_property_accepts_nova_takes_at_2_86(nova_judge, case):
    ok, message, nova = judged(nova_judge, case)
    verdicts.check(nova, ok, message, case, MATCHERS)


def test_every_rule_with_its_candidate_values(nova_judge):
    cases = sorted(set(PAIRS))
    nova = nova_judge.many('flavor_extra_spec', [
        {'key': key, 'value': value} for key, value in cases])
    verdicts.sweep(cases, nova, lambda case: verdicts.ours(
        flavor_specs.check_property, *case), MATCHERS)


@pytest.mark.parametrize('sid', sorted(STRICT_EXAMPLES))
def test_each_deliberate_strictness_is_real(nova_judge, sid):
    ok, message, nova = judged(nova_judge, STRICT_EXAMPLES[sid])
    verdicts.check_strict(nova, ok, message, STRICT_EXAMPLES[sid], MATCHERS,
                          sid)


def _filled(validator):
    key = validator['name']
    for name in validator['parameters']:
        key = key.replace('{%s}' % name, {
            'num': '0', 'group': '', 'resource': 'X', 'trait': 'X',
            'key': 'x', 'filter': ''}[name], 1)
    return key


def _as_nova_would_say(rule):
    return {'type': {nes.INT: 'int', nes.BOOL: 'bool',
                     nes.TEXT: 'str'}[rule.kind],
            'enum': sorted(rule.choices), 'has pattern': bool(rule.pattern),
            'min': rule.minimum, 'max': rule.maximum,
            'deprecated': bool(rule.deprecated_for)}


def test_the_table_says_what_each_nova_validator_says(nova_judge):
    catalogue = nova_judge('extra_spec_catalogue', {}).data
    used = set()
    for validator in catalogue['validators']:
        key = _filled(validator)
        rule = nes.rule_for(key)
        assert rule is not None, 'no rule for nova validator %s' % key
        used.add(rule.name)
        assert _as_nova_would_say(rule) == {
            'type': validator['type'], 'enum': sorted(validator['enum']),
            'has pattern': bool(validator['pattern']),
            'min': validator['min'], 'max': validator['max'],
            'deprecated': validator['deprecated']}, key
    assert used == {r.name for r in nes.EXTRA_SPEC_RULES}
    assert sorted(n.split('(')[0] for n in catalogue['namespaces']) == \
        sorted(n.split('{')[0] for n in nes.NAMESPACES)


def test_placement_names_are_novas(nova_judge):
    catalogue = nova_judge('extra_spec_catalogue', {}).data
    assert sorted(placement_names.STANDARD_TRAITS) == catalogue['traits']
    assert list(placement_names.STANDARD_RESOURCE_CLASSES) == catalogue[
        'resource_classes']
