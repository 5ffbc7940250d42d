"""``[pci] alias`` and ``[pci] device_spec`` against nova.

What ``gpu host check --nova-conf`` accepts (no problem finding) in these
options, nova must accept: ``get_alias_from_config`` on nova-api, the
device_spec whitelist on nova-compute. Where the check refuses what nova
takes, a DELIBERATE_STRICTNESS entry must say why. The values are
generated as JSON text, mostly near misses of valid objects, with raw
text (null, lists, broken and deeply nested JSON) mixed in.
"""

import json

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from osc_gpu.host import nova_pci_conf
from osc_gpu.rules import booleans
from osc_gpu.rules import nova_conf
from osc_gpu.rules import nova_pci
from tests.functional.differential import verdicts

# -- what osc-gpu says -------------------------------------------------------

FLAG = {'alias': ('filter_scheduler', 'pci_in_placement'),
        'device_spec': ('pci', 'report_in_placement')}


def lint(option, values, flag):
    """``(ok, first problem)`` of the check for these option values."""
    options = [nova_conf.Option('pci', option, value, lineno)
               for lineno, value in enumerate(values, 1)]
    group, name = FLAG[option]
    options.append(nova_conf.Option(group, name, 'true' if flag else 'false',
                                    len(values) + 1))
    pci = nova_pci_conf.read_pci_options(
        nova_conf.NovaConf('nova.conf', tuple(options)))
    return not pci.problems, pci.problems[0].line if pci.problems else ''


def objects(values):
    """The JSON objects nova would read from the values (as far as any)."""
    found = []
    for value in values:
        try:
            parsed = json.loads(nova_conf.substitute(value)[0])
        except (ValueError, RecursionError):
            continue
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(item, dict):
                found.append(item)
    return found


# -- generated values --------------------------------------------------------

ODD_TEXT = ['', ' ', '\t', 'x' * 257, '\x1b[1m', '\u202eP4', '$host', 'a$$b',
            '\\$x', '${nope}', '\u3000', 'null']
_JSON_VALUES = st.one_of(
    st.sampled_from(ODD_TEXT), st.text(max_size=5), st.none(), st.booleans(),
    st.integers(-2, 70000), st.sampled_from([0.0, -0.0, 1.5, 1e300]),
    st.sampled_from([[], {}, ['10de'], {'a': 1}]))
# deferred: the strategies using it many times keep a short repr
JSON_VALUES = st.deferred(lambda: _JSON_VALUES)
IDS = st.one_of(
    st.sampled_from(['10de'] * 6 + ['1bb3', '1eb8', '10DE', 'ffff', '*']),
    st.sampled_from(['0x10de', '10de\n', '\u0661\u0660de', '10d', ' 10de',
                     'zzzz', '10de1', 'de', '-1', '+10d', '1_0d', ' * ']),
    JSON_VALUES)
BOOL_WORDS = st.sampled_from(['yes', 'no', 'true', 'False', 'on', 'T', 'y',
                              '1', '0', ' Yes ', 'maybe', '', 'yes\n'])


PLAUSIBLE_ALIASES = st.fixed_dictionaries(
    {'name': st.sampled_from(['P4', 'T4', 'A16', 'M60', 'L4', 'P4 ', ' T4']),
     'vendor_id': st.just('10de'),
     'product_id': st.sampled_from(['1bb3', '1eb8'])},
    optional={'device_type': st.sampled_from(['type-PCI'] * 5 + ['type-PF']),
              'numa_policy': st.sampled_from(['legacy'] * 5 + ['required']),
              'resource_class': st.just('CUSTOM_A16'),
              'live_migratable': st.sampled_from(['yes', 'no', ' On'])})


def alias_objects():
    names = st.one_of(st.sampled_from(
        ['P4', 'P4', 'T4', ' P4', 'P4 ', '\u3000P4', 'p4', 'a:b', '', ' ',
         'x' * 256, 'x' * 257, 'gpu$x', 'gpu$$x', '\\$host']), JSON_VALUES)
    optional = {
        'device_type': st.one_of(st.sampled_from(
            ['type-PCI', 'type-PCI', 'type-PF', 'type-VF', 'vdpa',
             'type-pci']), JSON_VALUES),
        'numa_policy': st.one_of(st.sampled_from(
            list(nova_pci.NUMA_POLICIES) + ['Legacy', 'strict']),
            JSON_VALUES),
        'capability_type': st.sampled_from(['pci', 'pcie', 5]),
        'resource_class': st.one_of(st.just('CUSTOM_A16'), JSON_VALUES),
        'traits': st.one_of(st.just('CUSTOM_GPU,HW_X'), JSON_VALUES),
        'live_migratable': st.one_of(BOOL_WORDS, JSON_VALUES),
        'vendor': st.just('10de'),
    }
    near = st.fixed_dictionaries(
        {'name': names, 'vendor_id': IDS, 'product_id': IDS},
        optional=optional)
    sparse = st.fixed_dictionaries({'name': st.just('A16')}, optional={
        'vendor_id': st.just('10de'), 'product_id': st.just('25b6'),
        'device_type': st.just('type-PCI'),
        'resource_class': st.just('CUSTOM_A16'),
        'traits': st.just('CUSTOM_GPU')})
    return st.one_of(PLAUSIBLE_ALIASES, PLAUSIBLE_ALIASES, near, near, sparse)


