"""``gpu quota set|show|list`` against a cloud faked at the HTTP layer."""

import pytest

from tests.unit import fakecloud
from tests.unit import fakekeystone
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

P4 = 'CUSTOM_PCI_10DE_1BB3'
UNIFIED = '--allow-unenforced'


def make_cloud(requests_mock, tmp_path, monkeypatch, version='2.104',
               unified=True):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch,
                                compute_max_version=version)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.keystone = fakekeystone.FakeKeystone(cloud)
    cloud.project = cloud.keystone.add_project('ml')
    if unified:
        service = cloud.keystone.compute_service_id()
        cloud.keystone.add_limit(
            'registered_limits', service_id=service, region_id='RegionOne',
            resource_name='servers', default_limit=10)
    return cloud


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return make_cloud(requests_mock, tmp_path, monkeypatch)


def limits(cloud):
    return sorted((lim.get('project_id', ''), lim['resource_name'],
                   lim.get('resource_limit', lim.get('default_limit')))
                  for lim in list(cloud.keystone.limits.values())
                  + list(cloud.keystone.registered_limits.values()))


def test_set_registers_a_default_then_sets_and_updates_the_limit(cloud,
                                                                 capsys):
    code, shown, err = run_json(['gpu', 'quota', 'set', 'ml', '--alias', 'P4',
                                 '--limit', '2'], capsys)
    assert code == 0, err
    assert shown == {'project': 'ml', 'resource': 'P4',
                     'resource_name': 'class:' + P4, 'limit': '2',
                     'enforced': True}
    assert 'registered a default of -1 (unlimited)' in err
    pid = cloud.project['id']
    assert limits(cloud) == [('', 'class:' + P4, -1), ('', 'servers', 10),
                             (pid, 'class:' + P4, 2)]
    code, _, err = run(['gpu', 'quota', 'set', 'ml', '--alias', 'P4',
                        '--limit', 'unlimited'], capsys)
    assert code == 0, err
    assert (pid, 'class:' + P4, -1) in limits(cloud)


def test_set_refuses_a_limit_nova_would_not_enforce(requests_mock, tmp_path,
                                                    monkeypatch, capsys):
    cloud = make_cloud(requests_mock, tmp_path, monkeypatch, unified=False)
    code, _, err = run(['gpu', 'quota', 'set', 'ml', '--alias', 'P4',
                        '--limit', '2'], capsys)
    assert code == 1
    assert err.strip().startswith(
        "nova does not use unified limits (no registered limit 'servers' for "
        'the compute service)')
    assert err.strip().endswith('; pass --allow-unenforced to store the '
                                'limit anyway')
    assert cloud.writes() == []
    code, shown, err = run_json(['gpu', 'quota', 'set', 'ml', '--alias', 'P4',
                                 '--limit', '2', UNIFIED], capsys)
    assert (code, shown['enforced']) == (0, False)
    assert err.startswith('warning: nova does not use unified limits')


def test_set_names_the_release_that_counts_alias_gpus(requests_mock,
                                                      tmp_path, monkeypatch,
                                                      capsys):
    make_cloud(requests_mock, tmp_path, monkeypatch, version='2.103')
    code, _, err = run(['gpu', 'quota', 'set', 'ml', '--alias', 'P4',
                        '--limit', '2'], capsys)
    assert code == 1
    assert err.strip().startswith(
        '2026.1 Gazpacho (nova 33) does not count pci_passthrough:alias GPUs '
        '(P4) against unified limits; 2026.2 Hibiscus (nova 34) and later '
        'do')
    code, _, err = run(['gpu', 'quota', 'set', 'ml', '--vgpu', 'nvidia-36',
                        '--limit', '2'], capsys)
    assert code == 0, err


@pytest.mark.parametrize('args, line', [
    (['--alias', 'A100', '--limit', '1'], "GPU alias 'A100' stands for 3 "),
    (['--alias', 'P4', '--limit', 'lots'], "invalid limit 'lots'"),
    (['--class', 'MEMORY_MB', '--limit', '1'],
     "'MEMORY_MB' is not a GPU resource class"),
])
def test_bad_input_is_refused_before_any_request(cloud, capsys, args, line):
    before = len(cloud.requests())
    code, _, err = run(['gpu', 'quota', 'set', 'ml'] + args, capsys)
    assert (code, err.strip()[:len(line)]) == (1, line)
    assert len(cloud.requests()) == before


def test_show_joins_limits_usage_and_what_is_free(cloud, capsys):
    cloud.placement.add_host('gpu-node-1', gpus=2, used=1)
    run(['gpu', 'quota', 'set', 'ml', '--alias', 'P4', '--limit', '3'],
        capsys)
    cloud.keystone.usages[cloud.project['id']] = {P4: 1, 'VCPU': 2}
    code, rows, err = run_json(['gpu', 'quota', 'show', 'ml'], capsys)
    assert code == 0, err
    assert rows == [{'Resource': 'P4', 'Class': P4, 'Limit': '3',
                     'Source': 'project', 'In Use': 1, 'Left': 2,
                     'Free In Cloud': 1}]


def test_list_shows_defaults_then_projects(cloud, capsys):
    run(['gpu', 'quota', 'set', 'ml', '--alias', 'P4', '--limit', '3'],
        capsys)
    code, rows, err = run_json(['gpu', 'quota', 'list'], capsys)
    assert code == 0, err
    assert rows == [
        {'Project': '(default)', 'Resource': 'P4', 'Class': P4,
         'Limit': 'unlimited'},
        {'Project': 'ml', 'Resource': 'P4', 'Class': P4, 'Limit': '3'}]
