"""GPU requests against nova: ``gpu flavor create --gpu`` and the preflight.

Creating: what ``parse_gpu_requests`` accepts, rendered as the flavor's
``pci_passthrough:alias``, nova's API must take at 2.86 and its boot path
must read as the same aliases and counts. Reading: ``gpu server create``
must never refuse a flavor nova boots, and must count the GPUs nova
gives.
"""

import re

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from osc_gpu.rules import gpu_request
from osc_gpu.rules import preflight
from tests.functional.differential import verdicts

# Pools of parts, so that one draw picks a whole item: Hypothesis spends
# its time per draw, and the suite has a time budget.
NAMES = ['P4', 'T4', 'a100-80g', 'M60', 'gpu_x', 'P 4', ' P4 ', '\tT4',
         'P4\n', '', ' ', 'A,B', 'x:y', '\u00e9t\u00e9', 'x' * 256, 'y' * 257,
         '\x00', '\u2003P4', '$A', 'p4.small']
COUNTS = [str(n) for n in (0, 1, 2, 3, 8, 63, 64, 65, 200)] + [
    '007', '-1', ' 2', '2 ', '+2', '1_0', '\u0662', '\u00b2', 'abc', '',
    '99999999999999999999', '\uff13', '2\n', '0x1']
ITEMS = [name + colon + count for name in NAMES for count in COUNTS
         for colon in (':', ':', ':', ' : ', '', '::')]
SEPARATORS = [',', ', ', ' , ', ',,', ' ,']


ITEM = st.sampled_from(ITEMS)


def _joined(first, second, third, separator, count):
    return separator.join((first, second, third)[:count])


# st.builds with a fixed number of draws: several times cheaper per
# example than lists or composites, which matters at thousands of them.
ALIAS_VALUES = st.builds(_joined, ITEM, ITEM, ITEM,
                         st.sampled_from(SEPARATORS), st.integers(1, 3))
LONG_VALUES = st.builds(lambda item, n: ','.join([item] * n),
                        st.sampled_from(['P4:1', 'T4:22', 'x' * 60 + ':1']),
                        st.integers(4, 60))
VALUES = st.one_of(ALIAS_VALUES, ALIAS_VALUES, ALIAS_VALUES,
                   st.text(max_size=20), LONG_VALUES)


def nova_items(value):
    """``[(stripped name, count text)]`` as nova splits ``value``."""
    return [(name.strip(), count) for name, count in
            (item.split(':') for item in value.split(','))]


def _counts(nova):
    return [count for _, count in nova.data['requests']]


def _names(nova):
    return [name for name, _ in nova.data['requests']]


# When nova accepts what gpu flavor create refuses (case = (value, nova)).
CREATE_MATCHERS = {
    'gpu-count-range': lambda c: any(
        not 1 <= n <= gpu_request.MAX_GPU_COUNT for n in _counts(c[1])),
    'gpu-repeated-alias': lambda c: len(set(_names(c[1]))) < len(
        _names(c[1])),
    'gpu-alias-whitespace': lambda c: any(
        re.search(r'\s', name) for name in _names(c[1])),
    'gpu-non-ascii-digits': lambda c: any(
        not count.isascii() for _, count in nova_items(c[0])),
    'blank-alias': lambda c: '' in _names(c[1]),
}

# When nova boots a flavor gpu server create refuses.
READ_MATCHERS = {
    'preflight-no-gpu': lambda c: all(n < 1 for n in _counts(c[1])),
    'blank-alias': lambda c: '' in _names(c[1]),
}


def totals(pairs):
    """``{alias: GPUs}`` a server gets from nova's requests."""
    found = {}
    for name, count in pairs:
        found[name] = found.get(name, 0) + max(count, 0)
    return {name: count for name, count in found.items() if count}


# One case per entry: nova accepts it, osc-gpu refuses it, and the
# entry's matcher covers it.
STRICT_CREATE_EXAMPLES = {
    'gpu-count-range': ['P4:65'],
    'gpu-repeated-alias': ['P4:1', 'P4:1'],
    'gpu-alias-whitespace': ['P 4:1'],
    'gpu-non-ascii-digits': ['P4:\u0662'],
    'blank-alias': [' :1'],
}
STRICT_READ_EXAMPLES = {
    'preflight-no-gpu': 'P4:0',
    'blank-alias': 'P4:1, :1',
}


