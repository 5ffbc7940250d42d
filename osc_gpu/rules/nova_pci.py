"""nova's ``[pci] alias`` and ``[pci] device_spec`` rules, as data.

Pure module (no I/O) shared by every command that reads or writes these
options. One table per option (``ALIAS_FIELDS``, ``DEVICE_SPEC_FIELDS``)
drives validation, error text and docs, following nova 34 (2026.2):
``_ALIAS_SCHEMA`` in nova/pci/request.py and nova/pci/devspec.py.

Validators return ``ConfigIssue`` objects: ``problem`` means nova refuses
the value (or it can never match), ``warning`` means nova takes it but the
result is probably not what the operator wants.
"""

import dataclasses
import json
import re

from osc_gpu.rules import booleans
from osc_gpu.rules.echo import shown, shown_key
from osc_gpu.rules.pci_address import (  # noqa: F401 (re-export)
    ADDRESS_MAX, address_matches, address_rule)

PROBLEM = 'problem'
WARNING = 'warning'

DEVICE_TYPES = ('type-PCI', 'type-PF', 'type-VF')
NUMA_POLICIES = ('required', 'legacy', 'preferred', 'socket')
DEFAULT_NUMA_POLICY = 'legacy'
ALIAS_NAME_MAX = 256
# pci_passthrough:alias=<name>:<count>[,...] splits on ',' and ':', and
# gpu flavor create refuses spaces.
ALIAS_NAME_FORBIDDEN = re.compile(r'[:,\s]')

# nova's pattern is ^([\da-fA-F]{4})$ run with re.search, which also lets
# through a trailing newline and non-ASCII digits: ids that match no device.
_HEX4 = re.compile(r'[0-9a-fA-F]{4}')


@dataclasses.dataclass(frozen=True)
class Field:
    """One key of an alias or device_spec JSON object."""

    kind: str       # name, hex-id, choice, string, bool or address
    example: str = ''
    choices: tuple = ()
    since: str = ''     # first nova release that reads the key
    help: str = ''


@dataclasses.dataclass(frozen=True)
class ConfigIssue:
    severity: str
    message: str


ALIAS_FIELDS = {
    'name': Field('name', 'P4',
                  help='the name flavors use in pci_passthrough:alias'),
    'vendor_id': Field('hex-id', '10de'),
    'product_id': Field('hex-id', '1bb3'),
    'device_type': Field('choice', 'type-PCI', DEVICE_TYPES,
                         help='type-PF for SR-IOV capable GPUs'),
    'numa_policy': Field('choice', 'preferred', NUMA_POLICIES, 'Queens',
                         help='socket needs Wallaby'),
    'capability_type': Field('choice', 'pci', ('pci',)),
    'resource_class': Field('string', 'CUSTOM_A16_16A', since='2023.1'),
    'traits': Field('string', 'CUSTOM_GPU', since='2023.1'),
    'live_migratable': Field('bool', 'yes', since='2025.1'),
}

DEVICE_SPEC_FIELDS = {
    'vendor_id': Field('hex-id', '10de'),
    'product_id': Field('hex-id', '1bb3'),
    'address': Field('address', '0000:81:00.0'),
    'devname': Field('string', 'eth0', help='network devices only'),
    'physical_network': Field('string', 'physnet1'),
    'trusted': Field('bool', 'true'),
    'remote_managed': Field('bool', 'true', since='Yoga'),
    'managed': Field('bool', 'yes', since='2025.1'),
    'live_migratable': Field('bool', 'yes', since='2025.1'),
    'resource_class': Field('string', 'CUSTOM_A16_16A', since='Zed'),
    'traits': Field('string', 'CUSTOM_GPU', since='Zed'),
    'one_time_use': Field('bool', 'true', since='2025.2'),
}

# Old option -> option to use instead, as (section, name).
LEGACY_OPTIONS = {
    ('pci', 'passthrough_whitelist'): ('pci', 'device_spec'),
    ('DEFAULT', 'pci_passthrough_whitelist'): ('pci', 'device_spec'),
    ('DEFAULT', 'pci_alias'): ('pci', 'alias'),
}


def is_hex_id(value):
    """Tell whether value is a vendor/product id as nova wants it."""
    return isinstance(value, str) and bool(_HEX4.fullmatch(value))


def hex_id_rule(key, example):
    return f'{key} must be 4 hex digits without 0x, e.g. "{example}"'


def _check_field(key, field, value, in_device_spec=False):
    """Return the rule the value breaks, or None when it is valid.

    device_spec also takes "*" for ids and JSON booleans for its tags.
    """
    if field.kind == 'bool':
        if isinstance(value, bool) and in_device_spec:
            return None
        if not isinstance(value, str) or (
                value.strip().lower() not in booleans.BOOLEAN_STRINGS):
            return f'{key} must be a string "yes" or "no"'
        return None
    if field.kind == 'address':
        return address_rule(value)
    if not isinstance(value, str):
        return f'{key} must be a JSON string, e.g. "{field.example}"'
    if field.kind == 'name':
        if not 1 <= len(value) <= ALIAS_NAME_MAX:
            return f'{key} must be 1 to {ALIAS_NAME_MAX} characters'
    elif field.kind == 'hex-id':
        if not (is_hex_id(value) or (in_device_spec and value == '*')):
            return hex_id_rule(key, field.example)
    elif field.kind == 'choice' and value not in field.choices:
        return f'{key} must be one of {", ".join(field.choices)}'
    return None


