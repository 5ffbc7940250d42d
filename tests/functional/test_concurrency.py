"""Onboarding scripts run in parallel and run again: one flavor, no change.

Ten copies of ``gpu flavor create --or-show`` start at once for one name:
nova lets one create it and answers the others 409; those wait for the
winner's specs and show its flavor. Then the whole onboarding flow is run
a second time through the recording proxy: nothing is written.
"""

import json

import pytest

from tests.functional import faultproxy
from tests.functional.cli import OpenStack
from tests.functional.cli import unique
from tests.functional.faultproxy import Fault

PARALLEL = 10
# Longer than the runs take to start on a busy 2-core machine; the hold
# ends as soon as every other run has been refused.
SPECS_HOLD_SECONDS = 30


def flavors_named(osc, name):
    return [f for f in osc.json(['flavor', 'list', '--all', '--long'])
            if f['Name'] == name]


def test_parallel_or_show_creates_end_with_one_flavor(osc, proxied, cleanup):
    cli, proxy = proxied
    name = unique('race')

    def all_others_refused():
        return sum(1 for r in proxy.requests
                   if r.is_write and r.status == 409) >= PARALLEL - 1

    # Started one by one, the runs would mostly find the flavor complete.
    # Holding the winner's specs until every other run got its 409 makes
    # each of them meet the flavor without its specs and wait for them.
    held = Fault('POST', '/os-extra_specs$', kind=faultproxy.DELAY,
                 hold=SPECS_HOLD_SECONDS, until=all_others_refused)
    proxy.reset(held)
    runs = [cli.start(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1',
                       '--ram', '256', '--or-show', '-f', 'json'])
            for _ in range(PARALLEL)]
    results = [run.communicate(timeout=300) + (run.returncode,)
               for run in runs]
    made = flavors_named(osc, name)
    cleanup.extend(('flavor', f['ID']) for f in made)
    assert held.fired and all_others_refused()
    assert [code for _, _, code in results] == [0] * PARALLEL, [
        err for _, err, code in results if code]
    [flavor] = made
    assert flavor['Properties']['pci_passthrough:alias'] == 'P4:1'
    # Every run shows that one flavor, with its GPUs.
    shown = [json.loads(out) for out, _, _ in results]
    assert all(s == shown[0] for s in shown), shown
    assert (shown[0]['id'], shown[0]['gpus']) == (flavor['ID'], 'P4:1')


@pytest.fixture
def proxied(osc):
    """The CLI through the recording proxy, and the proxy."""
    with faultproxy.FaultProxy() as proxy:
        through = OpenStack({})
        through.env = proxy.env(osc.env)
        yield through, proxy


@pytest.fixture
def image(osc, cleanup, tmp_path):
    disk = tmp_path / 'disk.raw'
    disk.write_bytes(b'\0' * 1024)
    created = osc.json(['image', 'create', unique('img'), '--disk-format',
                        'raw', '--container-format', 'bare', '--file',
                        str(disk)])
    cleanup.append(('image', created['id']))
    return created['name']


def onboarding(cli, flavor, image):
    """An operator's onboarding script: every step is re-run safe."""
    return [
        cli.json(['gpu', 'flavor', 'create', flavor, '--gpu', 'T4:1',
                  '--ram', '256', '--numa-policy', 'preferred',
                  '--or-show']),
        cli.json(['gpu', 'image', 'prepare', image, '--machine-type', 'q35',
                  '--firmware', 'uefi']),
        cli.json(['gpu', 'server', 'create', unique('vm'), '--flavor',
                  flavor, '--image', image, '--nic', 'none', '--dry-run']),
    ]


def state(osc, flavor, image):
    shown = osc.json(['flavor', 'show', flavor])
    return (shown['id'], shown['properties'],
            osc.json(['image', 'show', image]))


def test_rerun_of_onboarding_changes_nothing(osc, proxied, cleanup, image):
    flavor = unique('flavor')
    cli, proxy = proxied
    first = onboarding(cli, flavor, image)
    cleanup.append(('flavor', first[0]['id']))
    assert first[1]['result'] == 'changed'
    assert sum(1 for r in proxy.requests if r.is_write) == 3
    before = state(osc, flavor, image)

    proxy.reset()
    again = onboarding(cli, flavor, image)
    assert again[0]['id'] == first[0]['id']
    assert (again[1]['result'], again[1]['changes']) == ('unchanged', [])
    assert again[2]['status'] == 'not created (dry run)'
    # --or-show asks nova to create and takes its 409 as "already there":
    # the only write request of a re-run, and a refused one.
    writes = [(r.method, r.path.rsplit('/', 1)[-1], r.status)
              for r in proxy.writes]
    assert writes == [('POST', 'flavors', 409)], writes
    assert state(osc, flavor, image) == before
