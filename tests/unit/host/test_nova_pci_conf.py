import textwrap

import pytest

from osc_gpu.host import inventory
from osc_gpu.host import nova_pci_conf
from osc_gpu.host import sysfs
from tests.unit.host import fakehost

P4_SPEC = 'device_spec = {"vendor_id": "10de", "product_id": "1bb3"}'
P4_ALIAS = ('alias = {"name": "P4", "vendor_id": "10de", '
            '"product_id": "1bb3", "device_type": "type-PCI"}')


def parse(text):
    return nova_pci_conf.parse_ini(textwrap.dedent(text), 'nova.conf')


def check(text, host='p4-vfio'):
    facts = sysfs.read_host(fakehost.fixture_root(host))
    gpus = inventory.passthrough_gpus(inventory.list_gpus(facts))
    return nova_pci_conf.check_nova_conf(parse(text), facts, gpus)


def lines(findings, severity=None):
    return [f.line for f in findings
            if severity is None or f.severity == severity]


# reading the ini -----------------------------------------------------------

def test_repeated_keys_are_all_kept_in_order():
    conf = parse("""\
        [DEFAULT]
        debug = true
        [pci]
        alias = {"name": "A"}
        # a comment
        ; another
        alias: {"name": "B"}
        alias = "{"name": "C"}"
        """)
    assert [(o.value, o.lineno) for o in conf.values('pci', 'alias')] == [
        ('{"name": "A"}', 4), ('{"name": "B"}', 7), ('{"name": "C"}', 8)]
    assert conf.flag('DEFAULT', 'debug')
    assert not conf.flag('pci', 'report_in_placement')
    assert conf.errors == ()


def test_continuation_lines_join_a_multi_line_value():
    conf = parse("""\
        [pci]
        alias = {"name": "P4",
           "vendor_id": "10de", "product_id": "1bb3"}

        device_spec = {}
        """)
    [alias] = conf.values('pci', 'alias')
    assert alias.value == ('{"name": "P4",\n"vendor_id": "10de", '
                           '"product_id": "1bb3"}')
    assert alias.lineno == 2


def test_lines_oslo_config_refuses():
    conf = parse("""\
        alias = x
        [pci
        [pci]
        just words
          indented after nothing
        = value
        """)
    # "[pci" still opens the section, as in oslo.config's parser.
    assert [n for n, _ in conf.errors] == [1, 2, 4, 5, 6]


def test_read_nova_conf_from_a_file(tmp_path):
    path = tmp_path / 'nova.conf'
    path.write_text('[pci]\n' + P4_SPEC + '\n')
    conf = nova_pci_conf.read_nova_conf(str(path))
    assert conf.path == str(path)
    assert len(conf.values('pci', 'device_spec')) == 1


# checking against the host -------------------------------------------------

def test_good_config_has_no_findings():
    summary, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n')
    assert findings == []
    assert summary == {'path': 'nova.conf', 'aliases': ['P4'],
                       'device_specs': 1, 'pci_in_placement': False}


@pytest.mark.parametrize('vendor_id', ['0x10de', '10DE1'])
def test_wrong_vendor_id_in_an_alias(vendor_id):
    _, findings = check(f'[pci]\n{P4_SPEC}\n'
                        f'alias = {{"name": "P4", "vendor_id": "{vendor_id}", '
                        '"product_id": "1bb3"}\n')
    assert lines(findings, 'problem') == [
        f"line 3 [pci] alias 'P4': vendor_id '{vendor_id}': vendor_id must "
        'be 4 hex digits without 0x, e.g. "10de"']


def test_wrong_vendor_id_in_a_device_spec():
    _, findings = check(
        '[pci]\ndevice_spec = {"vendor_id": "0x10de", "product_id": "1bb3"}'
        f'\n{P4_ALIAS}\n')
    problems = lines(findings, 'problem')
    assert problems[0] == (
        "line 2 [pci] device_spec: vendor_id '0x10de': vendor_id must be 4 "
        'hex digits without 0x, e.g. "10de"')
    # ... so the GPUs are not covered either.
    assert problems[1].startswith('GPU 0000:81:00.0 (Tesla P4) is in no '
                                  '[pci] device_spec')


