"""device_spec ``address`` values, read the way nova/pci/devspec.py does.

Pure. Two forms: a glob string ``[[[domain]:]bus]:][slot][.[function]]``
(``*`` or a blank field is a wildcard, except a blank function: nova fails
on "0000:81:00. ") and a dict of regular expressions per field, which nova
matches at the start of the field (``re.match``).
"""

import re

from osc_gpu.rules.echo import shown, shown_key

# nova/pci/devspec.py MAX_DOMAIN, MAX_BUS, MAX_SLOT, MAX_FUNC
ADDRESS_MAX = {'domain': 0xFFFF, 'bus': 0xFF, 'slot': 0x1F, 'function': 0x7}


def _address_dict_rule(address):
    for key, pattern in address.items():
        if key not in ADDRESS_MAX:
            return (f'address key {shown_key(key)} is unknown; use '
                    f'{", ".join(ADDRESS_MAX)}')
        try:
            re.compile(pattern)
        except (re.error, TypeError, RecursionError, OverflowError):
            return (f'address {key} {shown(pattern)} is not a regular '
                    'expression')
    return None


def _address_fields(address):
    """Glob address -> [(key, text)] as nova's PciAddressGlobSpec cuts it.

    Blank domain, bus and slot are wildcards; a blank function after the
    "." is not (nova fails on "0000:81:00. "), only an empty one is.
    """
    dbs, _, function = address.partition('.')
    fields = dbs.split(':') if dbs else []
    fields = [''] * (3 - len(fields)) + fields
    fields = [f.strip() or '*' for f in fields]
    function = function.strip() if function else '*'
    return list(zip(('domain', 'bus', 'slot', 'function'),
                    fields + [function]))


def address_rule(address):
    """Return why a device_spec ``address`` is invalid, or None."""
    if isinstance(address, dict):
        return _address_dict_rule(address)
    if not isinstance(address, str):
        return 'address must be a string like "0000:81:00.0" or a dict'
    if len(address.partition('.')[0].split(':')) > 3:
        return f'address {shown(address)} has too many ":" fields'
    for key, value in _address_fields(address):
        if value == '*':
            continue
        try:
            number = int(value, 16)
        except ValueError:
            return f'address {key} {shown(value)} is not hex'
        if number > ADDRESS_MAX[key]:
            return (f'address {key} {shown(value)} is above the maximum '
                    f'{ADDRESS_MAX[key]:x}')
    return None


def address_matches(address, pci_address):
    """Tell whether a (valid) device_spec address matches a PCI address.

    As nova: glob fields compare as numbers, regex fields must match at
    the start of the field (``re.match``, so "8" matches bus "81").
    """
    domain, bus, slot_function = pci_address.split(':')
    slot, function = slot_function.split('.')
    actual = {'domain': domain, 'bus': bus, 'slot': slot,
              'function': function}
    if isinstance(address, dict):
        return all(re.match(address.get(key, '.*'), value) is not None
                   for key, value in actual.items())
    return all(pattern == '*' or int(pattern, 16) == int(actual[key], 16)
               for key, pattern in _address_fields(address))