def _field_issues(spec, fields, unknown, in_device_spec=False):
    """Each key of ``spec`` checked against its entry in ``fields``: a
    ``ConfigIssue`` per bad value, and ``unknown(key)`` per key that has
    none."""
    issues = []
    for key, value in spec.items():
        field = fields.get(key)
        if field is None:
            issues.append(unknown(key))
            continue
        rule = _check_field(key, field, value, in_device_spec)
        if rule:
            issues.append(ConfigIssue(PROBLEM,
                                      f'{key} {shown(value)}: {rule}'))
    return issues


def validate_alias_name(name):
    """Return why an alias name cannot be used in a flavor, or None."""
    rule = _check_field('name', ALIAS_FIELDS['name'], name)
    if rule:
        return rule
    if ALIAS_NAME_FORBIDDEN.search(name):
        return 'name must not contain ":", "," or spaces'
    return None


def validate_alias(spec, pci_in_placement=False):
    """Check one ``alias`` JSON value against nova's alias schema."""
    if not isinstance(spec, dict):
        return [ConfigIssue(PROBLEM, 'alias must be one JSON object per '
                            'line; repeat "alias =" for more aliases')]
    issues = _field_issues(spec, ALIAS_FIELDS, lambda key: ConfigIssue(
        PROBLEM, f'unknown key {shown_key(key)} (nova rejects it); valid '
        f'keys: {", ".join(ALIAS_FIELDS)}'))
    if 'name' not in spec:
        issues.append(ConfigIssue(PROBLEM, 'name is required, e.g. '
                                  '"name": "P4"'))
    elif isinstance(spec['name'], str) and validate_alias_name(spec['name']):
        issues.append(ConfigIssue(WARNING, (
            f'name {shown(spec["name"])} cannot be used in a flavor: '
            f'{validate_alias_name(spec["name"])}')))
    has_ids = 'vendor_id' in spec and 'product_id' in spec
    if not has_ids and not (pci_in_placement and 'resource_class' in spec):
        also = (' (or resource_class, with pci_in_placement)'
                if pci_in_placement else '')
        issues.append(ConfigIssue(PROBLEM, (
            f'vendor_id and product_id are both required{also}, e.g. '
            '"vendor_id": "10de", "product_id": "1bb3"')))
    if ('resource_class' in spec or 'traits' in spec) and not pci_in_placement:
        issues.append(ConfigIssue(WARNING, (
            'resource_class and traits are ignored unless '
            '[filter_scheduler] pci_in_placement = true')))
    return issues


def alias_group_name(spec):
    """The name nova files a (valid) alias under: surrounding spaces go."""
    return spec['name'].strip()


def check_alias_group(name, specs, pci_in_placement=False):
    """Check the aliases sharing one name (nova ORs them).

    nova compares every alias of a name with the first one: same
    numa_policy (unset is legacy) and the same device_type, which each of
    them must then set (an unset one makes nova fail on the name).
    """
    issues = []
    policies = {s.get('numa_policy', DEFAULT_NUMA_POLICY) for s in specs}
    if len(policies) > 1:
        issues.append(ConfigIssue(PROBLEM, (
            f'aliases named {shown(name)} disagree on numa_policy '
            f'({", ".join(sorted(policies))}): nova refuses mismatched '
            'aliases, give them all the same numa_policy')))
    types = {s.get('device_type') or 'unset' for s in specs}
    if len(types) > 1:
        issues.append(ConfigIssue(PROBLEM, (
            f'aliases named {shown(name)} disagree on device_type '
            f'({", ".join(sorted(types))}): nova refuses mismatched '
            'aliases, give them all the same device_type')))
    elif len(specs) > 1 and types == {'unset'}:
        issues.append(ConfigIssue(PROBLEM, (
            f'{len(specs)} aliases are named {shown(name)} and none sets '
            'device_type: nova refuses a repeated alias name without it '
            '("Invalid PCI alias definition"), add "device_type": '
            '"type-PCI" (or the type of the GPUs) to each')))
    if pci_in_placement and len(specs) > 1:
        issues.append(ConfigIssue(PROBLEM, (
            f'{len(specs)} aliases are named {shown(name)}: with '
            'pci_in_placement an alias name may have only one line, rename '
            'the others')))
    return issues


def device_spec_entries(value):
    """Return the device_spec JSON value as a list of objects."""
    return value if isinstance(value, list) else [value]