def test_gpu_not_covered_by_any_device_spec():
    _, findings = check(f'[pci]\n{P4_ALIAS}\n'
                        'device_spec = {"address": "0000:81:00.0"}\n')
    assert lines(findings, 'problem') == [
        'GPU 0000:81:01.0 (Tesla P4) is in no [pci] device_spec: '
        'nova-compute will not offer it: add to [pci] on this compute: '
        + P4_SPEC]


def test_alias_matching_no_gpu_here_is_a_warning():
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        'alias = {"name": "T4", "vendor_id": "10de", '
                        '"product_id": "1eb8"}\n')
    assert lines(findings) == [
        "[pci] alias 'T4' matches no GPU on this host: fine on a controller "
        'for other hosts; otherwise compare its vendor_id/product_id with '
        'the GPUs here: 10de:1bb3 (Tesla P4)']


def test_covered_gpu_without_alias_is_a_warning():
    _, findings = check(f'[pci]\n{P4_SPEC}\n')
    assert lines(findings) == [
        f'no [pci] alias requests GPU 0000:81:00.0 (Tesla P4): flavors '
        f'cannot ask for it: add on the controller and computes: {P4_ALIAS}',
        f'no [pci] alias requests GPU 0000:81:01.0 (Tesla P4): flavors '
        f'cannot ask for it: add on the controller and computes: {P4_ALIAS}']


@pytest.mark.parametrize('vendor_id', ['10de', '10DE'])
def test_alias_with_wrong_device_type(vendor_id):
    _, findings = check(f'[pci]\n{P4_SPEC}\n' + P4_ALIAS.replace(
        'type-PCI', 'type-PF').replace('10de', vendor_id) + '\n')
    # Only the mismatch: no "no alias requests GPU" advice on top.
    assert lines(findings) == [
        "[pci] alias 'P4' asks for device_type type-PF but GPU 0000:81:00.0 "
        '(Tesla P4) is type-PCI on this host, so the alias never gets it: '
        "set \"device_type\": \"type-PCI\" in every alias named 'P4'"]


def test_alias_without_device_type_never_gets_a_pf(tmp_path):
    host = fakehost.HOSTS['no-gpu'].add(fakehost.A100_PF)
    facts = sysfs.read_host(fakehost.build(host, tmp_path))
    gpus = inventory.passthrough_gpus(inventory.list_gpus(facts))
    conf = parse("""\
        [pci]
        device_spec = {"vendor_id": "10de", "product_id": "20b5"}
        alias = {"name": "A100", "vendor_id": "10de", "product_id": "20b5"}
        """)
    _, findings = nova_pci_conf.check_nova_conf(conf, facts, gpus)
    assert lines(findings, 'problem') == [
        "[pci] alias 'A100' has no device_type but GPU 0000:41:00.0 (A100 "
        'PCIe 80GB) is type-PF on this host, so the alias never gets it: '
        "set \"device_type\": \"type-PF\" in every alias named 'A100'"]


def test_same_name_aliases_must_agree():
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        'alias = {"name": "P4", "vendor_id": "10de", '
                        '"product_id": "1eb8", "numa_policy": "required"}\n')
    assert "[pci] alias: aliases named 'P4' disagree on numa_policy " \
        "(legacy, required)" in lines(findings, 'problem')[0]


def test_legacy_option_names():
    _, findings = check("""\
[DEFAULT]
pci_alias = {"name": "P4", "vendor_id": "10de", "product_id": "1bb3"}
pci_passthrough_whitelist = {"vendor_id": "10de", "product_id": "1bb3"}
[pci]
passthrough_whitelist = {"vendor_id": "10de", "product_id": "1bb3"}
""")
    assert lines(findings) == [
        'line 2 [DEFAULT] pci_alias is an old option name: rename it to '
        '[pci] alias',
        'line 3 [DEFAULT] pci_passthrough_whitelist is an old option name: '
        'rename it to [pci] device_spec',
        'line 5 [pci] passthrough_whitelist is an old option name: rename it '
        'to [pci] device_spec']


def test_invalid_json():
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        "alias = {'name': 'T4'}\n")
    [problem] = lines(findings, 'problem')
    assert problem.startswith('line 4 [pci] alias is not valid JSON (')
    assert problem.endswith('write one JSON object per line with double '
                            'quotes, e.g. alias = {"vendor_id": "10de", '
                            '"product_id": "1bb3"}')


