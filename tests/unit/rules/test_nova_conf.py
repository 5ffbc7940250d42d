"""The nova.conf reader's own rules (oslo.config's, checked against it by
tests/functional/differential/test_nova_conf_reading.py)."""

import pytest

from osc_gpu.rules import nova_conf


@pytest.mark.parametrize('raw, value, reference', [
    ('a$$b', 'a$b', None), ('a\\$b', 'a$b', None),
    ('$1 $ ${', '$1 $ ${', None),
    ('$host', '$host', '$host'), ('x${my.opt}y', 'x${my.opt}y', '${my.opt}'),
    # string.Template's IGNORECASE [a-z] also takes these two letters
    ('$\u017f', '$\u017f', '$\u017f'), ('$\u212a', '$\u212a', '$\u212a'),
    ('\\$$x', '$$x', '$x'),      # \$ becomes $$ first, as in oslo.config
])
def test_substitute(raw, value, reference):
    assert nova_conf.substitute(raw) == (value, reference)


@pytest.mark.parametrize('text, value', [
    ('true', True), ('Yes', True), ('ON', True), ('1', True), ('false', False),
    ('No', False), ('t', None), ('y', None), (' true', None), ('', None)])
def test_oslo_config_booleans(text, value):
    assert nova_conf.bool_value(text) is value


def test_decode_says_where_the_first_bad_byte_is():
    text, error = nova_conf.decode(b'[pci]\n# caf\xe9\nalias = x\n')
    assert error == (2, 'byte 0xe9 is not UTF-8: oslo.config cannot read '
                        'the file; save it as UTF-8')
    assert text.endswith('\nalias = x\n')
    assert nova_conf.decode(b'[pci]\n') == ('[pci]\n', None)


def test_flags_take_the_last_value_and_report_a_bad_one():
    conf = nova_conf.parse_ini('[pci]\nreport_in_placement = true\n'
                               'report_in_placement = t\n'
                               '[filter_scheduler]\npci_in_placement = on\n')
    assert not conf.flag('pci', 'report_in_placement')
    assert conf.bad_flag('pci', 'report_in_placement').lineno == 3
    assert conf.flag('filter_scheduler', 'pci_in_placement')
    assert conf.bad_flag('filter_scheduler', 'pci_in_placement') is None
