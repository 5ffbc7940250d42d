import types

import pytest

from osc_gpu.rules import faults
from osc_gpu.rules import gpu_request as gr
from osc_gpu.cloud import waiting


def test_no_valid_host_is_explained_for_the_flavor():
    line = faults.explain('No valid host was found. There are not enough '
                          'hosts available.', gr.parse_gpu_requests('P4:3'))
    assert line.startswith('No valid host was found. There are not enough '
                           'hosts available (no compute host could take P4:3')
    assert 'PciPassthroughFilter' in line and '[pci] alias' in line


def test_unknown_alias_is_explained():
    line = faults.explain("creating server 'x' failed (HTTP 400): PCI alias "
                          "NOPE is not defined")
    assert 'nova-api does not know PCI alias NOPE' in line


def test_unknown_message_passes_through_on_one_line():
    assert faults.explain('disk\nfull') == 'disk full'
    assert faults.explain(None) == 'no fault recorded'


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_polls_start_fast_and_back_off():
    intervals = waiting.poll_intervals()
    first = [next(intervals) for _ in range(12)]
    assert first[0] == 0.2
    assert first == sorted(first)
    assert max(first) == waiting.MAX_INTERVAL


def test_a_half_second_build_is_seen_within_a_second():
    clock = Clock()

    def server():
        return types.SimpleNamespace(
            status='ACTIVE' if clock.now >= 0.5 else 'BUILD')

    waiting.wait_for_status(server, ('ACTIVE',), ('ERROR',), 60,
                            clock=clock, sleep=clock.sleep)
    assert clock.now < 1.0


def test_error_status_ends_the_wait():
    result = waiting.wait_for_status(
        lambda: types.SimpleNamespace(status='ERROR'), ('ACTIVE',),
        ('ERROR',), 60, clock=Clock(), sleep=lambda s: None)
    assert result.status == 'ERROR'


def test_timeout_raises():
    clock = Clock()
    with pytest.raises(waiting.WaitTimeout, match='still BUILD'):
        waiting.wait_for_status(lambda: types.SimpleNamespace(status='BUILD'),
                                ('ACTIVE',), ('ERROR',), 5, clock=clock,
                                sleep=clock.sleep)
