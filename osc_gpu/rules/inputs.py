"""What nova and glance accept for the values an operator types: one table.

Each rule restates the service's own API schema, so a value the service
would refuse is refused here, before any request, in one line that names
it (escaped: see :mod:`echo`) and says what is valid. Sources, nova 34:

- names: ``nova/api/validation/parameter_types.py`` ``name``: 1-255
  characters, each "printable" by ``_is_printable`` (no Unicode category
  C*, no Z* but Zs) and in the Basic Multilingual Plane (nova builds its
  character ranges from ``range(0xFFFF)``), not starting or ending with a
  space (``valid_name_regex``). Flavor and server names, key pairs,
  availability zones and security groups (``schemas/servers.py``) all
  use it.
- flavor ID: ``schemas/flavors.py`` ``id``: 1-255 of ``[a-zA-Z0-9. _-]``,
  no space at either end.
- flavor sizes: ``flavor_param_positive`` (ram, vcpus) and
  ``flavor_param_non_negative`` (disk, ephemeral, swap): digits only, up
  to ``nova.db.constants.MAX_INT`` (2**31 - 1).
- flavor description (2.55+): 0-65535 printable characters
  (``valid_description_regex``; spaces anywhere, no newline or tab);
  server description (2.19+, ``parameter_types.description``): the same
  characters, at most 255.
- server counts (``min_count``, ``max_count``) and volume sizes: positive
  whole numbers.
- server metadata (``parameter_types.metadata``): keys 1-255 of
  ``[a-zA-Z0-9-_:. ]``, values at most 255 characters.
- user data: at most 65535 characters of base64.
- glance image names: at most 255 characters, anything else allowed.

nova's patterns end in ``$``, which also matches before a final newline;
the rules here match whole values, so such a newline is refused too.
"""

import dataclasses
import math
import re
import unicodedata
import uuid

from osc_gpu.rules import echo

MAX_INT = 0x7FFFFFFF           # nova.db.constants.MAX_INT
USER_DATA_MAX = 65535          # base64 characters


def nova_printable(char):
    """nova's ``_is_printable``, limited to the characters nova ranges over
    (code points below U+FFFF)."""
    if ord(char) >= 0xFFFF:
        return False
    category = unicodedata.category(char)
    return not category.startswith('C') and (
        not category.startswith('Z') or category == 'Zs')


def any_char(char):
    return True


def _one_of(char_class):
    def allowed(char):
        return re.fullmatch(char_class, char) is not None
    return allowed


@dataclasses.dataclass(frozen=True)
class TextRule:
    """One string field: its length, its characters, its ends."""

    what: str                    # as the message says it: 'flavor name'
    valid: str                   # what is valid, in the operator's words
    max_length: int = 255
    min_length: int = 1
    char_ok: object = nova_printable
    spaces_at_ends: bool = True
    blank_ok: bool = False

    def problem(self, value):
        """Why the service would refuse ``value``, or None."""
        if len(value) < self.min_length:
            return 'it is empty'
        if len(value) > self.max_length:
            return 'it has %d characters' % len(value)
        bad = next((c for c in value if not self.char_ok(c)), None)
        if bad is not None:
            return _char_problem(bad)
        if value and not self.blank_ok and not value.strip():
            return 'it is blank'
        if value and not self.spaces_at_ends and (
                _is_space(value[0]) or _is_space(value[-1])):
            return 'it starts or ends with a space'
        return None


def _is_space(char):
    return unicodedata.category(char) == 'Zs'


def _char_problem(char):
    category = unicodedata.category(char)
    code = 'U+%04X' % ord(char)
    if category.startswith('C') or category in ('Zl', 'Zp'):
        return 'it contains the control character %s' % code
    if ord(char) >= 0xFFFF:
        return 'it contains %s, beyond the characters nova takes' % code
    return 'it contains %s (%s)' % (echo.quoted(char), code)


def _name(what):
    return TextRule(what, '1-255 printable characters, no space at either '
                    'end', spaces_at_ends=False)


def _reference(what, char_ok=nova_printable, blank_ok=False):
    """A name or ID to look up. Values no name or ID can be match
    nothing; spaces at the ends stay allowed: microversion 2.0 took such
    names."""
    return TextRule(what, 'a name or ID of 1-255 characters',
                    char_ok=char_ok, blank_ok=blank_ok)


