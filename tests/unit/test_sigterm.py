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


class _Killed(BaseException):
    """What SIGTERM would do to a process that does not handle it."""


def test_sigterm_while_the_server_create_answer_is_on_its_way(
        requests_mock, tmp_path, monkeypatch, capsys):
    """nova made the server, the answer never came back: no server is
    left behind that the operator has no id of."""
    from tests.unit import fakecloud
    from tests.unit import fakeplacement

    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.placement.add_host('gpu-node-1', gpus=1)
    cloud.add_image('ubuntu')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1',
                                'hw:hide_hypervisor_id': 'true'})
    create = cloud._create_server

    def made_then_terminated(request, context):
        answer = create(request, context)
        signal.raise_signal(signal.SIGTERM)
        return answer
    cloud.mock.post(cloud.compute_url + '/servers', status_code=202,
                    json=made_then_terminated)

    def killed(*args):
        raise _Killed()
    previous = signal.signal(signal.SIGTERM, killed)
    try:
        with pytest.raises(SystemExit) as exited:
            fakecloud.run(['gpu', 'server', 'create', 'vm', '--flavor',
                           'gpu.p4', '--image', 'ubuntu', '--nic', 'none'],
                          capsys)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exited.value.code == interrupts.EXIT_STATUS
    assert cloud.servers == {}
    assert capsys.readouterr().err.strip() == (
        'gpu server create: stopped by SIGTERM')


def _terminated_in_flavor_post(requests_mock, tmp_path, monkeypatch,
                               capsys, on_delete=None):
    """``gpu flavor create`` with SIGTERM arriving while nova makes the
    flavor (its answer on the way); returns the cloud, the exit status
    and stderr."""
    from tests.unit import fakecloud

    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    create = cloud._create_flavor

    def made_then_terminated(request, context):
        answer = create(request, context)
        signal.raise_signal(signal.SIGTERM)
        return answer
    cloud.mock.post(cloud.compute_url + '/flavors', json=made_then_terminated)
    if on_delete is not None:
        cloud.mock.delete(cloud.compute_path(r'/flavors/([^/?]+)$'),
                          **on_delete)

    def killed(*args):
        raise _Killed()
    previous = signal.signal(signal.SIGTERM, killed)
    try:
        code, _, err = fakecloud.run(['gpu', 'flavor', 'create', 'gpu.term',
                                      '--gpu', 'P4:1'], capsys)
    except SystemExit as exited:
        code, err = exited.code, capsys.readouterr().err
    finally:
        signal.signal(signal.SIGTERM, previous)
    return cloud, code, err.strip()


def test_sigterm_during_the_flavor_post_removes_what_nova_made(
        requests_mock, tmp_path, monkeypatch, capsys):
    """No flavor without its GPU specs is left behind: the one nova made
    is found by the id the command gave it, and deleted."""
    cloud, code, err = _terminated_in_flavor_post(requests_mock, tmp_path,
                                                  monkeypatch, capsys)
    assert (code, err) == (interrupts.EXIT_STATUS,
                           'gpu flavor create: stopped by SIGTERM')
    assert cloud.flavors == {}
    assert [m for m, _ in cloud.writes()] == ['POST', 'DELETE']


def test_sigterm_during_the_flavor_post_and_a_failed_clean_up_say_so(
        requests_mock, tmp_path, monkeypatch, capsys):
    cloud, code, err = _terminated_in_flavor_post(
        requests_mock, tmp_path, monkeypatch, capsys,
        on_delete={'status_code': 500,
                   'json': {'computeFault': {'code': 500,
                                             'message': 'boom'}}})
    [flavor_id] = cloud.flavors
    assert code == 1
    assert err.startswith("creating flavor 'gpu.term' was interrupted; "
                          'nova may have made the flavor all the same, and '
                          'checking failed (')
    assert err.endswith("see 'openstack flavor show %s'" % flavor_id)
    assert len(err.splitlines()) == 1
