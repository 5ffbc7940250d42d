"""``gpu apply`` fails at any one step; one re-run finishes the job.

A successful apply of the example is recorded through the fault proxy;
then each of its write steps (the first time it comes; a flavor create
also the last time) is failed in a fresh apply: before the cloud sees it
(HTTP 500) or after the cloud did it (the connection reset, the answer
lost). The failed run must end in one error line; a plain re-run must
then succeed, leave nothing for a plan to do and nothing twice.
"""

import re

import pytest

from tests.functional import faultproxy
from tests.functional import onboarding
from tests.functional.cli import OpenStack
from tests.functional.faultproxy import Fault

_IDS = (r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
        r'[0-9a-f]{32}')
_KINDS = ((faultproxy.STATUS, False), (faultproxy.RESET, True))


@pytest.fixture(scope='module')
def sdk(osc):
    return onboarding.connection(osc)


@pytest.fixture(scope='module')
def image(sdk):
    image = onboarding.upload_image(sdk)
    yield image
    sdk.image.delete_image(image, ignore_missing=True)


@pytest.fixture(scope='module')
def proxied(osc):
    with faultproxy.FaultProxy() as proxy:
        cli = OpenStack({})
        cli.env = proxy.env(osc.env)
        yield cli, proxy


def step_of(request):
    """``(method, url regex, label)``: the request, ids as wildcards."""
    url, label = request.url, request.path
    for pattern in _IDS:
        url = re.sub(pattern, 'IDENT', url)
        label = re.sub(pattern, '{id}', label)
    url = re.escape(url).replace('IDENT', '(%s)' % '|'.join(_IDS))
    return request.method, '^%s$' % url, '%s %s' % (request.method, label)


def recorded_steps(proxy, cli, osc, sdk, made, image):
    """Each distinct write of a successful apply, with how often it came."""
    proxy.reset()
    unprepare(sdk, image)
    try:
        assert made.apply(cli).returncode == 0
    finally:
        made.remove(osc, sdk, prune=False)
    counts, order = {}, []
    for request in proxy.writes:
        step = step_of(request)
        if step not in counts:
            order.append(step)
        counts[step] = counts.get(step, 0) + 1
    return [(step, counts[step]) for step in order]


def cases(steps):
    """Every step the first time it comes, and flavor create the last time
    too (the other flavors made by then); the fault kinds take turns."""
    found = []
    for step, count in steps:
        last = count > 1 and step[2].endswith('/flavors')
        for occurrence in (1, count) if last else (1,):
            kind, after = _KINDS[len(found) % len(_KINDS)]
            found.append((step, occurrence, kind, after))
    return found


def unprepare(sdk, image):
    """The image as uploaded: apply has a property to set again."""
    response = sdk.image.get('/images/%s' % image.id)
    if 'img_hide_hypervisor_id' in response.json():
        sdk.image.patch('/images/%s' % image.id, json=[
            {'op': 'remove', 'path': '/img_hide_hypervisor_id'}], headers={
            'Content-Type': 'application/openstack-images-v2.1-json-patch'})


def check_complete(osc, sdk, made):
    assert made.plan(osc)[0] == 0
    for name in made.projects:
        assert len([p for p in sdk.identity.projects(name=name)]) == 1
    flavors = [f for f in sdk.compute.flavors(is_public=None)
               if f.name in made.flavors]
    assert sorted(f.name for f in flavors) == sorted(made.flavors)
    ids = [sdk.identity.find_project(n, domain_id='default').id
           for n in made.projects]
    assert len([lim for pid in ids
                for lim in sdk.identity.limits(project_id=pid)]) == 4


def test_a_failed_step_is_finished_by_one_rerun(osc, sdk, image, proxied,
                                                tmp_path, subtests):
    cli, proxy = proxied
    steps = recorded_steps(proxy, cli, osc, sdk,
                           onboarding.Onboarding(tmp_path, image.name), image)
    labels = {label.split('/v', 1)[0] + ' ' + label.rsplit('/', 1)[-1]
              for (_, _, label), _ in steps}
    assert len(labels) >= 6, labels
    for (method, url, label), occurrence, kind, after in cases(steps):
        described = '%s%s, #%d' % (kind, ' after the cloud acted' if after
                                   else '', occurrence)
        with subtests.test(step=label, fault=described):
            made = onboarding.Onboarding(tmp_path, image.name)
            unprepare(sdk, image)
            try:
                fault = Fault(method, url, occurrence=occurrence, kind=kind,
                              after=after)
                proxy.reset(fault)
                failed = made.apply(cli, check=False)
                assert fault.fired, 'the step never came: %s' % label
                assert 'Traceback' not in failed.stderr, failed.stderr
                if failed.returncode:
                    assert failed.returncode == 1
                    assert failed.stderr.splitlines()[-1].endswith(
                        'run apply again to make the rest'), failed.stderr
                proxy.reset()
                rerun = made.apply(cli, check=False)
                assert rerun.returncode == 0, rerun.stderr
                check_complete(osc, sdk, made)
            finally:
                made.remove(osc, sdk, prune=False)
