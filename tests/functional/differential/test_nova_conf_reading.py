"""nova.conf as oslo.config reads it, and ``gpu host config``'s output.

Reading: for generated files (sections in any case, deprecated names,
quotes, continuation lines, comments, odd line ends and whitespace, $
references, bytes that are not UTF-8), whatever value ``gpu host check
--nova-conf`` reads for ``[pci] alias``, ``[pci] device_spec``,
``[pci] report_in_placement`` and ``[filter_scheduler] pci_in_placement``
is the value oslo.config gives nova, and a file it reads is a file
oslo.config reads.

Writing: for generated hosts (GPU models, SR-IOV, the host's console,
--alias-name and --numa-policy), the fragment ``gpu host config`` prints
passes ``gpu host check --nova-conf`` on that host without a problem, and
nova reads back the same aliases and device_specs and accepts them.
"""

import collections
import json
import os
import tempfile

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from osc_gpu.host import config_gen
from osc_gpu.host import facts
from osc_gpu.host import inventory
from osc_gpu.host import nova_pci_conf
from osc_gpu.rules import nova_conf
from osc_gpu.rules import nova_pci
from tests.functional.differential import verdicts

OPTIONS = (('pci', 'alias'), ('pci', 'device_spec'),
           ('pci', 'report_in_placement'),
           ('filter_scheduler', 'pci_in_placement'))
FLAGS = {'report_in_placement', 'pci_in_placement'}


def read(data):
    """The check's reading of nova.conf bytes, through the file."""
    fd, path = tempfile.mkstemp(prefix='osc-gpu-', suffix='.conf')
    try:
        os.write(fd, data)
        os.close(fd)
        return nova_pci_conf.read_nova_conf(path)
    finally:
        os.unlink(path)


def our_value(conf, group, name):
    """``(value, message)``: the value the check reads, or None and why."""
    if name in FLAGS:
        bad = conf.bad_flag(group, name)
        if bad:
            return None, f'line {bad.lineno}: not a boolean'
        return conf.flag(group, name), ''
    values = []
    for option in conf.option(group, name):
        value, reference = nova_conf.substitute(option.value)
        if reference:
            return None, f'line {option.lineno}: reference {reference}'
        values.append(value)
    return values, ''


# One option's reading by oslo.config, as verdicts.check wants it.
OptionVerdict = collections.namedtuple('OptionVerdict', 'ok why')

# Files the check does not read at all.
FILE_MATCHERS = {
    'nova-conf-size': lambda c: len(c['data']) > nova_pci_conf.MAX_BYTES,
}

REFERENCE_MATCHERS = {
    'nova-conf-reference': lambda c: any(
        nova_conf.substitute(v)[1] for v in c['values']),
}


# -- generated files ---------------------------------------------------------

SECTIONS = st.sampled_from(
    ['[pci]', '[PCI]', '[Pci]', '[DEFAULT]', '[default]', '[Default]',
     '[filter_scheduler]', '[FILTER_SCHEDULER]', '[x]'])
ODD_SECTIONS = st.sampled_from(
    ['[ pci]', '[pci', '[]', '[x', '\ufeff[pci]', '[pci] ', '[pci]#c',
     ' [pci]', '[[pci]]', '[pci]\t'])
KEYS = st.sampled_from(
    ['alias', 'device_spec', 'passthrough_whitelist', 'pci_alias',
     'pci_passthrough_whitelist', 'report_in_placement', 'pci_in_placement',
     'Alias', '\x0balias', '\u3000alias', 'alias\t', 'debug'])
ODD_KEYS = st.sampled_from(['', 'ali as', '#alias', ';alias', '[alias',
                            '\x1c', 'alias\x00'])
SEPARATORS = st.sampled_from(['=', ' = ', ':', ' : ', '==', ' =', ':=', '=:',
                              '\t=\t'])
TOKENS = st.sampled_from(
    ['a', '"a"', "'a'", '"', "'", '', ' ', 'x y', '$host', '$$', '\\$x', '$1',
     '${nope}', '$nope', '${host}', '$', '$\u017f', '\\\\$$', 'true', 'T',
     'yes', 'No', 'on', '0', 'off', '{"name": "P4"}', '[{"a": "b"}]',
     '#c', ';c', '\x0b', '\x0c', '\x85', '\u2028', '\x1c', '\x00', '\u00e9',
     '=', ':', '"a', 'a"', '\t', '\\'])