TEXT_RULES = {rule.what: rule for rule in (
    _name('flavor name'),
    _name('server name'),
    _name('key pair name'),
    _name('availability zone'),
    _name('security group'),
    TextRule('flavor ID', "1-255 letters, digits, '.', '_', '-' and inner "
             'spaces', char_ok=_one_of(r'[a-zA-Z0-9. _-]'),
             spaces_at_ends=False),
    TextRule('flavor description', 'at most 65535 printable characters',
             max_length=65535, min_length=0, blank_ok=True),
    TextRule('server description', 'at most 255 printable characters',
             min_length=0, blank_ok=True),
    TextRule('metadata key', "1-255 letters, digits, spaces, '-', '_', ':' "
             "and '.'", char_ok=_one_of(r'[a-zA-Z0-9-_:. ]'),
             blank_ok=True),
    TextRule('metadata value', 'at most 255 characters', min_length=0,
             char_ok=any_char, blank_ok=True),
    _reference('flavor'),
    _reference('server'),
    _reference('server group'),
    _name('host'),
    # glance, neutron and keystone names may hold any character.
    _reference('image', char_ok=any_char, blank_ok=True),
    _reference('network', char_ok=any_char, blank_ok=True),
    _reference('volume', char_ok=any_char, blank_ok=True),
    _reference('snapshot', char_ok=any_char, blank_ok=True),
    _reference('project', char_ok=any_char, blank_ok=True),
    _reference('project domain', char_ok=any_char, blank_ok=True),
)}


@dataclasses.dataclass(frozen=True)
class NumberRule:
    """A whole number written in ASCII digits, within nova's bounds."""

    what: str
    minimum: int
    maximum: int = MAX_INT

    def parse(self, text):
        """The number ``text`` names; ValueError saying what is valid."""
        digits = text.lstrip('0') or '0'
        if (not re.fullmatch(r'[0-9]+', text)
                or len(digits) > len(str(self.maximum))
                or not self.minimum <= int(digits) <= self.maximum):
            raise ValueError('%s is not a whole number from %d to %d '
                             '(digits 0-9 only)'
                             % (_shown(text), self.minimum, self.maximum))
        return int(digits)


NUMBER_RULES = {rule.what: rule for rule in (
    NumberRule('--vcpus', 1),
    NumberRule('--ram', 1),
    NumberRule('--disk', 0),
    NumberRule('--ephemeral', 0),
    NumberRule('--swap', 0),
    NumberRule('--boot-from-volume', 1),
    NumberRule('--min', 1),
    NumberRule('--max', 1),
)}


def seconds(text):
    """A positive, finite number of seconds such as ``600`` or ``0.5``."""
    if re.fullmatch(r'[0-9]+(\.[0-9]*)?|\.[0-9]+', text):
        value = float(text)
        if 0 < value and math.isfinite(value):
            return value
    raise ValueError('%s is not a number of seconds greater than 0 (such '
                     'as 600 or 0.5)' % _shown(text))


def check_text(what, value):
    """``value`` if nova (or glance) would take it as ``what``; else
    ValueError naming it and saying what is valid."""
    rule = TEXT_RULES[what]
    problem = rule.problem(value)
    if problem:
        raise ValueError('invalid %s %s: %s; use %s' % (
            what, _shown(value), problem, rule.valid))
    return value


def is_uuid_like(value):
    """oslo.utils' ``is_uuid_like``, as nova checks a port or network id:
    any spelling ``uuid.UUID`` reads (braces, no dashes, upper case)."""
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    plain = value.replace('urn:', '').replace('uuid:', '').strip('{}')
    return str(parsed).replace('-', '') == plain.replace('-', '').lower()


def check_user_data(encoded, path):
    """The base64 user data, if nova takes its length."""
    if len(encoded) > USER_DATA_MAX:
        raise ValueError(
            'user data file %s is too big: %d characters in base64, nova '
            'takes at most %d (about 48 KiB before encoding)'
            % (_shown(path), len(encoded), USER_DATA_MAX))
    return encoded


def _shown(value):
    return echo.quoted(value)
