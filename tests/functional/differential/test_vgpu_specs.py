"""``gpu flavor create --vgpu [TYPE:]COUNT [--vgpu-class RC]`` against nova.

What ``parse_vgpu_request`` accepts, rendered by ``vgpu_specs``, nova's
API must take at 2.86 and its scheduler must read as COUNT vGPUs of the
class, each in a group that requires the type's trait (one per physical
GPU: ``group_policy=isolate`` from two on). What it refuses is judged as
the plain spelling an operator would write by hand
(``resources:RC=COUNT`` and ``trait:CUSTOM_<TYPE>=required``); a refusal
of what nova takes must be a documented strictness.
"""

import re

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from osc_gpu.rules import vgpu
from tests.functional.differential import verdicts

TYPES = ['nvidia-11', 'nvidia-558', 'i915-GVTg_V5_4', 'mlx5_core', 'a.b',
         '', ' ', 'nvidia 11', '-x', 'x' * 64, 'y' * 65, '\u00e9t\u00e9',
         'CUSTOM_NVIDIA_11', 'custom_x', 'nvidia/11', 'nv:idia', '\x00',
         'nvidia-11\n', '$x', 'NVIDIA-11']
COUNTS = [str(n) for n in (0, 1, 2, 3, 8, 15, 16, 17, 64)] + [
    '007', '-1', ' 2', '2 ', '+2', '1_0', '\u0662', '\u00b2', 'abc', '',
    '9' * 300, '\uff13', '2\n', '0x1']
CLASSES = [None, None, None, 'VGPU', 'CUSTOM_NVIDIA_36', 'PGPU', 'VCPU',
           'custom_x', 'CUSTOM_', '', 'CUSTOM_A-B', 'CUSTOM_' + 'X' * 250]
VALUES = sorted({t + ':' + c for t in TYPES for c in COUNTS}
                | set(COUNTS))


def split(value):
    """``(type or None, count text)`` as an operator would mean them."""
    type_id, colon, count = value.rpartition(':')
    return (type_id if colon else None), count


def plain_specs(value, rc):
    """The flavor an operator would write by hand for the request."""
    type_id, count = split(value)
    specs = {'resources:%s' % (vgpu.VGPU_CLASS if rc is None else rc):
             count}
    if type_id:
        specs['trait:CUSTOM_%s' % re.sub(r'[^A-Z0-9_]', '_',
                                         type_id.upper())] = 'required'
    return specs


def _count(case):
    return split(case[0])[1]


def _as_int(text):
    try:
        return int(text)
    except ValueError:
        return None


# When nova accepts the plain spelling of what gpu flavor create refuses
# (case = (value, class, nova)).
MATCHERS = {
    'vgpu-count-range': lambda c: _as_int(_count(c)) is not None and not
    1 <= _as_int(_count(c)) <= vgpu.MAX_VGPU_COUNT,
    'vgpu-count-spelling': lambda c: not re.fullmatch('[0-9]+', _count(c)),
    'vgpu-type-name': lambda c: split(c[0])[0] is not None and (
        not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}',
                         split(c[0])[0])
        or split(c[0])[0].upper().startswith('CUSTOM_')),
    'vgpu-class-name': lambda c: c[1] is not None and not re.fullmatch(
        r'VGPU|CUSTOM_[A-Z0-9_]+', c[1]),
}

STRICT_EXAMPLES = {
    'vgpu-count-range': ('nvidia-11:17', None),
    'vgpu-count-spelling': ('nvidia-11: 2', None),
    'vgpu-type-name': ('nvidia 11:1', None),
    'vgpu-class-name': ('1', 'PGPU'),
}


def expected_groups(request):
    one = {'resources': {request.resource_class: 1},
           'required': [request.trait] if request.trait else []}
    if request.count == 1:
        return {'': one}, None
    return {str(n): one for n in range(1, request.count + 1)}, 'isolate'


def judged(nova_judge, value, rc):
    """``(ok, message, nova, case)`` for ``--vgpu value --vgpu-class rc``."""
    try:
        request = vgpu.parse_vgpu_request(value, rc)
    except vgpu.InvalidVgpuRequest as exc:
        nova = nova_judge('vgpu_flavor_specs',
                          {'specs': plain_specs(value, rc)})
        return False, str(exc), nova, (value, rc, nova)
    specs = vgpu.vgpu_specs(request)
    nova = nova_judge('vgpu_flavor_specs', {'specs': specs})
    if nova.ok:
        groups, policy = expected_groups(request)
        assert (nova.data['groups'], nova.data['group_policy']) == (
            groups, policy), (value, rc)
    return True, '', nova, (value, rc)


@settings(verdicts.DIFFERENTIAL, max_examples=1500)
@given(value=st.one_of(st.sampled_from(VALUES), st.text(max_size=12)),
       rc=st.sampled_from(CLASSES))
@example(value='nvidia-11:16', rc=None)
@example(value='nvidia-36:2', rc='CUSTOM_NVIDIA_36')
def test_what_gpu_flavor_create_accepts_nova_takes(nova_judge, value, rc):
    ok, message, nova, case = judged(nova_judge, value, rc)
    verdicts.check(nova, ok, message, case, MATCHERS)


def test_every_type_and_count_as_gpu_flavor_create_takes_it(nova_judge):
    cases, sent = [], []
    for value in VALUES:
        for rc in (None, 'CUSTOM_NVIDIA_36', 'PGPU'):
            try:
                request = vgpu.parse_vgpu_request(value, rc)
                cases.append((True, '', (value, rc), request))
                sent.append({'specs': vgpu.vgpu_specs(request)})
            except vgpu.InvalidVgpuRequest as exc:
                cases.append((False, str(exc), (value, rc), None))
                sent.append({'specs': plain_specs(value, rc)})
    nova = nova_judge.many('vgpu_flavor_specs', sent)
    keyed = [case[2] + (n,) if not case[0] else case[2]
             for case, n in zip(cases, nova)]
    ours = {id(k): c for k, c in zip(keyed, cases)}

    def outcome(key):
        ok, message, (value, rc), request = ours[id(key)]
        return ok, message
    verdicts.sweep(keyed, nova, outcome, MATCHERS)
    for (ok, _, where, request), verdict in zip(cases, nova):
        if ok and verdict.ok:
            assert (verdict.data['groups'], verdict.data['group_policy']) \
                == expected_groups(request), where


@pytest.mark.parametrize('sid', sorted(STRICT_EXAMPLES))
def test_each_deliberate_strictness_is_real(nova_judge, sid):
    ok, message, nova, case = judged(nova_judge, *STRICT_EXAMPLES[sid])
    assert (ok, nova.ok) == (False, True), (message, nova.why)
    assert sid in verdicts.check(nova, ok, message, case, MATCHERS)
