"""Unit tests give the same answers with an openrc sourced."""

import os

from tests.unit import fakecloud

# What `source openrc` leaves in an operator's shell.
OPENRC = {'OS_AUTH_URL': 'http://keystone.example:5000/v3',
          'OS_REGION_NAME': 'Nope', 'OS_CLOUD': 'nope',
          'OS_USERNAME': 'u', 'OS_PASSWORD': 'p', 'OS_PROJECT_NAME': 'p',
          'OS_USER_DOMAIN_NAME': 'Default', 'OS_INTERFACE': 'internal'}


def test_no_os_variable_reaches_a_unit_test():
    assert [name for name in os.environ if name.startswith('OS_')] == []


def test_fake_cloud_ignores_a_sourced_openrc(requests_mock, tmp_path,
                                             monkeypatch, capsys):
    for name, value in OPENRC.items():
        monkeypatch.setenv(name, value)
    fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    code, flavor, err = fakecloud.run_json(
        ['gpu', 'flavor', 'create', 'gpu.p4', '--gpu', 'P4:1'], capsys)
    assert code == 0, err
    assert flavor['gpus'] == 'P4:1'