GLOB_FIELDS = st.sampled_from(
    ['', ' ', '*', ' * ', '0', '00', '0000', '81', '1f', '20', 'ff', '100',
     'ffff', '10000', 'x', '-1', '+1', '0x1', '1_0', '\u0661', ' 8 ', '**'])
FUNCTIONS = st.sampled_from(['', ' ', '*', '0', '7', '8', 'x', ' 1 ', '0.1',
                             '\t', '-0', ' *'])
GLOBS = st.builds(lambda fields, dot, function: ':'.join(fields) + (
    '.' + function if dot else ''), st.lists(GLOB_FIELDS, max_size=4),
    st.booleans(), FUNCTIONS)
REGEXES = st.one_of(st.sampled_from(
    ['.*', '8', '81', '0[0-1]', '', '[', '(', '\\', 'a{2,1}', '0000', '[0-7]',
     '(?i)A']), JSON_VALUES)
ADDRESS_DICTS = st.dictionaries(
    st.sampled_from(['domain', 'bus', 'slot', 'function', 'socket']),
    REGEXES, max_size=4)
# Interface names no host has (ifnames cannot hold spaces): what nova does
# with a devname depends on /sys/class/net of the host that judges.
DEVNAMES = st.one_of(st.sampled_from(['no such if', '']),
                     st.text(max_size=4).map(lambda t: 'no such ' + t),
                     JSON_VALUES.filter(lambda v: not isinstance(v, str)))
TAGS = st.one_of(BOOL_WORDS, JSON_VALUES, st.booleans())


PLAUSIBLE_DEVICE_SPECS = st.fixed_dictionaries(
    {'vendor_id': st.sampled_from(['10de', '10DE', '*']),
     'product_id': st.sampled_from(['1bb3', '*'])},
    optional={'address': st.one_of(st.sampled_from(
        ['0000:81:00.0', '*:81:*.*', ':81:00.', ' 81 : 0 . 1', '0000:81:00. ',
         '81:00.\t', '0000:81:00.8', '0000:81:20.0']), GLOBS),
              'managed': st.sampled_from(['yes', 'no', True]),
              'live_migratable': st.sampled_from(['yes', ' No']),
              'resource_class': st.just('CUSTOM_P4'),
              'physical_network': st.just('physnet1')})
PLAUSIBLE_DEVICE_SPEC_VALUES = st.one_of(
    PLAUSIBLE_DEVICE_SPECS, st.lists(PLAUSIBLE_DEVICE_SPECS, max_size=3))


def device_spec_objects():
    one = st.fixed_dictionaries({}, optional={
        'vendor_id': IDS, 'product_id': IDS,
        'address': st.one_of(GLOBS, GLOBS, GLOBS, ADDRESS_DICTS, JSON_VALUES),
        'devname': DEVNAMES, 'managed': TAGS, 'live_migratable': TAGS,
        'one_time_use': TAGS, 'trusted': TAGS,
        'remote_managed': st.one_of(BOOL_WORDS, st.booleans(), JSON_VALUES),
        'physical_network': st.one_of(st.just('physnet1'), JSON_VALUES),
        'resource_class': st.one_of(st.just('CUSTOM_P4'), JSON_VALUES),
        'traits': st.one_of(st.just('CUSTOM_GPU'), JSON_VALUES),
        'vendor-id': JSON_VALUES})
    objects = st.one_of(PLAUSIBLE_DEVICE_SPECS, one, one)
    # A single address that is a PF on the judging host (sysfs) changes
    # what nova makes of remote_managed: not generated.
    objects = objects.filter(lambda o: not _host_dependent(o))
    one_object = st.deferred(lambda: objects)     # keeps the repr short
    return st.one_of(one_object, one_object,
                     st.lists(one_object, max_size=3), JSON_VALUES)


def _host_dependent(spec):
    return 'address' in spec and spec.get('remote_managed') not in (
        None, False, 'false', 'no')


HOSTILE = {
    'deep': '[' * 3000 + ']' * 3000,                # RecursionError
    'digits': '{"name": ' + '1' * 5000 + '}',       # int() digit limit
    'long': json.dumps({'name': 'P4' * 100000, 'vendor_id': '10de',
                        'product_id': '1bb3'}),
}
RAW = st.one_of(st.sampled_from([
    'null', '[]', '{}', '"x"', '1', 'true', '{', "{'name': 'P4'}", '',
    '{"a": ' * 50 + '1' + '}' * 50,
    '{"name": "P4", "name": 5, "vendor_id": "10de", "product_id": "1bb3"}',
    'NaN', '{"name": "P4"} x',
    '{"name": "P4", "vendor_id": "10de", "product_id": "1bb3"}\n']),
    st.sampled_from(sorted(HOSTILE)).map(lambda name: HOSTILE[name]))


