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
    """The wait ran out; ``pending`` names what had not finished."""

    def __init__(self, message, pending=()):
        super().__init__(message)
        self.pending = tuple(pending)


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


def wait_for_all(fetch_many, ids, finished, timeout, on_poll=None,
                 clock=time.monotonic, sleep=time.sleep):
    """Poll until the status of every one of ``ids`` is in ``finished``.

    ``fetch_many(ids)`` reads the resources of the ids still pending, in
    their order; ``on_poll(resources, elapsed)`` sees each round. Returns
    ``{id: resource}`` as last read. Raises :class:`WaitTimeout` naming
    the pending ids after ``timeout`` seconds.

    The interval backs off while nothing moves and starts again from
    :data:`FIRST_INTERVAL` when a resource's status or task state changes:
    a server out of scheduling is often ACTIVE within a second, and a
    poll backed off to a second would see that a second late.
    """
    start = clock()
    found, pending, stages = {}, list(ids), {}
    intervals = poll_intervals()
    # A server nova has just accepted is never built yet: the first read
    # waits one interval.
    sleep(next(intervals))
    while True:
        resources = fetch_many(pending)
        elapsed = clock() - start
        found.update(zip(pending, resources))
        if on_poll:
            on_poll([found[i] for i in ids], elapsed)
        pending = [i for i in pending
                   if (found[i].status or '').upper() not in finished]
        if not pending:
            return found
        moved = {i: _stage(found[i]) for i in pending}
        if any(stages.get(i, stage) != stage for i, stage in moved.items()):
            intervals = poll_intervals()
        stages.update(moved)
        interval = next(intervals)
        if elapsed + interval > timeout:
            statuses = sorted({(found[i].status or '').upper()
                               for i in pending})
            raise WaitTimeout('still %s after %.0f s'
                              % ('/'.join(statuses), elapsed), pending)
        sleep(interval)


def _stage(resource):
    return resource.status, getattr(resource, 'task_state', None)


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
