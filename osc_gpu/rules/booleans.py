"""The boolean strings nova accepts (oslo.utils' strict bool_from_string).

Flavor extra specs, image properties and nova.conf flags all use them.
"""

TRUE_STRINGS = ('1', 't', 'true', 'on', 'y', 'yes')
FALSE_STRINGS = ('0', 'f', 'false', 'off', 'n', 'no')
BOOLEAN_STRINGS = TRUE_STRINGS + FALSE_STRINGS


def is_true(value):
    """Whether nova reads ``value`` as true."""
    return str(value).strip().lower() in TRUE_STRINGS