VALUES = st.one_of(st.lists(TOKENS, max_size=4).map(''.join), st.sampled_from(
    ['true', 'false', 'True', '1', 'yes', 'on', 'off', 'y', 't',
     '{"name": "P4", "vendor_id": "10de", "product_id": "1bb3"}',
     '{"vendor_id": "10de"}', '"{"name": "$$x"}"']))
ODD_LINES = st.one_of(
    ODD_SECTIONS, VALUES.map(lambda value: ' ' + value),
    st.builds(lambda key, sep, value: key + sep + value, ODD_KEYS,
              SEPARATORS, VALUES),
    st.sampled_from(['x', '=', '\ufeffalias = a', '\x0c[pci]']))
FILLER = st.sampled_from(['', '#c', ';c', ' ', '\t', '\x0c', '# [pci]',
                          '#alias = x'])
# Line ends: oslo.config (open() in text mode) ends lines at \n, \r\n
# and \r only; str.splitlines() would also end them at the others.
ENDS = st.sampled_from(['\n'] * 40 + ['\r\n', '\r', '\x0b', '\x0c',
                                      '\x85', '\u2028', '\x1c', '\x1e'])


@st.composite
def assignment(draw):
    """``key = value`` and, sometimes, continuation lines."""
    lines = [draw(KEYS) + draw(SEPARATORS) + draw(VALUES)]
    for _ in range(draw(st.integers(0, 2)) // 2 * draw(st.integers(0, 2))):
        lines.append(draw(st.sampled_from([' ', '\t', '  ', ' \t']))
                     + draw(VALUES))
    return lines


@st.composite
def nova_conf_files(draw):
    """Sections of assignments; now and then a line oslo.config refuses."""
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(SECTIONS))
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.integers(0, 14))
            if kind == 0:
                lines.append(draw(ODD_LINES))
            elif kind < 3:
                lines.append(draw(FILLER))
            else:
                lines += draw(assignment())
    text = ''.join(line + draw(ENDS) for line in lines)
    data = text.encode('utf-8', 'surrogatepass')
    if not draw(st.integers(0, 20)):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.sampled_from(
            [b'\xff', b'\xe9', b'\xc3', b'\xed\xa0\x80'])) + data[cut:]
    return data


@settings(verdicts.DIFFERENTIAL, max_examples=1200)
@given(data=nova_conf_files())
@example(data=b'[PCI]\nalias = a\n[default]\npci_alias = b\n')
@example(data=b'[pci]\ndevice_spec = a\npassthrough_whitelist = b\n'
              b'[DEFAULT]\npci_passthrough_whitelist = c\n')
@example(data=b'[pci]\nalias = a\x0bb\ralias = "c\n')
@example(data=b'[pci]\nalias = $host $$ \\$\nreport_in_placement = t\n')
@example(data=b'\xef\xbb\xbf[pci]\nalias = a\n')
@example(data=b'[pci]\nalias = caf\xe9\n')
def test_the_check_reads_nova_conf_as_oslo_config_does(nova_judge, data):
    nova = nova_judge('nova_conf_pci', {'hex': data.hex()})
    conf = read(data)
    if conf.errors:
        lineno, message = conf.errors[0]
        verdicts.check(nova, False, f'line {lineno}: {message}',
                       {'data': data, 'values': []}, FILE_MATCHERS)
        return
    assert not nova.data['file'], (
        'the check reads %r but oslo.config refuses it: %s'
        % (data, nova.data['file']))
    for group, name in OPTIONS:
        key = f'{group}.{name}'
        ours, message = our_value(conf, group, name)
        theirs = nova.data['options'][key]
        judged = OptionVerdict(theirs is not None,
                               nova.data['errors'].get(key, ''))
        values = [o.value for o in conf.option(group, name)]
        verdicts.check(judged, ours is not None, message,
                       {'data': data, 'option': key, 'values': values},
                       REFERENCE_MATCHERS)
        if ours is not None:
            assert ours == theirs, (
                f'{key} of {data!r}: the check reads {ours!r}, oslo.config '
                f'{theirs!r}')


