"""The cloud fails one request of an onboarding command; nothing is left
half-made, and the operator reads one line.

A successful run of each command is recorded through the fault proxy
first; then every request it made (every step) is failed in turn in a new
run. A failed step must end the command with exit 1 and one stderr line,
no traceback, and must leave: no flavor at all after a failed
``gpu flavor create``, an image with all of the new properties or none
after ``gpu image prepare``, and no server after ``gpu server create``.

Write requests are failed every way (5xx, connection reset, no answer
before the client's timeout, and no answer after the cloud did the work);
read requests take the kinds in turn, since one reporting path handles
them all.
"""

import contextlib
import json
import re

import openstack
import pytest

from tests.functional import faultproxy
from tests.functional.cli import OpenStack
from tests.functional.cli import unique
from tests.functional.faultproxy import Fault

# The client's timeout for each request (clouds.yaml api_timeout): long
# enough for a busy 2-core cloud, short enough to wait for a few times.
API_TIMEOUT = 5
_UUID = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
# gpu server create's mark (a tag), new in each run.
_MARK = r'osc-gpu:create-[0-9a-f]{32}'
_READ_KINDS = ((faultproxy.STATUS, False), (faultproxy.RESET, False),
               (faultproxy.TIMEOUT, False))
# A write's timeout is tried after the cloud acted: the case a client can
# get wrong. Before, it fails the way a reset does.
_WRITE_KINDS = ((faultproxy.STATUS, False), (faultproxy.RESET, False),
                (faultproxy.TIMEOUT, True))


@pytest.fixture(scope='module')
def proxy():
    with faultproxy.FaultProxy() as proxy:
        yield proxy


@pytest.fixture(scope='module')
def proxied(osc, proxy, tmp_path_factory):
    """The CLI, reaching the cloud through the proxy, with a timeout."""
    cli = OpenStack({})
    cli.env = proxy.env(faultproxy.clouds_yaml_with(
        osc.env, tmp_path_factory.mktemp('cloud'), api_timeout=API_TIMEOUT))
    return cli


@pytest.fixture(scope='module')
def sdk(osc):
    """A direct connection to read what the cloud holds after each run."""
    files = ([osc.env['OS_CLIENT_CONFIG_FILE']]
             if osc.env.get('OS_CLIENT_CONFIG_FILE') else None)
    config = openstack.config.OpenStackConfig(config_files=files)
    # Retries: gunicorn may close an idle keep-alive connection just as
    # this session reuses it (a reset that is no fault of the test's).
    return openstack.connection.Connection(
        config=config.get_one(cloud=osc.env['OS_CLOUD'], connect_retries=3))


class Step:
    """One request of a recorded run, as a fault can pick it again."""

    def __init__(self, request, names):
        self.method = request.method
        # Names and ids differ from run to run: placeholders, then regexes.
        url, label = request.url, request.path
        for name in names:
            url = url.replace(name, 'NAME')
            label = label.replace(name, '{name}')
        url = re.escape(re.sub(_MARK, 'MARK', re.sub(_UUID, 'UUID', url)))
        url = url.replace('NAME', '[^/?&]+').replace('UUID', _UUID)
        self.url = '^%s$' % url.replace('MARK', _MARK)
        self.label = '%s %s' % (self.method, re.sub(
            _MARK, '{mark}', re.sub(_UUID, '{id}', label)))
        self.is_write = request.is_write

    def faults(self, index, answer=None):
        """The faults to try at this step: every kind for a write."""
        if self.is_write:
            kinds = _WRITE_KINDS
        else:
            kinds = [_READ_KINDS[index % len(_READ_KINDS)]]
        return [Fault(self.method, self.url, kind=kind, after=after,
                      answer=answer) for kind, after in kinds]


class Recording:
    """A successful run: its distinct requests (steps), output, warnings."""

    def __init__(self, proxy, run, names):
        proxy.reset()
        result = run()
        assert result.returncode == 0, result.stderr
        self.output = json.loads(result.stdout)
        self.warnings = warnings(result)
        self.steps, seen = [], set()
        for request in proxy.requests:
            step = Step(request, names)
            if (step.method, step.url) not in seen:
                seen.add((step.method, step.url))
                self.steps.append(step)

    def survived(self, result, fault):
        """True if the run succeeded in spite of ``fault``, as it should
        only where the client can do without the request (keystoneauth
        guesses an API version from the URL when discovery fails): then
        it must say no more than the recorded run did."""
        assert fault.fired, 'the step never came: %s' % fault
        if result.returncode != 0:
            return False
        assert warnings(result) == self.warnings, result.stderr
        return True