def test_alias_given_as_a_list():
    _, findings = check(f'[pci]\n{P4_SPEC}\nalias = [{P4_ALIAS[8:]}]\n')
    assert 'line 3 [pci] alias: alias must be one JSON object per line; ' \
        'repeat "alias =" for more aliases' in lines(findings, 'problem')


def test_device_spec_list_and_one_that_also_selects_the_audio_function():
    facts = sysfs.read_host(fakehost.fixture_root('gpu-with-audio'))
    gpus = inventory.passthrough_gpus(inventory.list_gpus(facts))
    conf = parse("""\
        [pci]
        device_spec = [{"vendor_id": "10de"}]
        alias = {"name": "RTXA6000", "vendor_id": "10de", "product_id": "2230"}
        """)
    summary, findings = nova_pci_conf.check_nova_conf(conf, facts, gpus)
    assert lines(findings) == [
        'line 2 [pci] device_spec also selects 0000:3b:00.1, which is not a '
        'GPU: nova would hand it out on its own: add product_id (or an '
        'address) so it selects only GPUs']
    assert summary['device_specs'] == 1


def test_pci_in_placement_aliases_by_resource_class():
    _, findings = check("""\
[filter_scheduler]
pci_in_placement = True
[pci]
report_in_placement = true
device_spec = {"vendor_id": "10de", "product_id": "1bb3",
    "resource_class": "p4", "one_time_use": true}
alias = {"name": "P4", "resource_class": "CUSTOM_P4",
    "device_type": "type-PCI"}
""")
    assert findings == []


def test_in_placement_an_alias_without_class_misses_a_classed_device():
    # nova asks placement for CUSTOM_PCI_10DE_1BB3 on behalf of the alias,
    # but the device_spec put the P4 in CUSTOM_P4: "No valid host".
    _, findings = check("""\
[filter_scheduler]
pci_in_placement = True
[pci]
report_in_placement = true
device_spec = {"vendor_id": "10de", "product_id": "1bb3",
    "resource_class": "p4"}
alias = {"name": "P4", "vendor_id": "10de", "product_id": "1bb3",
    "device_type": "type-PCI"}
""")
    assert lines(findings, 'problem') == [
        "[pci] alias 'P4' asks placement for CUSTOM_PCI_10DE_1BB3 but its "
        "device_spec puts GPU 0000:81:00.0 (Tesla P4) in CUSTOM_P4, so the "
        "alias never gets it (pci_in_placement): set \"resource_class\": "
        "\"CUSTOM_P4\" in the alias"]


def test_one_time_use_needs_report_in_placement():
    _, findings = check('[pci]\ndevice_spec = {"vendor_id": "10de", '
                        '"product_id": "1bb3", "one_time_use": "yes"}\n'
                        f'{P4_ALIAS}\n')
    assert lines(findings)[0] == (
        'line 2 [pci] device_spec: one_time_use needs [pci] '
        'report_in_placement = true: set it, or drop one_time_use')


def test_unreadable_lines_are_problems():
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\nnot an option\n')
    assert lines(findings, 'problem') == [
        "line 4: not a \"key = value\" line: 'not an option': fix the line: "
        'nova refuses to start on it']


def test_alias_of_an_uncovered_gpu_reports_only_the_coverage():
    _, findings = check("""\
[pci]
device_spec = {"vendor_id": "10de", "product_id": "13f2"}
alias = {"name": "T4", "vendor_id": "10de", "product_id": "1eb8"}
alias = {"name": "M60", "vendor_id": "10de", "product_id": "13f2"}
""", host='m60-t4')
    assert [f.message for f in findings] == [
        'GPU 0000:81:01.0 (Tesla T4) is in no [pci] device_spec: '
        'nova-compute will not offer it']


# what nova 34 and oslo.config 10 do, found by comparing with them --------

def test_repeated_alias_name_without_device_type_is_a_problem():
    # nova: "Invalid PCI alias definition: 'dev_type'" on the second one.
    _, findings = check(f'[pci]\n{P4_SPEC}\n'
                        'alias = {"name": "P4", "vendor_id": "10de", '
                        '"product_id": "1bb3"}\n'
                        'alias = {"name": "P4", "vendor_id": "10de", '
                        '"product_id": "1eb8"}\n')
    [problem] = lines(findings, 'problem')
    assert problem.startswith("[pci] alias: 2 aliases are named 'P4' and "
                              'none sets device_type')


