"""SIGTERM handled like Ctrl-C while a command changes the cloud.

Python dies on SIGTERM without unwinding, so a flavor whose extra specs
were still pending stays half-made, and a server whose create answer was
on its way is never looked for. Ctrl-C (KeyboardInterrupt) unwinds, and
the multi-step changes clean up on it. CI runners, ``timeout`` and
container stops send SIGTERM: for the duration of a command it raises
:class:`Terminated`, a KeyboardInterrupt, so the same clean-up runs.
"""

import contextlib
import signal
import threading

# The exit status of a process that ends because of SIGTERM (128 + 15).
EXIT_STATUS = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised where the command was."""


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Turn the first SIGTERM into :class:`Terminated`; ignore repeats, so
    the clean-up it starts is not cut short; restore the old handler."""
    if threading.current_thread() is not threading.main_thread():
        yield   # only the main thread may set signal handlers
        return
    received = []

    def on_sigterm(signum, frame):
        if not received:
            received.append(signum)
            raise Terminated('SIGTERM')

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