def warnings(result):
    """osc-gpu's own warnings and notes on stderr."""
    return [line for line in result.stderr.splitlines()
            if line.startswith(('warning:', 'note:'))]


# Steps whose failure osc-gpu does not handle yet: a regex on
# "label | fault" -> why.
KNOWN_BUGS = {}


@pytest.fixture
def known_bugs():
    """Use as ``with known_bugs(step, fault):`` around a step's checks."""
    @contextlib.contextmanager
    def check(step, fault):
        try:
            yield
        except AssertionError:
            case = '%s | %s' % (step.label, described(fault))
            for pattern, why in KNOWN_BUGS.items():
                if re.search(pattern, case):
                    pytest.xfail(why)
            raise
    return check


def described(fault):
    return '%s%s' % (fault.kind, ' after the cloud acted' if fault.after
                     else '')


def assert_one_line(result, fault):
    assert fault.fired, 'the step never came: %s' % fault
    assert result.returncode == 1, (result.returncode, result.stdout,
                                    result.stderr)
    assert 'Traceback' not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- gpu flavor create ---------------------------------------------------

def test_failed_flavor_create_leaves_no_flavor(proxied, proxy, sdk, subtests,
                                               known_bugs):
    def create(name):
        return proxied.run(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1',
                            '--ram', '256', '-f', 'json'], check=False)

    name = unique('fault')
    recorded = Recording(proxy, lambda: create(name), [name])
    sdk.compute.delete_flavor(recorded.output['id'])
    assert [s.label.rsplit('/v2.1', 1)[-1] for s in recorded.steps
            if s.is_write] == ['/flavors', '/flavors/{id}/os-extra_specs']
    for index, step in enumerate(recorded.steps):
        for fault in step.faults(index):
            with subtests.test(step=step.label, fault=described(fault)), \
                    known_bugs(step, fault):
                name = unique('fault')
                proxy.reset(fault)
                result = create(name)
                left = sdk.compute.find_flavor(name, ignore_missing=True,
                                               get_extra_specs=True)
                if left:
                    sdk.compute.delete_flavor(left)
                if recorded.survived(result, fault):
                    assert left.extra_specs == recorded.output['properties']
                    continue
                line = assert_one_line(result, fault)
                assert left is None, line


def test_flavor_left_by_a_failed_rollback_is_named(proxied, proxy, sdk):
    """Setting the specs fails, then so does deleting the flavor: the line
    says what is left and how to remove it."""
    name = unique('fault')
    proxy.reset(Fault('POST', r'/os-extra_specs$'),
                Fault('DELETE', r'/flavors/'))
    result = proxied.run(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1'],
                         check=False)
    left = sdk.compute.find_flavor(name, ignore_missing=False)
    sdk.compute.delete_flavor(left)
    line = assert_one_line(result, proxy.faults[1])
    assert line.endswith("delete it with 'openstack flavor delete %s'"
                         % left.id), line


# -- gpu image prepare ---------------------------------------------------

_IMAGE_PROPS = {'img_hide_hypervisor_id': 'true', 'hw_machine_type': 'q35',
                'hw_firmware_type': 'uefi'}


@pytest.fixture
def image(sdk):
    image = sdk.image.create_image(
        name=unique('img'), data=b'\0' * 1024, disk_format='raw',
        container_format='bare', allow_duplicates=True)
    yield image
    sdk.image.delete_image(image, ignore_missing=True)


def gpu_props(sdk, image):
    # Glance's own flat view: the SDK moves some keys out of properties.
    response = sdk.image.get('/images/%s' % image.id)
    openstack.exceptions.raise_from_response(response)
    return {k: response.json().get(k) for k in _IMAGE_PROPS}


def unprepare(sdk, image):
    """Remove what a run set, with one JSON patch as glance takes it."""
    ops = [{'op': 'remove', 'path': '/%s' % k}
           for k, v in gpu_props(sdk, image).items() if v is not None]
    if ops:
        response = sdk.image.patch(
            '/images/%s' % image.id, json=ops, headers={
                'Content-Type':
                    'application/openstack-images-v2.1-json-patch'})
        openstack.exceptions.raise_from_response(response)


