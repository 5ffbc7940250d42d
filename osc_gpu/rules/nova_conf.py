"""nova.conf read the way oslo.config reads it (our own reader, same rules).

Pure: ``parse_ini`` takes the decoded text (``decode`` turns bytes into it)
and returns every ``key = value`` with its line, so a check can say where a
value came from. The rules follow oslo.config 10 (oslo_config/iniparser.py
and cfg.ConfigParser), checked against it by the differential tests:

- lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only (Python's universal
  newlines, as ``open()`` gives them to oslo.config); each is right-stripped;
- a line starting with a space or a tab continues the value above (left-
  stripped, joined with ``\\n``); a blank line ends it;
- ``[name]`` opens a section; names compare lowercased, except ``DEFAULT``;
- ``#`` and ``;`` start comment lines only, never inside a value;
- ``key = value`` or ``key: value``, whichever of ``=`` and ``:`` comes
  first; key and value are stripped and one pair of matching surrounding
  quotes is removed from the first line of the value;
- a repeated option keeps every value in file order (MultiStrOpt); a single
  valued option takes the last one;
- deprecated names add their values in front of the new name's, the last
  deprecated name first;
- ``$$`` and ``\\$`` stand for ``$``; ``$name`` / ``${name}`` are replaced
  by another option's value, which we do not guess: such a value is
  reported, not read.

The file must be UTF-8: oslo.config opens it with the locale's encoding,
UTF-8 on every current distribution.
"""

import dataclasses
import re

from osc_gpu.rules import echo

DEFAULT = 'DEFAULT'

# oslo_config.types.Boolean
TRUE_VALUES = ('true', '1', 'on', 'yes')
FALSE_VALUES = ('false', '0', 'off', 'no')

# oslo.config's string.Template: idpattern [_a-z][._a-z0-9]*, IGNORECASE.
_TEMPLATE = re.compile(
    r'\$(?:(?P<escaped>\$)|(?P<named>[_a-z][._a-z0-9]*)'
    r'|\{(?P<braced>[_a-z][._a-z0-9]*)\}|(?P<invalid>))', re.IGNORECASE)

# The nova options we read: (group, name) -> the names oslo.config looks up,
# the option's own name first, then its deprecated names.
NOVA_OPTIONS = {
    ('pci', 'alias'): (('pci', 'alias'), (DEFAULT, 'pci_alias')),
    ('pci', 'device_spec'): (('pci', 'device_spec'),
                             ('pci', 'passthrough_whitelist'),
                             (DEFAULT, 'pci_passthrough_whitelist')),
    ('pci', 'report_in_placement'): (('pci', 'report_in_placement'),),
    ('filter_scheduler', 'pci_in_placement'): (
        ('filter_scheduler', 'pci_in_placement'),),
}


def normalize_section(section):
    """oslo.config's group name for a ``[section]`` header."""
    return section if section == DEFAULT else section.lower()


@dataclasses.dataclass(frozen=True)
class Option:
    """One ``key = value`` of the file (continuation lines joined)."""

    section: str    # the group, normalized: pci, DEFAULT, filter_scheduler
    key: str
    value: str      # as written, before $ substitution
    lineno: int


@dataclasses.dataclass(frozen=True)
class NovaConf:
    path: str
    options: tuple          # every Option, in file order
    errors: tuple = ()      # (lineno, message) for lines oslo would refuse

    def values(self, section, key):
        """The Options written as ``[section] key``, in file order."""
        section = normalize_section(section)
        return [o for o in self.options
                if (o.section, o.key) == (section, key)]

    def option(self, group, name):
        """The Options oslo.config gives nova's ``[group] name``, in order."""
        found = []
        for section, key in NOVA_OPTIONS.get((group, name),
                                             ((group, name),)):
            found = self.values(section, key) + found
        return found

    def flag(self, group, name):
        """A boolean option's value; False when unset or unreadable."""
        found = self.option(group, name)
        return bool(found) and bool(flag_value(found[-1]))

    def bad_flag(self, group, name):
        """The Option that makes a boolean option unreadable, or None."""
        found = self.option(group, name)
        return found[-1] if found and flag_value(found[-1]) is None else None


def flag_value(option):
    """True/False as oslo.config reads a BoolOpt's Option; None if bad."""
    value, reference = substitute(option.value)
    return None if reference else bool_value(value)


def bool_value(text):
    """True/False as oslo.config's BoolOpt reads ``text``; None if invalid."""
    lowered = text.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    return None


def substitute(value):
    """``(value with $$ and \\$ resolved, first $reference or None)``."""
    references = []

    def replace(match):
        if match.group('escaped') is not None:
            return '$'
        name = match.group('named') or match.group('braced')
        if name is not None:
            references.append(match.group(0))
        return match.group(0) if name is not None else '$'

    result = _TEMPLATE.sub(replace, value.replace('\\$', '$$'))
    return result, references[0] if references else None


def decode(data):
    """``(text, (lineno, message) or None)``: nova.conf bytes as text.

    Bytes that are not UTF-8 make oslo.config fail on the whole file; the
    text keeps going (with U+FFFD) so the other lines can still be checked.
    """
    try:
        return data.decode('utf-8'), None
    except UnicodeDecodeError as exc:
        lineno = data.count(b'\n', 0, exc.start) + 1
        byte = data[exc.start:exc.start + 1].hex()
        return data.decode('utf-8', 'replace'), (lineno, (
            f'byte 0x{byte} is not UTF-8: oslo.config cannot read the '
            'file; save it as UTF-8'))


def _lines(text):
    return text.replace('\r\n', '\n').replace('\r', '\n').split('\n')


def _split_key_value(line):
    colon, equal = line.find(':'), line.find('=')
    if colon < 0 and equal < 0:
        return None, None
    cut = equal if colon < 0 or 0 <= equal < colon else colon
    value = line[cut + 1:].strip()
    if value and value[0] == value[-1] and value[0] in '"\'':
        value = value[1:-1]
    return line[:cut].strip(), value


def parse_ini(text, path='nova.conf'):
    """Read nova.conf text; errors are the lines oslo.config refuses."""
    options, errors = [], []
    section, key, value, start = None, None, [], 0

    def flush():
        if key is not None and section is not None:
            options.append(Option(section, key, '\n'.join(value), start))

    for lineno, line in enumerate(_lines(text), 1):
        line = line.rstrip()
        if line.startswith((' ', '\t')):
            if key is None:
                errors.append((lineno, 'indented line continues no '
                               f'option: {echo.quoted(line)}'))
            else:
                value.append(line.lstrip())
            continue
        flush()
        key, value = None, []
        if not line or line.startswith(('#', ';')):
            continue
        if line.startswith('['):
            if not line.endswith(']') or len(line) <= 2:
                errors.append((lineno, 'bad section header '
                               f'{echo.quoted(line)}'))
            section = normalize_section(line[1:-1])
            continue
        name, first = _split_key_value(line)
        if not name:
            errors.append((lineno, f'not a "key = value" line: '
                           f'{echo.quoted(line)}'))
        elif section is None:
            errors.append((lineno, 'option before any [section]'))
        else:
            key, value, start = name, [first], lineno
    flush()
    return NovaConf(path, tuple(options), tuple(errors))
