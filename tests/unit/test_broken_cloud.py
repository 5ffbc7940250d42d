"""Every cloud command against a broken cloud: one line, exit 1.

The clouds are stand-ins on loopback (:mod:`brokencloud`): nothing
listening, or a keystone, nova, glance or placement that answers an HTML
page, a 500, an empty body, something that is not JSON, JSON of another
shape, or a version document without a valid microversion. The real
``openstack`` shell runs each command in this process; the last tests run
it as its own process.
"""

import itertools
import os
import re
import subprocess
import sys

import pytest

from tests.unit import brokencloud
from tests.unit.fakecloud import run

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')

COMMANDS = {
    'flavor create': (['gpu', 'flavor', 'create', 'gpu.x', '--gpu', 'P4:1'],
                      'compute'),
    'flavor list': (['gpu', 'flavor', 'list'], 'compute'),
    'flavor show': (['gpu', 'flavor', 'show', 'gpu.x'], 'compute'),
    'flavor delete': (['gpu', 'flavor', 'delete', 'gpu.x'], 'compute'),
    'image prepare': (['gpu', 'image', 'prepare', 'ubuntu'], 'image'),
    'server create': (['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.x',
                       '--image', 'ubuntu', '--nic', 'none', '--wait'],
                      'compute'),
    'capacity': (['gpu', 'capacity'], 'placement'),
}
BODY_BREAKAGES = [b for b in brokencloud.BREAKAGES
                  if b not in brokencloud.VERSION_BREAKAGES]
# What the SDK, keystoneauth or Python say when they fail to read an
# answer: none of it may reach the operator.
INTERNAL = re.compile(
    r'Expecting value|not subscriptable|expected at most|not supported '
    r'between|Invalid version specified|list indices|NoneType|object has '
    r'no attribute|KeyError|Traceback')


@pytest.fixture
def broken_env(tmp_path, monkeypatch):
    """Point OSC at ``auth_url`` through a clouds.yaml of its own."""
    for name in list(os.environ):
        if name.startswith('OS_') or name.lower().endswith('_proxy'):
            monkeypatch.delenv(name)

    def use(auth_url):
        path = brokencloud.clouds_yaml(tmp_path / 'clouds.yaml', auth_url)
        monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(path))
        monkeypatch.setenv('OS_CLOUD', 'broken')
    return use


def assert_one_line(code, out, err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert len(lines) == 1, err
    assert not INTERNAL.search(err), err
    # Whatever the cloud sent is escaped: no raw control character.
    assert not re.search(r'[\x00-\x09\x0b-\x1f\x7f]', err), repr(err)
    assert out == ''
    return lines[0]


@pytest.mark.parametrize('command', sorted(COMMANDS))
def test_nothing_listening_is_one_line(broken_env, capsys, command):
    auth_url = brokencloud.dead_auth_url()
    broken_env(auth_url)
    line = assert_one_line(*run(COMMANDS[command][0], capsys))
    assert line.startswith('authenticating failed: cannot reach %s '
                           '(Connection refused)' % auth_url), line
    # keystoneauth's own warning is folded into the line.
    assert 'before that: Failed to discover available identity versions' \
        in line


# Every command authenticates the same way: each breakage once, with
# commands in turn.
@pytest.mark.parametrize('breakage, command', list(zip(
    BODY_BREAKAGES, itertools.cycle(sorted(COMMANDS)))))
def test_a_broken_keystone_is_one_line(broken_env, capsys, command,
                                       breakage):
    with brokencloud.BrokenCloud('identity', breakage) as cloud:
        broken_env(cloud.auth_url)
        line = assert_one_line(*run(COMMANDS[command][0], capsys))
    assert line.startswith('authenticating failed: '), line


def _service_cases():
    """Every breakage for each command's first service after keystone;
    show and delete read flavors as list and server create do, so two
    breakages each do for them."""
    for command, (_, service) in sorted(COMMANDS.items()):
        breakages = (BODY_BREAKAGES if service != 'compute' else
                     list(brokencloud.BREAKAGES))
        if command in ('flavor show', 'flavor delete'):
            breakages = ['html', 'json of another shape']
        for breakage in breakages:
            yield command, breakage


@pytest.mark.parametrize('command, breakage', list(_service_cases()))
def test_a_broken_service_is_one_line_and_nothing_is_written(
        broken_env, capsys, command, breakage):
    argv, service = COMMANDS[command]
    with brokencloud.BrokenCloud(service, breakage) as cloud:
        broken_env(cloud.auth_url)
        assert_one_line(*run(argv, capsys))
    assert cloud.writes() == []


def test_an_html_page_is_described_by_what_answered(broken_env, capsys):
    with brokencloud.BrokenCloud('compute', 'html') as cloud:
        broken_env(cloud.auth_url)
        line = assert_one_line(*run(['gpu', 'flavor', 'list'], capsys))
    assert line.startswith(
        "listing flavors failed: GET '%s/compute/v2.1/flavors/detail"
        % cloud.url), line
    assert "answered HTTP 200 with text/html '<!DOCTYPE html>" in line
    assert line.endswith("check auth_url in clouds.yaml and the endpoints "
                         "in 'openstack catalog list'")


def test_a_terminal_escape_from_the_cloud_is_shown_escaped(broken_env,
                                                           capsys):
    with brokencloud.BrokenCloud('identity', 'not json') as cloud:
        broken_env(cloud.auth_url)
        line = assert_one_line(*run(['gpu', 'flavor', 'list'], capsys))
    assert '\\x1b[31m' in line


def test_a_bad_microversion_is_named(broken_env, capsys):
    with brokencloud.BrokenCloud('compute', 'bad microversion') as cloud:
        broken_env(cloud.auth_url)
        line = assert_one_line(*run(['gpu', 'flavor', 'create', 'gpu.x',
                                     '--gpu', 'P4:1'], capsys))
    assert "gives 'two point ninety', which is not an API version" in line


def test_debug_still_shows_keystoneauths_warnings(broken_env, capsys):
    broken_env(brokencloud.dead_auth_url())
    code, _, err = run(['--debug', 'gpu', 'flavor', 'list'], capsys)
    assert code == 1
    assert re.search(r'^Failed to discover available identity versions',
                     err, re.M), err


def _run_process(argv, auth_url, tmp_path, **popen):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('OS_') and not k.lower().endswith('_proxy')}
    path = brokencloud.clouds_yaml(tmp_path / 'clouds.yaml', auth_url)
    env.update(OS_CLOUD='broken', OS_CLIENT_CONFIG_FILE=str(path))
    return subprocess.Popen([OPENSTACK] + argv, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **popen)


def test_the_real_process_prints_one_line_too(tmp_path):
    """As its own process, where warnings and logging are set up as an
    operator's shell has them (glance's discovery warns twice there)."""
    argv, service = COMMANDS['image prepare']
    with brokencloud.BrokenCloud(service, 'html') as cloud:
        process = _run_process(argv, cloud.auth_url, tmp_path)
        out, err = process.communicate(timeout=60)
    assert_one_line(process.returncode, out, err)
