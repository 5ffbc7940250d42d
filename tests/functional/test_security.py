"""A project member meets admin-only actions, secrets stay out of every
output, and the host commands write nothing they were not asked to.
"""

import os
import pathlib
import re
import subprocess

import pytest
import yaml

from tests.functional import cli
from tests.functional.cli import unique
from tests.unit.host.fakehost import fixture_root

HOST = pathlib.Path(fixture_root('p4-nvidia'))
# Every fernet token (keystone's default format) starts so once encoded.
FERNET_TOKEN = re.compile(r'gAAAAA[\w-]{20,}')


@pytest.fixture(scope='module')
def member(osc, cloud_env):
    """The CLI as a user with only the member role in a project."""
    name = ('devcloud-member' if cloud_env['devcloud']
            else os.environ.get('OSC_GPU_MEMBER_CLOUD'))
    if not name:
        pytest.skip('set OSC_GPU_MEMBER_CLOUD to a cloud of clouds.yaml '
                    'with a non-admin user (devstack: devstack)')
    return osc.as_cloud(name)


@pytest.fixture
def admin_image(osc, tmp_path):
    """A public image that the admin's project owns."""
    disk = tmp_path / 'disk.raw'
    disk.write_bytes(b'\0' * 1024)
    image = osc.json(['image', 'create', unique('img'), '--public',
                      '--disk-format', 'raw', '--container-format', 'bare',
                      '--file', str(disk)])
    yield image
    osc.run(['image', 'delete', image['id']], check=False)


def test_member_cannot_create_a_gpu_flavor(osc, member):
    name = unique('flavor')
    line = member.fails(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1'])
    assert line.startswith("creating flavor '%s' failed (HTTP 403)" % name)
    assert 'needs the admin role' in line, line
    assert osc.run(['flavor', 'show', name], check=False).returncode == 1


def test_member_cannot_read_gpu_capacity(member):
    line = member.fails(['gpu', 'capacity'])
    assert '(HTTP 403)' in line and 'placement' in line, line
    assert 'needs the admin role' in line, line


def test_member_cannot_prepare_an_image_it_does_not_own(osc, member,
                                                        admin_image):
    name = admin_image['name']
    line = member.fails(['gpu', 'image', 'prepare', name])
    assert line.startswith("setting properties on image '%s' failed "
                           '(HTTP 403)' % name), line
    props = osc.json(['image', 'show', admin_image['id']])['properties']
    assert 'img_hide_hypervisor_id' not in props


def test_member_dry_run_still_shows_what_would_change(member, admin_image):
    """Reading is allowed: only the change needs the owner."""
    result = member.json(['gpu', 'image', 'prepare', admin_image['name'],
                          '--dry-run'])
    assert result['result'] == 'would change'


def _passwords(osc):
    """Every password in the clouds.yaml the tests use."""
    path = osc.env.get('OS_CLIENT_CONFIG_FILE')
    if not path:
        pytest.skip('needs OS_CLIENT_CONFIG_FILE to read the passwords from')
    clouds = yaml.safe_load(pathlib.Path(path).read_text())['clouds']
    found = [c.get('auth', {}).get('password') for c in clouds.values()]
    return [p for p in found if p]


def test_debug_output_never_shows_a_password_or_token(osc, member, tmp_path):
    name = unique('flavor')
    runs = [
        (osc, ['gpu', 'flavor', 'create', name, '--gpu', 'P4:1']),
        (osc, ['gpu', 'flavor', 'show', name]),
        (osc, ['gpu', 'capacity']),
        (osc, ['gpu', 'image', 'prepare', 'tiny-raw', '--dry-run']),
        (osc, ['gpu', 'flavor', 'delete', name]),
        # Refusals print the cloud's answer: it must not carry secrets.
        (member, ['gpu', 'flavor', 'create', name, '--gpu', 'P4:1']),
        (member, ['gpu', 'capacity']),
    ]
    passwords = _passwords(osc)
    assert passwords
    token = osc.run(['token', 'issue', '-f', 'value', '-c', 'id']).stdout
    assert FERNET_TOKEN.match(token.strip()), 'not a fernet token: adapt me'
    for who, args in runs:
        result = who.run(['--debug'] + args, check=False)
        text = result.stdout + result.stderr
        assert 'X-Auth-Token: {SHA256}' in text, 'no token was logged'
        for secret in passwords + [token.strip()]:
            assert secret not in text, args
        assert not FERNET_TOKEN.search(text), FERNET_TOKEN.search(text)[0]
        # keystoneauth logs token headers hashed; never in the clear.
        for header in re.findall(r'X-(?:Auth|Subject)-Token: (\S+)', text):
            assert header.startswith('{SHA256}'), header


def snapshot(folder):
    """Each entry below ``folder``: path -> (size, mtime), links unfollowed."""
    found = {}
    for path in sorted(pathlib.Path(folder).rglob('*')):
        info = path.lstat()
        found[str(path)] = (info.st_size, info.st_mtime_ns)
    return found


@pytest.mark.parametrize('args', [
    ['gpu', 'host', 'check'],
    ['gpu', 'host', 'check', '-f', 'json'],
    ['gpu', 'host', 'config', '--alias-name', 'P4=gpu-p4'],
    ['gpu', 'host', 'config', '-f', 'yaml'],
], ids=' '.join)
def test_host_commands_write_nothing(osc, tmp_path, args):
    """Run from an empty folder, with a home and temp folder of its own."""
    folders = [tmp_path / d for d in ('work', 'home', 'tmp')]
    for folder in folders:
        folder.mkdir()
    work, home, tmp = folders
    env = dict(osc.env, HOME=str(home), TMPDIR=str(tmp))
    # Any openstack command lets stevedore cache the entry points it
    # found in ~/.cache/python-entrypoints: OSC's doing, made beforehand.
    subprocess.run([cli.OPENSTACK, '--version'], cwd=work, env=env,
                   capture_output=True, check=True)
    before = [snapshot(d) for d in [HOST] + folders]
    result = subprocess.run([cli.OPENSTACK] + args + ['--root', str(HOST)],
                            cwd=work, env=env, capture_output=True,
                            text=True)
    assert result.returncode in (0, 1), result.stderr
    assert result.stdout.strip()
    assert [snapshot(d) for d in [HOST] + folders] == before


def test_host_config_writes_only_its_output(osc, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    before = snapshot(HOST)
    result = subprocess.run(
        [cli.OPENSTACK, 'gpu', 'host', 'config', '--root', str(HOST),
         '--output', 'nova-pci.conf'], cwd=work, env=osc.env,
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert list(snapshot(work)) == [str(work / 'nova-pci.conf')]
    assert '[pci]' in (work / 'nova-pci.conf').read_text()
    assert snapshot(HOST) == before
