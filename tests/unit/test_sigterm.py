"""SIGTERM (CI runners, ``timeout``, container stops) unwinds like Ctrl-C.

The process tests run the real ``openstack`` against a loopback nova
(:mod:`brokencloud`) that holds the extra-specs request unanswered, and
send SIGTERM while the flavor exists without its specs.
"""

import signal
import threading

import pytest

from osc_gpu.cloud import interrupts
from tests.unit import brokencloud
from tests.unit.test_broken_cloud import _run_process


def test_sigterm_raises_terminated_once_and_the_old_handler_returns():
    seen = []
    previous = signal.signal(signal.SIGTERM,
                             lambda *a: seen.append('previous'))
    try:
        with pytest.raises(interrupts.Terminated):
            with interrupts.sigterm_as_interrupt():
                signal.raise_signal(signal.SIGTERM)
        with interrupts.sigterm_as_interrupt():
            try:
                signal.raise_signal(signal.SIGTERM)
            except interrupts.Terminated:
                # The clean-up a first SIGTERM starts is not cut short by
                # a second one.
                signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)
        assert seen == ['previous']
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_terminated_is_a_keyboard_interrupt_so_ctrl_c_clean_ups_run():
    assert issubclass(interrupts.Terminated, KeyboardInterrupt)
    assert interrupts.EXIT_STATUS == 143


def test_outside_the_main_thread_nothing_is_changed():
    before = signal.getsignal(signal.SIGTERM)
    inside = []

    def worker():
        with interrupts.sigterm_as_interrupt():
            inside.append(signal.getsignal(signal.SIGTERM))
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert inside == [before]


def test_sigterm_while_extra_specs_are_pending_rolls_the_flavor_back(
        tmp_path):
    with brokencloud.BrokenCloud(hold=r'/os-extra_specs$') as cloud:
        process = _run_process(['gpu', 'flavor', 'create', 'gpu.term',
                                '--gpu', 'P4:1'], cloud.auth_url, tmp_path)
        try:
            assert cloud.held.wait(30), cloud.requests
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
        finally:
            process.kill()
    created = [p for m, p in cloud.writes() if m == 'POST'
               and p.endswith('/flavors')]
    assert created, cloud.requests
    [specs] = [p for m, p in cloud.writes() if p.endswith('/os-extra_specs')]
    flavor_path = specs[:-len('/os-extra_specs')]
    assert ('DELETE', flavor_path) in cloud.writes(), cloud.requests
    assert process.returncode == interrupts.EXIT_STATUS, err
    assert err.strip() == 'gpu flavor create: stopped by SIGTERM'
