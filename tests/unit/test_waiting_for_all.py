"""Waiting for several servers together (``gpu server create --max``)."""

import types

import pytest

from osc_gpu.cloud import waiting


class Clock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def fake(statuses):
    """``fetch_many`` reading each id's next status from ``statuses``."""
    reads = []

    def fetch_many(ids):
        reads.append(list(ids))
        return [types.SimpleNamespace(id=i, status=statuses[i].pop(0))
                for i in ids]
    return fetch_many, reads


def test_each_is_read_until_finished_and_no_longer():
    clock = Clock()
    fetch, reads = fake({'a': ['BUILD', 'ACTIVE'], 'b': ['ERROR']})
    found = waiting.wait_for_all(fetch, ['a', 'b'], ('ACTIVE', 'ERROR'), 60,
                                 clock=clock, sleep=clock.sleep)
    assert {i: r.status for i, r in found.items()} == {'a': 'ACTIVE',
                                                       'b': 'ERROR'}
    assert reads == [['a', 'b'], ['a']]


def test_the_first_read_waits_one_interval():
    clock = Clock()
    fetch, _ = fake({'a': ['ACTIVE']})
    waiting.wait_for_all(fetch, ['a'], ('ACTIVE',), 60, clock=clock,
                         sleep=clock.sleep)
    assert clock.slept == [waiting.FIRST_INTERVAL]


def test_a_timeout_names_what_is_still_pending():
    clock = Clock()
    fetch, _ = fake({'a': ['BUILD'] * 50, 'b': ['ACTIVE']})
    with pytest.raises(waiting.WaitTimeout) as raised:
        waiting.wait_for_all(fetch, ['a', 'b'], ('ACTIVE',), 2, clock=clock,
                             sleep=clock.sleep)
    assert raised.value.pending == ('a',)
    assert str(raised.value).startswith('still BUILD after ')


def test_progress_starts_the_intervals_again():
    clock = Clock()
    stages = [('BUILD', 'scheduling')] * 4 + [('BUILD', 'spawning'),
                                              ('ACTIVE', None)]

    def fetch_many(ids):
        status, task = stages.pop(0)
        return [types.SimpleNamespace(id='a', status=status,
                                      task_state=task)]
    waiting.wait_for_all(fetch_many, ['a'], ('ACTIVE',), 60, clock=clock,
                         sleep=clock.sleep)
    first = waiting.FIRST_INTERVAL
    # Backing off while scheduling; from the first interval again once
    # the server moved on to spawning.
    assert clock.slept == pytest.approx([first * 1.5 ** n for n in range(5)]
                                        + [first])
