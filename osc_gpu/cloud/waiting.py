"""Waiting for a server with polls that start fast and back off.

Plain ``openstack server create --wait`` polls every 5 s, so a server that
builds in half a second is reported after several seconds. Early polls
here come every 0.2 s, then stretch out to spare the API on slow builds.
"""

import time

FIRST_INTERVAL = 0.2
BACKOFF = 1.5
MAX_INTERVAL = 3.0


class WaitTimeout(Exception):
    pass


def poll_intervals():
    interval = FIRST_INTERVAL
    while True:
        yield interval
        interval = min(interval * BACKOFF, MAX_INTERVAL)


def wait_for_status(fetch, done, failed, timeout, on_poll=None,
                    clock=time.monotonic, sleep=time.sleep):
    """Poll ``fetch()`` until its status is in ``done`` or ``failed``.

    ``on_poll(resource, elapsed)`` is called after every poll, e.g. to show
    progress. Raises :class:`WaitTimeout` after ``timeout`` seconds.
    """
    start = clock()
    for interval in poll_intervals():
        resource = fetch()
        elapsed = clock() - start
        if on_poll:
            on_poll(resource, elapsed)
        status = (resource.status or '').upper()
        if status in done or status in failed:
            return resource
        if elapsed + interval > timeout:
            raise WaitTimeout('still %s after %.0f s' % (status, elapsed))
        sleep(interval)


def poll_until(fetch, ready, timeout, clock=time.monotonic,
               sleep=time.sleep):
    """Poll ``fetch()`` until ``ready(value)``; the last value, ready or not
    once ``timeout`` has passed."""
    start = clock()
    for interval in poll_intervals():
        value = fetch()
        if ready(value) or clock() - start + interval > timeout:
            return value
        sleep(interval)


def wait_until(predicate, timeout, clock=time.monotonic, sleep=time.sleep):
    """Poll ``predicate()`` until true; False if ``timeout`` passes first."""
    return bool(poll_until(predicate, bool, timeout, clock, sleep))
