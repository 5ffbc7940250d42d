"""The input table against nova's own verdicts.

The expected verdicts were taken from nova 34's schema validators
(``nova.api.validation.validators._SchemaValidator`` on
``schemas/flavors.py`` ``create_v2102``) run on the same values; the only
differences are the ``$``-before-a-final-newline cases at the end, where
osc-gpu is stricter on purpose.
"""

import math

import pytest

from osc_gpu.rules import inputs

NAME_VERDICTS = [
    ('a', True), ('gpu.p4', True), ('a b', True), ('a' * 255, True),
    ('é', True), ('日本', True), ('a:b', True), ("it's", True),
    ('a\u00a0b', True), ('x\ufffd', True), ('x\ue000', False),
    ('', False), (' ', False), (' a', False), ('a ', False),
    ('\u00a0a', False), ('a\u3000', False), ('a' * 256, False),
    ('a\nb', False), ('a\tb', False), ('a\x1bb', False), ('a\x7f', False),
    ('a\x85b', False), ('a\u2028b', False), ('a\u200bb', False),
    ('a\ufeffb', False), ('\U0001F680', False), ('x\uffff', False),
]
ID_VERDICTS = [
    ('abc', True), ('a b', True), ('a.b_c-d', True), ('1', True),
    ('a' * 255, True), (' a', False), ('a ', False), ('a/b', False),
    ('é', False), ('', False), ('a' * 256, False), ('a\tb', False),
]
DESCRIPTION_VERDICTS = [
    ('', True), (' ', True), ('é \u00a0', True), ('a' * 65535, True),
    ('a\nb', False), ('a\tb', False), ('a' * 65536, False),
    ('a\u2028', False),
]
SIZE_VERDICTS = [
    ('--ram', '1', 1), ('--ram', '2147483647', 2147483647),
    ('--ram', '01', 1), ('--disk', '0', 0),
    ('--ram', '0', None), ('--ram', '2147483648', None),
    ('--ram', '1_000', None), ('--ram', '\uff11', None),
    ('--ram', '-1', None), ('--ram', '+1', None), ('--ram', ' 1', None),
    ('--ram', '1.0', None), ('--disk', '-1', None), ('--vcpus', '', None),
    ('--swap', '9' * 5000, None),
]
# nova's patterns end in "$", which matches before a final newline too.
STRICTER_THAN_NOVA = [
    ('flavor name', 'abc\n'), ('flavor ID', 'abc\n'),
    ('flavor description', 'x\n'),
]


def _ok(what, value):
    return inputs.TEXT_RULES[what].problem(value) is None


@pytest.mark.parametrize('value, nova_ok', NAME_VERDICTS)
def test_names_as_nova_judges_them(value, nova_ok):
    for what in ('flavor name', 'server name', 'key pair name',
                 'availability zone', 'security group'):
        assert _ok(what, value) is nova_ok, (what, value)


@pytest.mark.parametrize('value, nova_ok', ID_VERDICTS)
def test_flavor_ids_as_nova_judges_them(value, nova_ok):
    assert _ok('flavor ID', value) is nova_ok


@pytest.mark.parametrize('value, nova_ok', DESCRIPTION_VERDICTS)
def test_descriptions_as_nova_judges_them(value, nova_ok):
    assert _ok('flavor description', value) is nova_ok


@pytest.mark.parametrize('what, value', STRICTER_THAN_NOVA)
def test_a_final_newline_is_refused_although_nova_lets_it_through(what,
                                                                  value):
    assert not _ok(what, value)


@pytest.mark.parametrize('option, text, value', SIZE_VERDICTS)
def test_sizes_are_ascii_digits_below_2_to_the_31(option, text, value):
    rule = inputs.NUMBER_RULES[option]
    if value is None:
        with pytest.raises(ValueError, match='digits 0-9 only'):
            rule.parse(text)
    else:
        assert rule.parse(text) == value


@pytest.mark.parametrize('text', ['nan', 'inf', '-inf', '0', '-5', '0.0',
                                  '1e3', '1_0', '\uff15', ' 5', '', '.',
                                  '9e9'])
def test_wait_timeout_must_be_positive_finite_seconds(text):
    with pytest.raises(ValueError, match='greater than 0'):
        inputs.seconds(text)


def test_seconds_accepts_plain_decimals_and_refuses_overflow():
    assert inputs.seconds('600') == 600.0
    assert inputs.seconds('0.5') == 0.5
    assert inputs.seconds('.5') == 0.5
    with pytest.raises(ValueError):
        inputs.seconds('9' * 400)      # float() would give inf
    assert not math.isinf(inputs.seconds('9' * 300))


def test_a_refusal_is_one_line_naming_the_escaped_value():
    with pytest.raises(ValueError) as refused:
        inputs.check_text('server name', 'ml\n1')
    assert str(refused.value) == (
        r"invalid server name 'ml\n1': it contains the control character "
        'U+000A; use 1-255 printable characters, no space at either end')


@pytest.mark.parametrize('value, problem', [
    ('', 'it is empty'),
    ('   ', 'it is blank'),
    (' gpu', 'it starts or ends with a space'),
    ('a' * 300, 'it has 300 characters'),
    ('gpu\U0001F680', 'it contains U+1F680, beyond the characters nova '
                      'takes'),
])
def test_each_problem_is_named(value, problem):
    assert inputs.TEXT_RULES['flavor name'].problem(value) == problem


def test_a_70000_character_description_is_shown_short():
    with pytest.raises(ValueError) as refused:
        inputs.check_text('flavor description', 'd' * 70000)
    assert len(str(refused.value)) < 200
    assert '(70000 characters)' in str(refused.value)


def test_references_refuse_only_what_can_match_nothing():
    assert _ok('flavor', ' legacy name ')     # microversion 2.0 allowed it
    assert not _ok('flavor', '')
    assert not _ok('flavor', ' ')
    assert not _ok('flavor', 'a\nb')
    assert _ok('image', ' ')                  # glance names take anything
    assert _ok('image', 'a\nb')
    assert not _ok('image', '')
    assert not _ok('image', 'i' * 256)


@pytest.mark.parametrize('value, ok', [
    ('9b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', True),
    ('9B6F4A3E1C2D4E5F8A9B0C1D2E3F4A5B', True),
    ('{9b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b}', True),
    ('net-1', False), ('', False), ('9b6f4a3e', False),
])
def test_uuid_like_as_oslo_utils_reads_it(value, ok):
    assert inputs.is_uuid_like(value) is ok


def test_metadata_keys_and_values():
    assert _ok('metadata key', 'osc_gpu_request')
    assert not _ok('metadata key', 'a/b')
    assert not _ok('metadata key', '')
    assert _ok('metadata value', '')
    assert not _ok('metadata value', 'v' * 256)


def test_user_data_over_65535_base64_characters_is_refused():
    assert inputs.check_user_data('A' * 65535, 'f') == 'A' * 65535
    with pytest.raises(ValueError, match="user data file 'f' is too big"):
        inputs.check_user_data('A' * 65536, 'f')