def test_alias_names_are_grouped_after_nova_strips_them():
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        'alias = {"name": " P4 ", "vendor_id": "10de", '
                        '"product_id": "1eb8", "device_type": "type-PCI", '
                        '"numa_policy": "required"}\n')
    assert "aliases named 'P4' disagree on numa_policy" in \
        lines(findings, 'problem')[0]


@pytest.mark.parametrize('option', ['alias', 'device_spec'])
def test_null_is_a_problem_not_skipped(option):
    # nova: "None is not of type 'object'" / "Expecting list or dict".
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n{option} = null\n')
    [problem] = lines(findings, 'problem')
    assert problem.startswith(f'line 4 [pci] {option}: {option} must be')


def test_blank_function_in_a_device_spec_address_is_a_problem():
    _, findings = check('[pci]\ndevice_spec = {"vendor_id": "10de", '
                        '"product_id": "1bb3", "address": "0000:81:00. "}\n'
                        f'{P4_ALIAS}\n')
    assert lines(findings, 'problem')[0] == (
        "line 2 [pci] device_spec: address '0000:81:00. ': address "
        "function '' is not hex")


def test_section_names_are_case_insensitive_except_default():
    conf = parse("""\
        [PCI]
        alias = {"name": "A"}
        [default]
        pci_alias = {"name": "B"}
        [DEFAULT]
        pci_alias = {"name": "C"}
        """)
    assert [o.value for o in conf.option('pci', 'alias')] == [
        '{"name": "C"}', '{"name": "A"}']


def test_deprecated_names_come_first_last_one_first():
    conf = parse("""\
        [pci]
        device_spec = a
        passthrough_whitelist = b
        [DEFAULT]
        pci_passthrough_whitelist = c
        [pci]
        device_spec = d
        """)
    assert [o.value for o in conf.option('pci', 'device_spec')] == [
        'c', 'b', 'a', 'd']


def test_lines_end_only_at_universal_newlines():
    conf = nova_pci_conf.parse_ini(
        '[pci]\r\nalias = a\x0bb\x1cc\x85d\u2028e\ralias = f\x0c\n')
    assert [o.value for o in conf.values('pci', 'alias')] == [
        'a\x0bb\x1cc\x85d\u2028e', 'f']
    assert conf.errors == ()


@pytest.mark.parametrize('value, expected', [
    ('"', ''), ("'", ''), ('"a\'', '"a\''), ('" a "', ' a '), ('', '')])
def test_one_pair_of_quotes_is_stripped_as_oslo_config_does(value, expected):
    [option] = parse(f'[pci]\nalias = {value}\n').values('pci', 'alias')
    assert option.value == expected


def test_a_key_that_strips_to_nothing_is_refused():
    conf = nova_pci_conf.parse_ini('[pci]\n\x0b= x\n\u3000alias = y\n')
    assert [n for n, _ in conf.errors] == [2]
    assert [o.value for o in conf.values('pci', 'alias')] == ['y']


def test_dollar_references_are_problems_and_escapes_are_read():
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        'alias = {"name": "$host", "vendor_id": "10de", '
                        '"product_id": "1eb8"}\n'
                        'alias = {"name": "T$$4\\$", "vendor_id": "10de", '
                        '"product_id": "1eb8"}\n')
    assert lines(findings, 'problem') == [
        "line 4 [pci] alias: '$host' is a reference to another option, "
        'which oslo.config puts in its place: write $$ for a literal $']
    assert "[pci] alias 'T$4$' matches no GPU" in lines(findings)[-1]


@pytest.mark.parametrize('value', ['t', 'y', 'true\n x', '$x'])
def test_booleans_oslo_config_refuses(value):
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        f'report_in_placement = {value}\n')
    [problem] = lines(findings, 'problem')
    assert problem.startswith('line 4 [pci] report_in_placement ')
    assert problem.endswith('is not a boolean oslo.config reads: write true '
                            'or false')