def test_failed_image_prepare_changes_all_or_nothing(
        proxied, proxy, sdk, image, subtests, known_bugs):
    def prepare():
        return proxied.run(['gpu', 'image', 'prepare', image.name,
                            '--machine-type', 'q35', '--firmware', 'uefi',
                            '-f', 'json'], check=False)

    recorded = Recording(proxy, prepare, [image.name])
    assert recorded.output['result'] == 'changed'
    assert gpu_props(sdk, image) == _IMAGE_PROPS
    assert [s.label for s in recorded.steps if s.is_write] == [
        'PATCH /v2/images/{id}']
    untouched = dict.fromkeys(_IMAGE_PROPS)
    for index, step in enumerate(recorded.steps):
        for fault in step.faults(index):
            with subtests.test(step=step.label, fault=described(fault)), \
                    known_bugs(step, fault):
                unprepare(sdk, image)
                proxy.reset(fault)
                result = prepare()
                props = gpu_props(sdk, image)
                if recorded.survived(result, fault):
                    assert props == _IMAGE_PROPS
                    continue
                line = assert_one_line(result, fault)
                # Glance applies one PATCH whole: if the answer was lost,
                # every property is set; else none.
                assert props in (untouched, _IMAGE_PROPS), line


# -- gpu server create ---------------------------------------------------

@pytest.fixture(scope='module')
def gpu_flavor(osc):
    """One M60: the GPU the other server tests need least."""
    flavor = osc.json(['gpu', 'flavor', 'create', unique('flv'), '--gpu',
                       'M60:1', '--ram', '256', '--disk', '1'])
    yield flavor['name']
    osc.run(['flavor', 'delete', flavor['id']], check=False)


def servers_named(sdk, name):
    # Deleted servers linger briefly as DELETED: not left behind.
    return [s for s in sdk.compute.servers(name='^%s$' % re.escape(name))
            if s.status != 'DELETED']


def remove_servers(sdk, name):
    for server in servers_named(sdk, name):
        sdk.compute.delete_server(server, ignore_missing=True)
        sdk.compute.wait_for_delete(server, wait=120)


def test_failed_server_create_leaves_no_server(proxied, proxy, sdk, devcloud,
                                               gpu_flavor, subtests,
                                               known_bugs):
    def create(name):
        return proxied.run(['gpu', 'server', 'create', name, '--flavor',
                            gpu_flavor, '--image', 'tiny-raw', '--nic',
                            'none', '--wait', '-f', 'json'], check=False)

    name = unique('vm')
    try:
        recorded = Recording(proxy, lambda: create(name),
                             [name, gpu_flavor, 'tiny-raw'])
    finally:
        remove_servers(sdk, name)
    assert recorded.output['status'] == 'ACTIVE'
    [poll] = [s for s in recorded.steps
              if s.label.endswith('/servers/{id}')]
    # The first poll may still see BUILD; the one that sees ACTIVE too.
    plan = [(step, fault) for index, step in enumerate(recorded.steps)
            for fault in step.faults(index)]
    plan += [(poll, fault) for fault in poll.faults(
        0, answer=r'"status": "ACTIVE"')]
    for step, fault in plan:
        label = step.label + (' (ACTIVE)' if fault.answer else '')
        with subtests.test(step=label, fault=described(fault)), \
                known_bugs(step, fault):
            name = unique('vm')
            proxy.reset(fault)
            result = create(name)
            left = servers_named(sdk, name)
            remove_servers(sdk, name)
            if recorded.survived(result, fault):
                assert [s.status for s in left] == ['ACTIVE']
                continue
            line = assert_one_line(result, fault)
            assert left == [], line


def test_wait_timeout_deletes_the_server(osc, sdk, devcloud, gpu_flavor):
    """The build outlasts --wait-timeout: the GPU is not left held."""
    name = unique('vm')
    try:
        line = osc.fails(['gpu', 'server', 'create', name, '--flavor',
                          gpu_flavor, '--image', 'tiny-raw', '--nic', 'none',
                          '--wait', '--wait-timeout', '0.1'])
        left = servers_named(sdk, name)
    finally:
        remove_servers(sdk, name)
    assert line.startswith("server '%s' not ACTIVE: still BUILD" % name)
    assert line.endswith("the server '%s' it created was deleted" % name)
    assert left == []
