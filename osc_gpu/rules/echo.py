"""How a value is shown inside a one-line message.

Values come from the operator's command line or from a cloud's answer, and
either may hold a newline, a terminal escape or a 70,000-character string.
Echoed raw, such a value splits the one line an error must be, or rewrites
the terminal. Every echoed value goes through :func:`quoted` (or, for a
value parsed from JSON, bytes read from a file, a path, the helpers below,
which show theirs the same way); a whole line through :func:`one_line`,
which only escapes (it never drops a character). This is the one module
that escapes.
"""

# A longer value is shown by its start and its length.
SHOWN_CHARACTERS = 60
# Linux's PATH_MAX: a path is shown whole up to it (a longer one is no path).
PATH_CHARACTERS = 4096


def escape(text):
    """``text`` with each character that is not printable escaped the way
    Python's repr does (a newline as ``\\n``, ESC as ``\\x1b``), so it
    stays on one line, cannot drive a terminal, and shows what was there."""
    return ''.join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def one_line(text):
    """A message as one line: non-printable characters escaped."""
    return escape(str(text))


def quoted(value, limit=SHOWN_CHARACTERS, count=True):
    """``value`` for a message: quoted, escaped, and shortened past
    ``limit`` characters, e.g. ``'abc...' (70000 characters)`` (without
    the count if not ``count``).

    Backslashes are doubled too, as in a repr, so a typed ``\\n`` and a
    real newline read differently.
    """
    text = str(value)
    head = escape(text[:limit].replace('\\', '\\\\'))
    if len(text) > limit:
        return "'%s...'%s" % (head, ' (%d characters)' % len(text)
                              if count else '')
    return "'%s'" % head


def quoted_path(path):
    """A path for a message: quoted and escaped, never cut short."""
    return quoted(path, limit=PATH_CHARACTERS)


def quoted_bytes(data, limit=SHOWN_CHARACTERS):
    """Bytes read from a file, quoted as Python shows bytes (``'0x10de\\n'``,
    non-ASCII as ``\\xNN``, no ``b``), cut after ``limit`` with the
    length."""
    text = repr(bytes(data[:limit]))[1:]
    return text if len(data) <= limit else f'{text}... ({len(data)} bytes)'


def shown(value, limit=SHOWN_CHARACTERS):
    """A string, or any value parsed from JSON (nova.conf), for a message.

    Strings go through :func:`quoted`; other JSON values are named, never
    walked (they may nest deeply) nor echoed past ``limit``.
    """
    if isinstance(value, str):
        return quoted(value, limit)
    if isinstance(value, bool) or value is None:
        return {True: 'true', False: 'false', None: 'null'}[value]
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= limit else f'a {len(text)}-digit number'
    if isinstance(value, list):
        return 'a JSON list'
    if isinstance(value, dict):
        return 'a JSON object'
    return type(value).__name__


def shown_key(key):
    """A JSON key for a message: "name" when plain, escaped otherwise."""
    return f'"{key}"' if key.isprintable() and len(key) <= SHOWN_CHARACTERS \
        else shown(key)
