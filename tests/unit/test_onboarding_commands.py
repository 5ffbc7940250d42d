"""``gpu plan`` and ``gpu apply`` against a cloud faked at the HTTP layer."""

import pathlib
import re

import pytest

from tests.unit import fakecloud
from tests.unit import fakekeystone
from tests.unit import fakeplacement
from tests.unit.fakecloud import run, run_json

EXAMPLE = str(pathlib.Path(__file__).resolve().parents[2] / 'examples'
              / 'onboarding.yaml')
P4 = 'class:CUSTOM_PCI_10DE_1BB3'


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)
    cloud.placement = fakeplacement.FakePlacement(cloud)
    cloud.keystone = fakekeystone.FakeKeystone(cloud)
    cloud.add_image('tiny-raw')
    return cloud


def apply(capsys, *extra, path=EXAMPLE):
    return run(['gpu', 'apply', '-f', path, '--yes'] + list(extra), capsys)


def plan_json(capsys, path=EXAMPLE, *extra):
    return run_json(['gpu', 'plan', '-f', path] + list(extra), capsys)


def test_a_broken_file_is_refused_whole_before_any_request(cloud, capsys,
                                                           tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('version: 1\nname: a\nprojects:\n  - name: p\n'
                    '    quotas: {P4: -2}\n    flavors:\n'
                    '      - {name: f, gpu: "P4:0"}\n')
    code, out, err = run(['gpu', 'apply', '-f', str(path), '--yes'], capsys)
    assert code == 1
    assert err.splitlines() == [
        '%s:5:18: projects[0].quotas.P4: -2 is less than -1' % path,
        "%s:7:24: projects[0].flavors[0].gpu: invalid GPU request 'P4:0': "
        'count must be a whole number from 1 to 64 (e.g. gpu: P4:2)' % path,
        '2 errors in %s: nothing was sent to the cloud' % path]
    assert cloud.requests() == []


def test_plan_lists_every_change_and_exits_2(cloud, capsys):
    code, rows, err = plan_json(capsys)
    assert code == 2, err
    assert cloud.writes() == []
    assert {r['Action'] for r in rows} == {'create', 'update'}
    flavor = next(r for r in rows if r['Name'] == 'example.p4')
    assert {'field': 'access', 'cloud': None,
            'file': 'example-ml-team, example-viz-team'} in flavor['Changes']
    assert err.splitlines()[-1] == (
        'Plan: 13 to create, 1 to update, 0 to replace, 0 to delete, 0 '
        'unchanged')


def test_apply_converges_and_a_second_run_writes_nothing(cloud, capsys):
    code, _, err = apply(capsys)
    assert code == 0, err
    writes = cloud.writes()
    assert [(m, p.rsplit('/', 1)[-1]) for m, p in writes].count(
        ('POST', 'projects')) == 2
    assert len(cloud.flavors) == 4
    shared = next(f for f in cloud.flavors.values()
                  if f['name'] == 'example.p4')
    assert len(cloud.keystone.access[shared['id']]) == 2
    assert sorted(lim['resource_limit'] for lim in
                  cloud.keystone.limits.values()) == [1, 1, 1, 2]

    code, _, err = apply(capsys)
    assert code == 0, err
    assert cloud.writes() == writes        # not one write more
    code, rows, _ = plan_json(capsys)
    assert code == 0
    assert {r['Action'] for r in rows} == {'unchanged'}


def test_hand_made_drift_is_planned_with_both_values(cloud, capsys):
    apply(capsys)
    shared = next(f for f in cloud.flavors.values()
                  if f['name'] == 'example.p4')
    shared['extra_specs']['pci_passthrough:alias'] = 'P4:2'
    cloud.keystone.access[shared['id']].pop()
    limit = next(lim for lim in cloud.keystone.limits.values()
                 if lim['resource_limit'] == 2)
    limit['resource_limit'] = 7
    code, rows, _ = plan_json(capsys)
    assert code == 2
    assert [(r['Resource'], r['Action'], r['Changes']) for r in rows
            if r['Action'] != 'unchanged'] == [
        ('quota', 'update', [{'field': 'resource_limit', 'cloud': '7',
                              'file': '2'}]),
        ('flavor', 'update', [{'field': 'pci_passthrough:alias',
                               'cloud': 'P4:2', 'file': 'P4:1'}]),
        ('flavor access', 'create', [{'field': 'access', 'cloud': None,
                                      'file': 'example-viz-team'}])]
    assert apply(capsys)[0] == 0
    assert plan_json(capsys)[0] == 0


def test_apply_without_yes_off_a_terminal_changes_nothing(cloud, capsys):
    code, _, err = run(['gpu', 'apply', '-f', EXAMPLE], capsys)
    assert code == 1
    assert err.splitlines()[-1] == (
        "14 changes to make: pass --yes to make them without asking (review "
        "them with 'openstack gpu plan -f FILE')")
    assert cloud.writes() == []


def test_a_failed_step_is_finished_by_the_next_run(cloud, capsys):
    cloud.fail_extra_specs()
    code, _, err = apply(capsys)
    assert code == 1
    assert re.search(r"^setting extra specs on flavor 'example.m60' failed "
                     r'\(HTTP 500\).*; 9 of 14 changes were made before it: '
                     r'run apply again to make the rest$',
                     err.splitlines()[-1]), err
    assert cloud.flavors == {}             # the failed flavor was removed
    cloud.mock.post(cloud.compute_path(r'/flavors/[^/]+/os-extra_specs$'),
                    json=cloud._set_specs)
    assert apply(capsys)[0] == 0
    assert len(cloud.flavors) == 4
    assert len(cloud.keystone.projects) == 2
    assert plan_json(capsys)[0] == 0


def test_prune_deletes_what_the_file_made_and_no_longer_names(cloud, capsys,
                                                              tmp_path):
    apply(capsys)
    cloud.add_flavor('theirs', {'osc_gpu:onboarding': 'another-file'})
    empty = tmp_path / 'empty.yaml'
    empty.write_text('version: 1\nname: example-gpu-onboarding\n')
    code, rows, _ = plan_json(capsys, str(empty))
    assert (code, rows) == (0, [])         # without --prune: nothing
    code, _, err = apply(capsys, '--prune', path=str(empty))
    assert code == 0, err
    assert [f['name'] for f in cloud.flavors.values()] == ['theirs']
    assert cloud.keystone.projects == {}
    assert cloud.keystone.limits == {}
    assert cloud.keystone.registered_limits == {}


def test_format_and_file_share_dash_f(cloud, capsys):
    code, out, _ = run(['gpu', 'plan', '-f', 'json', '-f', EXAMPLE,
                        '-c', 'Name'], capsys)
    assert code == 2
    assert out.lstrip().startswith('[')
    code, _, err = run(['gpu', 'plan'], capsys)
    assert (code, err.strip()) == (1, 'give the onboarding file: -f FILE '
                                      '(see examples/onboarding.yaml)')