# -- gpu host config's output ------------------------------------------------

MODEL_IDS = st.sampled_from(
    [('10de', '1bb3'), ('10de', '1eb8'), ('10de', '20b0'), ('10de', '20b1'),
     ('10de', '20f1'), ('10de', '2230'), ('1002', '740f'), ('abcd', '0001'),
     ('1a03', '2000')])
ALIAS_NAMES = st.one_of(
    st.sampled_from(['gpu', 'gpu$x', 'gpu$$x', '${host}', 'a\\$b', 'a"b',
                     "a'b", '#x', ';x', '[pci]', 'x' * 256, '\u00e9t\u00e9',
                     'a\x00b', 'a\x1bb', '{}', 'a=b', 'P4']),
    st.text(st.characters(blacklist_categories=['Cs']), min_size=1,
            max_size=6))


@st.composite
def hosts(draw):
    devices = {}
    for slot in range(draw(st.integers(1, 4))):
        vendor_id, product_id = draw(MODEL_IDS)
        address = f'0000:{0x81 + slot:02x}:00.0'
        devices[address] = facts.PciDevice(
            address, vendor_id, product_id,
            draw(st.sampled_from([0x030200, 0x030000, 0x120000])),
            driver=draw(st.sampled_from(['vfio-pci', 'nvidia', None])),
            iommu_group=str(slot),
            sriov_totalvfs=draw(st.sampled_from([None, None, 4])),
            boot_vga=not draw(st.integers(0, 5)))
        if draw(st.booleans()):
            audio = address[:-1] + '1'
            devices[audio] = facts.PciDevice(audio, vendor_id, '10f0',
                                             0x040300, driver='snd_hda_intel',
                                             iommu_group=str(slot))
    groups = {}
    for device in devices.values():
        groups[device.iommu_group] = groups.get(device.iommu_group, ()) + (
            device.address,)
    return facts.HostFacts(devices, groups, cmdline='intel_iommu=on',
                           cpu_vendor=draw(st.sampled_from(['intel', 'amd',
                                                            None])))


@st.composite
def alias_name_options(draw, host):
    """--alias-name values for some of the host's models."""
    keys = sorted({d.ids for d in host.devices.values() if d.is_gpu})
    chosen = draw(st.lists(st.sampled_from(keys), unique=True,
                           max_size=len(keys)))
    return [f'{key}={draw(ALIAS_NAMES)}' for key in chosen]


@settings(verdicts.DIFFERENTIAL, max_examples=300)
@given(data=st.data(), numa_policy=st.sampled_from(
    (None,) + nova_pci.NUMA_POLICIES))
def test_gpu_host_config_output_passes_the_check_and_nova(nova_judge, data,
                                                          numa_policy):
    host = data.draw(hosts())
    gpus = inventory.list_gpus(host)
    try:
        names = config_gen.parse_alias_names(
            data.draw(alias_name_options(host)))
        config = config_gen.build_host_config(host, gpus, names, numa_policy)
    except config_gen.ConfigError:
        return      # a refusal of the generator, one line, exit 1
    text = config_gen.render_nova_conf(config)
    conf = read(text.encode('utf-8'))
    _, findings = nova_pci_conf.check_nova_conf(
        conf, host, inventory.passthrough_gpus(gpus))
    problems = [f.line for f in findings if f.severity == 'problem']
    assert not problems, f'gpu host check refuses its own output: {problems}'
    nova = nova_judge('nova_conf_pci', {'hex': text.encode().hex(),
                                        'nova_accepts': True})
    assert nova.ok, f'oslo.config cannot read:\n{text}\n{nova.why}'
    assert nova.data['aliases_ok'], nova.data['aliases_why']
    assert nova.data['device_specs_ok'], nova.data['device_specs_why']
    options = nova.data['options']
    assert [json.loads(v) for v in options['pci.alias']] == config.aliases
    assert [json.loads(v) for v in options['pci.device_spec']] == (
        config.device_specs)