def as_text(draw, value):
    return draw(st.sampled_from([
        json.dumps(value), json.dumps(value, indent=1),
        json.dumps(value, ensure_ascii=False),
        json.dumps(value).replace('$', '$$')]))


@st.composite
def option_values(draw, objects, plausible):
    """0 to 3 values: half the time all from plausible objects."""
    if draw(st.booleans()):
        return [as_text(draw, draw(plausible))
                for _ in range(draw(st.integers(1, 3)))]
    values = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 9)):
            values.append(as_text(draw, draw(objects)))
        else:
            values.append(draw(RAW))
    return values


# -- deliberate strictness, per case ({'values': [...], ...}) ---------------

def _not_hex(value, star):
    return isinstance(value, str) and not (
        nova_pci.is_hex_id(value) or (star and value == '*'))


def _references(case):
    return any(nova_conf.substitute(v)[1] for v in case['values'])


def _odd_tag(spec):
    for key, value in spec.items():
        field = nova_pci.DEVICE_SPEC_FIELDS.get(key)
        if field is None or key in ('vendor_id', 'product_id', 'address'):
            continue
        if field.kind == 'bool':
            if not isinstance(value, (bool, str)):
                return True
            if key in ('trusted', 'remote_managed') and isinstance(
                    value, str) and value.strip().lower() not in (
                        booleans.BOOLEAN_STRINGS):
                return True
        elif not isinstance(value, str):
            return True
    return False


def _odd_address(spec):
    address = spec.get('address')
    if isinstance(address, dict):
        return bool(set(address) - set(nova_pci.ADDRESS_MAX))
    return 'address' in spec and not isinstance(address, str)


def _devname_with(spec):
    return 'devname' in spec and ('address' in spec or spec.get(
        'remote_managed') not in (None, False, 'false', 'no'))


ALIAS_MATCHERS = {
    'nova-conf-reference': _references,
    'pci-hex-id': lambda c: any(
        _not_hex(o.get(k), False) for o in objects(c['values'])
        for k in ('vendor_id', 'product_id')),
}

DEVICE_SPEC_MATCHERS = {
    'nova-conf-reference': _references,
    'pci-hex-id': lambda c: any(
        _not_hex(o.get(k), True) for o in objects(c['values'])
        for k in ('vendor_id', 'product_id')),
    'pci-tag-type': lambda c: any(_odd_tag(o) for o in objects(c['values'])),
    'pci-address-form': lambda c: any(
        _odd_address(o) for o in objects(c['values'])),
    'pci-devname-combination': lambda c: any(
        _devname_with(o) for o in objects(c['values'])),
}


# -- the properties ----------------------------------------------------------

P4 = '{"name": "P4", "vendor_id": "10de", "product_id": "1bb3"}'
P4_PCI = ('{"name": "P4", "vendor_id": "10de", "product_id": "1eb8", '
          '"device_type": "type-PCI"}')


@settings(verdicts.DIFFERENTIAL, max_examples=1200)
@given(values=option_values(alias_objects(), PLAUSIBLE_ALIASES),
       flag=st.booleans())
@example(values=[P4, P4], flag=False)                  # no device_type
@example(values=[P4_PCI, P4_PCI.replace('"P4"', '" P4 "')
                 .replace('}', ', "numa_policy": "required"}')], flag=False)
@example(values=['null'], flag=False)
@example(values=[P4.replace('10de', '10de\\n')], flag=False)
@example(values=[P4.replace('P4', '$host')], flag=False)
def test_what_the_check_accepts_in_pci_alias_nova_takes(nova_judge, values,
                                                        flag):
    nova = nova_judge('pci_alias_config', {'aliases': values,
                                           'pci_in_placement': flag})
    ok, message = lint('alias', values, flag)
    verdicts.check(nova, ok, message, {'values': values, 'flag': flag},
                   ALIAS_MATCHERS)


@settings(verdicts.DIFFERENTIAL, max_examples=1500)
@given(values=option_values(device_spec_objects(),
                            PLAUSIBLE_DEVICE_SPEC_VALUES), flag=st.booleans())
@example(values=['{"address": "0000:81:00. "}'], flag=False)
@example(values=['{"address": "0000:81:00."}'], flag=False)
@example(values=['null'], flag=False)
@example(values=['{"vendor_id": "10de", "one_time_use": "yes"}'], flag=False)
@example(values=['{"devname": "no such if", "remote_managed": "yes"}'],
         flag=False)
@example(values=['{"address": {"bus": "8", "socket": "0"}}'], flag=False)
def test_what_the_check_accepts_in_pci_device_spec_nova_takes(nova_judge,
                                                              values, flag):
    nova = nova_judge('pci_device_spec_config', {
        'device_specs': values, 'report_in_placement': flag})
    ok, message = lint('device_spec', values, flag)
    verdicts.check(nova, ok, message, {'values': values, 'flag': flag},
                   DEVICE_SPEC_MATCHERS)