def validate_device_spec(value, report_in_placement=False):
    """Check one ``device_spec`` JSON value (an object or a list)."""
    if not isinstance(value, (dict, list)) or (
            isinstance(value, list)
            and not all(isinstance(v, dict) for v in value)):
        return [ConfigIssue(PROBLEM, 'device_spec must be a JSON object or '
                            'a list of objects, e.g. {"vendor_id": "10de", '
                            '"product_id": "1bb3"}')]
    issues = []
    for spec in device_spec_entries(value):
        issues.extend(_validate_one_device_spec(spec, report_in_placement))
    return issues


def _is_true_tag(value):
    return value is True or isinstance(value, str) and (
        value.strip().lower() in booleans.TRUE_STRINGS)


def _validate_one_device_spec(spec, report_in_placement):
    issues = _field_issues(spec, DEVICE_SPEC_FIELDS, lambda key: ConfigIssue(
        WARNING, f'unknown key {shown_key(key)}: nova keeps it as a '
        f'free-form tag; known keys: {", ".join(DEVICE_SPEC_FIELDS)}'),
        in_device_spec=True)
    if 'devname' in spec and 'address' in spec:
        issues.append(ConfigIssue(PROBLEM, 'devname and address are mutually '
                                  'exclusive: keep only address for GPUs'))
    if 'devname' in spec and _is_true_tag(spec.get('remote_managed')):
        issues.append(ConfigIssue(PROBLEM, (
            'remote_managed with devname: nova looks the interface up when '
            'it starts and fails where it is missing; select the device by '
            'vendor_id and product_id or address')))
    if _is_true_tag(spec.get('one_time_use')) and not report_in_placement:
        issues.append(ConfigIssue(PROBLEM, (
            'one_time_use needs [pci] report_in_placement = true: set it, '
            'or drop one_time_use')))
    if not set(spec) & {'vendor_id', 'product_id', 'address', 'devname'}:
        issues.append(ConfigIssue(WARNING, (
            'matches every PCI device of the host: add vendor_id and '
            'product_id, e.g. {"vendor_id": "10de", "product_id": "1bb3"}')))
    return issues


def device_spec_matches(spec, vendor_id, product_id, pci_address):
    """Tell whether one (valid) device_spec object selects a device."""
    for key, actual in (('vendor_id', vendor_id), ('product_id', product_id)):
        wanted = spec.get(key, '*')
        if wanted != '*' and wanted.lower() != actual:
            return False
    if 'devname' in spec:
        return False  # network interfaces only; a GPU has no netdev
    if 'address' in spec:
        return address_matches(spec['address'], pci_address)
    return True


def normalize_resource_class(name):
    """Turn a resource_class tag into the placement class nova uses."""
    name = re.sub(r'[^A-Z0-9_]+', '_', name.upper())
    return name if name.startswith('CUSTOM_') else f'CUSTOM_{name}'


def default_resource_class(vendor_id, product_id):
    return f'CUSTOM_PCI_{vendor_id}_{product_id}'.upper()


def alias_resource_class(spec):
    """The class nova asks placement for on behalf of an alias: its own
    resource_class, else the default class of its ids (None without)."""
    if 'resource_class' in spec:
        return normalize_resource_class(spec['resource_class'])
    if 'vendor_id' in spec and 'product_id' in spec:
        return default_resource_class(spec['vendor_id'], spec['product_id'])
    return None


def alias_matches(spec, vendor_id, product_id, device_type,
                  resource_class=None, in_placement=False):
    """Tell whether a (valid) alias can request a device.

    ``resource_class`` is the device's class in placement. With
    ``in_placement`` nova schedules by the alias's class alone, so an alias
    without one asks for its ids' default class and misses a device whose
    device_spec gave it another.
    """
    for key, actual in (('vendor_id', vendor_id), ('product_id', product_id)):
        if key in spec and spec[key].lower() != actual:
            return False
    if resource_class is not None and (in_placement or 'resource_class'
                                       in spec) and (
            alias_resource_class(spec) != resource_class):
        return False
    # Without device_type nova drops PF pools ("unrequested PFs"), so such
    # an alias never gets a type-PF device.
    return spec.get('device_type', device_type) == device_type and not (
        'device_type' not in spec and device_type == 'type-PF')


def alias_spec(name, vendor_id, product_id, device_type=None,
               numa_policy=None):
    """Build an alias JSON object with keys in the usual order."""
    spec = {'name': name, 'vendor_id': vendor_id, 'product_id': product_id}
    if device_type:
        spec['device_type'] = device_type
    if numa_policy:
        spec['numa_policy'] = numa_policy
    return spec


def device_spec(vendor_id, product_id, address=None):
    spec = {'vendor_id': vendor_id, 'product_id': product_id}
    if address:
        spec['address'] = address
    return spec


def option_line(option, value):
    """Render ``alias = {...}`` / ``device_spec = {...}`` for nova.conf.

    json.dumps writes ASCII, so a "$" can only be inside a JSON string,
    where \\u0024 keeps oslo.config from reading it as a reference to
    another option ($name); the JSON value stays the same.
    """
    return f'{option} = {json.dumps(value)}'.replace('$', '\\u0024')
