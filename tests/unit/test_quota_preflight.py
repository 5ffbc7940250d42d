"""The GPU quota preflight of ``gpu server create``: a boot over the
project's limit is refused before anything is created, and nova's own
over-limit refusal names the alias."""

import re

import pytest

from tests.unit import fakecloud
from tests.unit.fakecloud import run
from tests.unit.test_quota_commands import make_cloud

P4 = 'CUSTOM_PCI_10DE_1BB3'


def boot(capsys):
    return run(['gpu', 'server', 'create', 'vm', '--flavor', 'gpu.p4',
                '--image', 'ubuntu', '--nic', 'none'], capsys)


@pytest.fixture
def gpu_cloud(requests_mock, tmp_path, monkeypatch):
    cloud = make_cloud(requests_mock, tmp_path, monkeypatch)
    cloud.add_image('ubuntu')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1',
                                'hw:hide_hypervisor_id': 'true'})
    cloud.placement.add_host('gpu-node-1', gpus=2)
    # The token's project is the one the server is booted in.
    cloud.keystone.projects[fakecloud.PROJECT_ID] = dict(
        cloud.project, id=fakecloud.PROJECT_ID, name='admin')
    return cloud


def test_a_boot_over_quota_is_refused_before_create(gpu_cloud, capsys):
    run(['gpu', 'quota', 'set', 'admin', '--alias', 'P4', '--limit', '1'],
        capsys)
    gpu_cloud.keystone.usages[fakecloud.PROJECT_ID] = {P4: 1}
    code, _, err = boot(capsys)
    assert code == 1
    assert err.strip() == (
        "flavor 'gpu.p4' would take project 'admin' over its GPU quota: P4 "
        '(class:CUSTOM_PCI_10DE_1BB3): limit 1, in use 1, asked 1 (raise it '
        "with 'openstack gpu quota set admin --alias ALIAS --limit N', or "
        'delete servers that hold these GPUs)')
    assert gpu_cloud.servers == {}


def test_a_boot_within_quota_goes_ahead(gpu_cloud, capsys):
    run(['gpu', 'quota', 'set', 'admin', '--alias', 'P4', '--limit', '2'],
        capsys)
    gpu_cloud.keystone.usages[fakecloud.PROJECT_ID] = {P4: 1}
    code, _, err = boot(capsys)
    assert code == 0, err
    assert len(gpu_cloud.servers) == 1


def test_novas_over_limit_refusal_names_the_alias(gpu_cloud, capsys):
    gpu_cloud.mock.post(gpu_cloud.compute_url + '/servers', status_code=403,
                        json={'forbidden': {'code': 403, 'message': (
                            'Project x is over a limit for [Resource '
                            'class:CUSTOM_PCI_10DE_1BB3 is over limit of 1 '
                            'due to current usage 1 and delta 1]')}})
    code, _, err = boot(capsys)
    assert code == 1
    assert err.strip().startswith(
        'GPU quota exceeded: P4 (class:CUSTOM_PCI_10DE_1BB3): limit 1, in '
        'use 1, asked 1 (nova refused')


@pytest.mark.parametrize('status, goes_ahead', [(403, True), (500, False)])
def test_unreadable_limits(gpu_cloud, capsys, status, goes_ahead):
    """A policy refusal leaves the check to nova, with a note; a failing
    keystone stops the boot in one line, before anything is made."""
    gpu_cloud.mock.get(re.compile(re.escape(gpu_cloud.keystone.url)
                                  + r'/registered_limits(\?.*)?$'),
                       status_code=status, json={'error': {
                           'code': status, 'message': 'nope'}})
    code, _, err = boot(capsys)
    if goes_ahead:
        assert code == 0, err
        assert 'note: GPU quota not checked' in err
        assert len(gpu_cloud.servers) == 1
    else:
        assert code == 1
        assert len(err.strip().splitlines()) == 1, err
        assert 'HTTP 500' in err
        assert gpu_cloud.servers == {}
