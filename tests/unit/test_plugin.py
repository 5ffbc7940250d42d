"""The OSC plugin hooks, through the real ``openstack`` shell."""

import pytest

from tests.unit import fakecloud
from tests.unit.fakecloud import run, run_json

REFUSED = ("invalid osc-gpu API version %s (--os-gpu-api-version, "
           "OS_GPU_API_VERSION): valid: 1, or leave it unset")


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)


@pytest.mark.parametrize('version, shown', [
    ('7', "'7'"), ('2.1', "'2.1'"), ('1.5', "'1.5'"), ('1.', "'1.'"),
    ('7\x1b[31m', r"'7\x1b[31m'"),
    ('9' * 100, "'%s...'" % ('9' * 20)),
])
def test_an_unknown_version_is_one_line_and_no_request(cloud, monkeypatch,
                                                       capsys, version,
                                                       shown):
    monkeypatch.setenv('OS_GPU_API_VERSION', version)
    code, out, err = run(['gpu', 'flavor', 'list'], capsys)
    assert (code, out, err) == (1, '', REFUSED % shown + '\n')
    assert cloud.requests() == []


def test_the_option_is_checked_too(cloud, capsys):
    code, _, err = run(['--os-gpu-api-version', '7', 'gpu', 'flavor',
                        'list'], capsys)
    assert (code, err) == (1, REFUSED % "'7'" + '\n')


@pytest.mark.parametrize('version', ['1', '1.0'])
def test_version_1_runs_the_commands_without_a_warning(cloud, monkeypatch,
                                                       capsys, version):
    monkeypatch.setenv('OS_GPU_API_VERSION', version)
    code, flavors, err = run_json(['gpu', 'flavor', 'list'], capsys)
    assert (code, flavors, err) == (0, [], '')


def test_other_commands_are_not_stopped_by_a_bad_gpu_version(
        cloud, monkeypatch, capsys):
    monkeypatch.setenv('OS_GPU_API_VERSION', '7')
    cloud.add_flavor('m1.small')
    code, flavors, err = run_json(['flavor', 'list'], capsys)
    assert (code, [f['Name'] for f in flavors]) == (0, ['m1.small'])
    assert 'osc-gpu' not in err
