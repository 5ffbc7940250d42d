"""Functional tests: the real ``openstack`` CLI against a real cloud.

The cloud is the one ``OS_CLOUD`` names (devstack in a gate), else the
project's local cloud from ``tools/devcloud`` when it is up. With neither,
every test here is skipped with one message saying how to get a cloud.
"""

import os
import pathlib
import shlex
import subprocess

import pytest

from tests.functional import cli

REPO = pathlib.Path(__file__).resolve().parents[2]
DEVCLOUD = REPO / 'tools' / 'devcloud'


def _devcloud_env():
    """``tools/devcloud env`` as a dict, or None when that cloud is down."""
    if not DEVCLOUD.exists():
        return None
    status = subprocess.run([str(DEVCLOUD), 'status'], capture_output=True,
                            text=True)
    if status.returncode != 0:
        return None
    out = subprocess.run([str(DEVCLOUD), 'env'], capture_output=True,
                         text=True, check=True).stdout
    env = {}
    for line in out.splitlines():
        words = shlex.split(line)
        if words[:1] == ['export'] and '=' in words[1]:
            key, _, value = words[1].partition('=')
            env[key] = value
    return env


@pytest.fixture(scope='session')
def cloud_env():
    if os.environ.get('OS_CLOUD'):
        return {'OS_CLOUD': os.environ['OS_CLOUD'], 'devcloud': False}
    env = _devcloud_env()
    if env is None:
        pytest.skip('no cloud for functional tests: run `tools/devcloud up` '
                    '(or `make test`, which starts it), or set OS_CLOUD')
    return dict(env, devcloud=True)


@pytest.fixture(scope='session')
def osc(cloud_env):
    return cli.OpenStack({k: v for k, v in cloud_env.items()
                          if k != 'devcloud'})


@pytest.fixture(scope='session')
def devcloud(cloud_env):
    """Tests that need the local cloud's known GPU layout use this."""
    if not cloud_env['devcloud']:
        pytest.skip('needs the local cloud (tools/devcloud): its GPU nodes '
                    'and domain XML are known there')
    return cli.DevCloud(DEVCLOUD)


@pytest.fixture
def cleanup(osc):
    """Register ('server'|'flavor'|'image'|'server group', id) to delete
    after the test."""
    resources = []
    yield resources
    for kind, ident in reversed(resources):
        osc.run(kind.split() + ['delete', ident] + (
            ['--wait'] if kind == 'server' else []), check=False)
