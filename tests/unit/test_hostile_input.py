"""Hostile values on the command line: one line naming the value (escaped),
exit 1, and no request at all for what nova or glance would refuse.

The rules themselves are tested against nova's verdicts in
``rules/test_inputs.py``; here every command applies them before it
authenticates, and ``--help`` fits 80 columns.
"""

import importlib.metadata
import re

import pytest

from tests.unit import fakecloud
from tests.unit.fakecloud import run

FLAVOR = ['gpu', 'flavor', 'create']
SERVER = ['gpu', 'server', 'create']
BOOT = ['--flavor', 'gpu.p4', '--image', 'ubuntu', '--nic', 'none']


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)


def refused(cloud, capsys, argv):
    """Run ``argv``; the one stderr line, after checking the rest."""
    code, out, err = run(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert len(lines) == 1, err
    assert 'Traceback' not in err
    assert not re.search(r'[\x00-\x09\x0b-\x1f\x7f\x85\u2028]', err), err
    assert cloud.requests() == [], 'a request left the client'
    return lines[0]


@pytest.mark.parametrize('argv, shown', [
    (FLAVOR + ['x', '--gpu', 'P\n4:1'], r"'P\n4:1'"),
    (FLAVOR + ['x', '--gpu', 'P4:1\x1b[2J'], r'\x1b[2J'),
    (FLAVOR + ['x', '--gpu', 'P4:1', '--property', 'hw:cpu_policy=a\nb'],
     r'a\nb'),
])
def test_values_echoed_in_errors_are_escaped(cloud, capsys, argv, shown):
    assert shown in refused(cloud, capsys, argv)


# Every value for one option; one value for each of the others (the rule
# is one table, tested value by value in rules/test_inputs.py).
@pytest.mark.parametrize('option, value', [('--ram', v) for v in (
    '1_000', '\uff11', '2147483648', '99999999999999999999', '-1', '+1',
    ' 1', '1.5', '')] + [('--vcpus', '0'), ('--disk', '2147483648'),
                         ('--ephemeral', '1_0'), ('--swap', '\uff10')])
def test_sizes_are_ascii_digits_within_nova_bounds(cloud, capsys, option,
                                                   value):
    line = refused(cloud, capsys, FLAVOR + ['x', '--gpu', 'P4:1', option,
                                            value])
    assert 'argument %s: ' % option in line
    assert 'is not a whole number from' in line


@pytest.mark.parametrize('name, problem', [
    ('', 'it is empty'),
    ('   ', 'it is blank'),
    (' gpu.p4', 'it starts or ends with a space'),
    ('g' * 256, 'it has 256 characters'),
    ('gpu\np4', 'control character U+000A'),
    ('gpu\x1b[2Jp4', 'control character U+001B'),
    ('gpu\u2028p4', 'control character U+2028'),
])
def test_flavor_and_server_names_nova_refuses(cloud, capsys, name,
                                              problem):
    for argv, what in ((FLAVOR + [name, '--gpu', 'P4:1'], 'flavor name'),
                       (SERVER + [name] + BOOT, 'server name')):
        line = refused(cloud, capsys, argv)
        assert 'invalid %s ' % what in line and problem in line, line


@pytest.mark.parametrize('flavor_id', ['a/b', ' x', 'x ', 'x\n', 'é', '',
                                       'i' * 256, '../flavors'])
def test_odd_flavor_ids(cloud, capsys, flavor_id):
    line = refused(cloud, capsys, FLAVOR + ['x', '--gpu', 'P4:1', '--id',
                                            flavor_id])
    assert 'invalid flavor ID' in line


@pytest.mark.parametrize('description, problem', [
    ('d' * 70000, 'it has 70000 characters'),
    ('first\nsecond', 'control character U+000A'),
])
def test_descriptions_nova_refuses(cloud, capsys, description, problem):
    line = refused(cloud, capsys, FLAVOR + ['x', '--gpu', 'P4:1',
                                            '--description', description])
    assert problem in line
    assert len(line) < 300


@pytest.mark.parametrize('argv', [
    SERVER + ['vm', '--flavor', '', '--image', 'ubuntu'],
    SERVER + ['vm', '--flavor', 'gpu.p4', '--image', ''],
    SERVER + ['vm', '--flavor', 'a\nb', '--image', 'ubuntu'],
    SERVER + ['vm', '--flavor', 'gpu.p4', '--image', 'i' * 256],
    ['gpu', 'flavor', 'show', ''],
    ['gpu', 'flavor', 'delete', 'gpu.p4', ''],
    ['gpu', 'image', 'prepare', ''],
    FLAVOR + ['x', '--gpu', 'P4:1', '--private', '--project', ''],
])
def test_empty_or_impossible_references_are_not_looked_up(cloud, capsys,
                                                          argv):
    assert 'invalid' in refused(cloud, capsys, argv)


@pytest.mark.parametrize('timeout', ['nan', 'inf', '0', '-5',
                                     '0.0', '1e3', '1_0', ''])
def test_wait_timeout_must_be_positive_and_finite(cloud, capsys, timeout):
    line = refused(cloud, capsys, SERVER + ['vm'] + BOOT + [
        '--wait', '--wait-timeout', timeout])
    assert 'argument --wait-timeout: ' in line
    assert 'is not a number of seconds greater than 0' in line


@pytest.mark.parametrize('options, fragment', [
    (['--nic', 'port-id=abc'], "invalid --nic 'port-id=abc'"),
    (['--nic', 'net-id=\n'], r"invalid --nic 'net-id=\n'"),
    (['--property', 'a/b=1'], "--property: invalid metadata key 'a/b'"),
    (['--property', 'k=' + 'v' * 256], 'invalid metadata value'),
    (['--key-name', 'k\tx'], 'invalid key pair name'),
    (['--security-group', ''], 'invalid security group'),
    (['--availability-zone', ' az'], 'invalid availability zone'),
    (['--network', ''], 'invalid network'),
])
def test_other_server_options_nova_refuses(cloud, capsys, options,
                                           fragment):
    argv = SERVER + ['vm', '--flavor', 'gpu.p4', '--image', 'ubuntu']
    assert fragment in refused(cloud, capsys, argv + options)


def test_oversized_user_data_is_refused_before_any_request(cloud, capsys,
                                                           tmp_path):
    user_data = tmp_path / 'cloud-init'
    user_data.write_bytes(b'#' * 50000)
    line = refused(cloud, capsys, SERVER + ['vm'] + BOOT + [
        '--user-data', str(user_data)])
    assert 'is too big: 66668 characters in base64' in line


def _gpu_commands():
    for entry in importlib.metadata.entry_points(group='openstack.gpu.v1'):
        yield entry.name.split('_')


@pytest.mark.parametrize('words', list(_gpu_commands()),
                         ids=' '.join)
def test_help_fits_80_columns(cloud, capsys, monkeypatch, words):
    monkeypatch.setenv('COLUMNS', '80')
    code, out, err = run(words + ['--help'], capsys)
    assert code == 0, err
    wide = [line for line in out.splitlines() if len(line) > 80]
    assert wide == []


def test_a_usage_line_argparse_cannot_break_is_broken_at_a_space(
        monkeypatch):
    import argparse

    from osc_gpu.v1 import base

    monkeypatch.setenv('COLUMNS', '80')
    parser = base.one_line_errors(argparse.ArgumentParser(
        prog='openstack gpu something long'))
    group = parser.add_mutually_exclusive_group(required=True)
    for option in ('--alias', '--vgpu', '--class'):
        group.add_argument(option, metavar='<a-rather-long-metavar>')
    usage = parser.format_usage().splitlines()
    assert max(len(line) for line in usage) <= 80
    assert usage[-1].strip() == '--class <a-rather-long-metavar>)'


def test_a_flavor_without_a_name_from_the_cloud_is_listed(cloud, capsys):
    cloud.add_flavor(None, {'pci_passthrough:alias': 'P4:1'})
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1'})
    code, out, err = run(['gpu', 'flavor', 'list', '-f', 'value',
                          '-c', 'Name'], capsys)
    assert (code, out, err) == (0, 'None\ngpu.p4\n', '')


def test_an_unexpected_error_is_one_line_without_its_text(cloud, capsys,
                                                          monkeypatch):
    from osc_gpu.cloud import adapter

    def broken(self):
        raise RuntimeError('internal detail\nsecond line')
    monkeypatch.setattr(adapter.GpuCloud, 'flavors', broken)
    code, _, err = run(['gpu', 'flavor', 'list'], capsys)
    assert (code, err) == (1, 'gpu flavor list failed unexpectedly '
                              '(RuntimeError): run it again with --debug '
                              'for the details\n')
    code, _, err = run(['--debug', 'gpu', 'flavor', 'list'], capsys)
    assert code == 1 and 'Traceback' in err and 'internal detail' in err