def test_a_file_that_is_not_utf8_is_one_problem(tmp_path):
    path = tmp_path / 'nova.conf'
    path.write_bytes(b'[pci]\n' + P4_SPEC.encode() + b'\n# caf\xe9\n'
                     + P4_ALIAS.encode() + b'\n')
    conf = nova_pci_conf.read_nova_conf(str(path))
    facts = sysfs.read_host(fakehost.fixture_root('p4-vfio'))
    gpus = inventory.passthrough_gpus(inventory.list_gpus(facts))
    _, findings = nova_pci_conf.check_nova_conf(conf, facts, gpus)
    assert lines(findings) == [
        'line 3: byte 0xe9 is not UTF-8: oslo.config cannot read the file; '
        'save it as UTF-8: fix the line: nova refuses to start on it']


def test_a_utf8_byte_order_mark_is_refused_as_oslo_config_does(tmp_path):
    path = tmp_path / 'nova.conf'
    path.write_bytes(b'\xef\xbb\xbf[pci]\n' + P4_SPEC.encode() + b'\n')
    conf = nova_pci_conf.read_nova_conf(str(path))
    assert conf.errors[0] == (1, 'not a "key = value" line: '
                                 "'\\ufeff[pci]'")


@pytest.mark.parametrize('value, reason', [
    ('[' * 100000 + ']' * 100000, 'nested too deeply'),
    ('{"name": ' + '1' * 5000 + '}', 'a number has too many digits'),
    ('{"name": ', 'Expecting value: line 1 column 9'),
])
def test_hostile_json_is_one_line(value, reason):
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\nalias = {value}\n')
    [problem] = lines(findings, 'problem')
    assert problem.startswith(f'line 4 [pci] alias is not valid JSON '
                              f'({reason})')


def test_huge_and_control_character_values_are_echoed_short_and_escaped():
    evil = '\\u001b]0;pwned\\u0007' + 'x' * 1000000   # JSON escapes
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        f'alias = {{"name": "{evil}", "vendor_id": "10de", '
                        '"product_id": "1eb8", "x": 1}\n'
                        '[\x1b[2J\n')
    for line in lines(findings):
        assert line.isprintable() and len(line) < 400, line
    assert any(line.startswith("line 4 [pci] alias '\\x1b]0;pwned\\x07xxx")
               for line in lines(findings, 'problem'))


def test_deeply_nested_values_inside_valid_json_are_not_walked():
    deep = '[' * 500 + ']' * 500
    _, findings = check(f'[pci]\n{P4_SPEC}\n{P4_ALIAS}\n'
                        f'device_spec = {{"vendor_id": {deep}, '
                        f'"address": {{"bus": {deep}}}}}\n')
    assert lines(findings, 'problem') == [
        'line 4 [pci] device_spec: vendor_id a JSON list: vendor_id must be '
        'a JSON string, e.g. "10de"',
        'line 4 [pci] device_spec: address a JSON object: address bus a JSON '
        'list is not a regular expression']


def test_a_file_too_large_for_a_nova_conf_is_not_read(tmp_path):
    path = tmp_path / 'nova.conf'
    path.write_bytes(b'[pci]\n' + b'#' * nova_pci_conf.MAX_BYTES)
    conf = nova_pci_conf.read_nova_conf(str(path))
    facts = sysfs.read_host(fakehost.fixture_root('p4-vfio'))
    _, findings = nova_pci_conf.check_nova_conf(conf, facts, [])
    assert lines(findings) == [
        'the file is larger than 16 MiB, which no nova.conf is: not read: '
        'give the path of a nova.conf']


def test_an_endless_file_is_not_read():
    conf = nova_pci_conf.read_nova_conf('/dev/zero')
    assert conf.options == () and conf.errors[0][0] is None


def test_an_uncovered_vf_is_fixed_by_its_address_not_its_ids():
    # A VF has its PF's ids: a spec by ids alone would select the PF too.
    _, findings = check('[pci]\n', host='l4-variant')
    fixes = [f.fix for f in findings
             if 'is in no [pci] device_spec' in f.message]
    assert fixes == [
        'add to [pci] on this compute: device_spec = {"vendor_id": "10de", '
        '"product_id": "27b8", "address": "0000:3d:00.%d"}' % fn
        for fn in (4, 5, 6, 7)]
