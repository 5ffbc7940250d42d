import pytest

from osc_gpu.rules import echo


@pytest.mark.parametrize('value, shown', [
    ('P4:1', "'P4:1'"),
    ('P\n4:1', r"'P\n4:1'"),
    ('red\x1b[31m', r"'red\x1b[31m'"),
    ('a\tb\rc', r"'a\tb\rc'"),
    ('line\u2028sep', r"'line\u2028sep'"),
    ('nbsp\u00a0', r"'nbsp\xa0'"),
    ('bidi\u202e', r"'bidi\u202e'"),
    ('C:\\n', r"'C:\\n'"),             # a typed backslash-n is not a newline
    ('', "''"),
    ('日本', "'日本'"),
])
def test_quoted_values_stay_on_one_line_and_show_what_was_there(value,
                                                                shown):
    assert echo.quoted(value) == shown


def test_a_long_value_is_shown_by_its_start_and_length():
    shown = echo.quoted('a' * 70000)
    assert shown == "'%s...' (70000 characters)" % ('a' * 60)
    assert echo.quoted('b' * 100, 10, count=False) == "'bbbbbbbbbb...'"


def test_one_line_escapes_but_keeps_backslashes_and_every_character():
    assert echo.one_line('a\nb\\n\x1b') == 'a\\nb\\n\\x1b'
    assert '\n' not in echo.one_line('x\r\n\x85\u2029y')


@pytest.mark.parametrize('value, shown', [
    ('P4', "'P4'"), ('\x1b[2J', "'\\x1b[2J'"), (True, 'true'), (None, 'null'),
    (5, '5'), ([[[]]], 'a JSON list'), ({'a': 1}, 'a JSON object'),
    (10 ** 100, 'a 101-digit number')])
def test_json_values_are_shown_by_kind_never_walked(value, shown):
    assert echo.shown(value) == shown


def test_shown_cuts_long_strings():
    assert echo.shown('x' * 1000) == "'%s...' (1000 characters)" % ('x' * 60)


def test_a_key_is_shown_plain_when_it_can_be():
    assert echo.shown_key('vendor_id') == '"vendor_id"'
    assert echo.shown_key('vendor\nid') == r"'vendor\nid'"


def test_bytes_are_shown_as_python_shows_them_and_cut():
    assert echo.quoted_bytes(b'0x10de\n') == r"'0x10de\n'"
    assert echo.quoted_bytes(b'\xff\x1b[2J') == r"'\xff\x1b[2J'"
    assert echo.quoted_bytes(b'a' * 100, 10) == "'aaaaaaaaaa'... (100 bytes)"


def test_a_path_is_never_cut_short():
    path = '/x' * 1000 + '\n'
    assert echo.quoted_path(path) == "'%s\\n'" % ('/x' * 1000)
