"""How a value is shown inside a one-line message.

Values come from the operator's command line or from a cloud's answer, and
either may hold a newline, a terminal escape or a 70,000-character string.
Echoed raw, such a value splits the one line an error must be, or rewrites
the terminal. Every echoed value goes through :func:`quoted`; a whole line
through :func:`one_line`, which only escapes (it never drops a character).
"""

# A longer value is shown by its start and its length.
SHOWN_CHARACTERS = 60


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
    shown = text if len(text) <= limit else text[:limit]
    shown = escape(shown.replace('\\', '\\\\'))
    if len(text) > limit:
        return "'%s...'%s" % (shown, ' (%d characters)' % len(text)
                              if count else '')
    return "'%s'" % shown