def judged_create(nova_judge, values):
    """``(ok, message, nova, case)`` for ``gpu flavor create --gpu``."""
    try:
        requests = gpu_request.parse_gpu_requests(values)
    except gpu_request.InvalidGpuRequest as exc:
        value = ','.join(values)
        nova = nova_judge('pci_alias_spec', {'value': value})
        return False, str(exc), nova, (value, nova)
    spec = gpu_request.render_alias_spec(requests)
    nova = nova_judge('pci_alias_spec', {'value': spec})
    if nova.ok:
        assert nova.data['requests'] == [[r.alias, r.count]
                                         for r in requests]
    return True, '', nova, spec


def judged_read(nova_judge, value):
    """``(ok, message, nova, case)`` for gpu server create's preflight."""
    nova = nova_judge('pci_alias_boot', {'value': value})
    try:
        requests = preflight.gpu_requests_of(
            'f', {gpu_request.ALIAS_SPEC_KEY: value})
    except preflight.PreflightError as exc:
        return False, str(exc), nova, (value, nova)
    if nova.ok:
        assert {r.alias: r.count for r in requests} == totals(
            nova.data['requests'])
    return True, '', nova, value


@settings(verdicts.DIFFERENTIAL, max_examples=1500)
@given(values=st.builds(lambda a, b, n: [a, b][:n],
                        VALUES, VALUES, st.integers(1, 2)))
@example(values=['x' * 200 + ':1', 'y' * 60 + ':1'])    # 265 characters
@example(values=['P4:0'])
def test_what_gpu_flavor_create_accepts_nova_takes(nova_judge, values):
    ok, message, nova, case = judged_create(nova_judge, values)
    verdicts.check(nova, ok, message, case, CREATE_MATCHERS)


@settings(verdicts.DIFFERENTIAL, max_examples=1500)
@given(value=VALUES)
@example(value='P4:65')
@example(value='P4:1,P4:1')
@example(value=' P4 :1')
@example(value='P4: 2')
@example(value='a,b:1')
def test_gpu_server_create_never_refuses_a_flavor_nova_boots(nova_judge,
                                                             value):
    ok, message, nova, case = judged_read(nova_judge, value)
    verdicts.check(nova, ok, message, case, READ_MATCHERS)


PAIRS_OF_ITEMS = (('P4:1', 'P4:1'), ('P4:1', 'T4:2'), ('P4:1', ' :1'),
                  ('a', 'b:1'))
SWEPT = sorted(set(ITEMS) | {separator.join(pair)
                             for separator in SEPARATORS
                             for pair in PAIRS_OF_ITEMS})


def test_every_item_as_gpu_flavor_create_takes_it(nova_judge):
    outcomes = []
    for value in SWEPT:
        try:
            requests = gpu_request.parse_gpu_requests([value])
            outcomes.append((True, '', gpu_request.render_alias_spec(
                requests)))
        except gpu_request.InvalidGpuRequest as exc:
            outcomes.append((False, str(exc), value))
    nova = nova_judge.many('pci_alias_spec', [{'value': sent}
                                              for _, _, sent in outcomes])
    cases = [(sent, n) if not ok else sent
             for (ok, _, sent), n in zip(outcomes, nova)]
    ours = {id(case): outcome[:2] for case, outcome in zip(cases, outcomes)}
    verdicts.sweep(cases, nova, lambda case: ours[id(case)],
                   CREATE_MATCHERS)


def test_every_item_as_gpu_server_create_reads_it(nova_judge):
    nova = nova_judge.many('pci_alias_boot', [{'value': v} for v in SWEPT])

    def ours(case):
        try:
            found = preflight.gpu_requests_of(
                'f', {gpu_request.ALIAS_SPEC_KEY: case[0]})
        except preflight.PreflightError as exc:
            return False, str(exc)
        if case[1].ok:
            assert {r.alias: r.count for r in found} == totals(
                case[1].data['requests']), case[0]
        return True, ''

    cases = [(value, n) for value, n in zip(SWEPT, nova)]
    verdicts.sweep(cases, nova, ours, READ_MATCHERS)


@pytest.mark.parametrize('sid', sorted(STRICT_CREATE_EXAMPLES))
def test_each_deliberate_strictness_of_create_is_real(nova_judge, sid):
    ok, message, nova, case = judged_create(nova_judge,
                                            STRICT_CREATE_EXAMPLES[sid])
    assert (ok, nova.ok) == (False, True), (message, nova.why)
    assert sid in verdicts.check(nova, ok, message, case, CREATE_MATCHERS)


@pytest.mark.parametrize('sid', sorted(STRICT_READ_EXAMPLES))
def test_each_deliberate_strictness_of_preflight_is_real(nova_judge, sid):
    ok, message, nova, case = judged_read(nova_judge,
                                          STRICT_READ_EXAMPLES[sid])
    assert (ok, nova.ok) == (False, True), (message, nova.why)
    assert sid in verdicts.check(nova, ok, message, case, READ_MATCHERS)
