"""An operator onboards two GPU teams from one file: plan, apply, re-run,
hand-made drift, parallel runs, quotas, and a boot refused over quota."""

import json

import pytest

from tests.functional import faultproxy
from tests.functional import onboarding
from tests.functional.cli import OpenStack
from tests.functional.cli import unique

P4 = 'class:CUSTOM_PCI_10DE_1BB3'
PARALLEL = 3


@pytest.fixture(scope='module')
def sdk(osc):
    return onboarding.connection(osc)


@pytest.fixture
def image(sdk):
    image = onboarding.upload_image(sdk)
    yield image
    sdk.image.delete_image(image, ignore_missing=True)


@pytest.fixture
def teams(osc, sdk, image, tmp_path):
    """The example file under this test's names; all it made is removed."""
    made = onboarding.Onboarding(tmp_path, image.name)
    yield made
    made.remove(osc, sdk)


@pytest.fixture
def proxied(osc):
    with faultproxy.FaultProxy() as proxy:
        through = OpenStack({})
        through.env = proxy.env(osc.env)
        yield through, proxy


def cloud_state(sdk, teams):
    """What the file governs, as the cloud has it (ids included, so a
    re-made resource would show)."""
    projects = {name: sdk.identity.find_project(name, domain_id='default')
                for name in teams.projects}
    flavors = {}
    for name in teams.flavors:
        flavor = sdk.compute.find_flavor(name, get_extra_specs=True)
        access = [] if flavor.is_public else sorted(
            a['tenant_id'] for a in sdk.compute.get_flavor_access(flavor))
        flavors[name] = (flavor.id, flavor.is_public, flavor.ram,
                         flavor.extra_specs, access)
    limits = sorted((lim.project_id, lim.resource_name, lim.resource_limit)
                    for p in projects.values()
                    for lim in sdk.identity.limits(project_id=p.id))
    return ({n: (p.id, p.description, p.is_enabled)
             for n, p in projects.items()}, flavors, limits)


def test_plan_apply_round_trip_then_a_rerun_writes_nothing(
        osc, sdk, teams, image, proxied):
    code, rows = teams.plan(osc)
    assert code == 2
    # Default limits may exist already (cloud-wide, shared): not checked.
    assert {r['Action'] for r in rows if r['Resource'] in (
        'project', 'quota', 'flavor')} == {'create'}
    applied = teams.apply(osc)
    assert applied.returncode == 0, applied.stderr

    projects, flavors, limits = cloud_state(sdk, teams)
    ml, viz = (projects[n][0] for n in teams.projects)
    assert projects[teams.projects[0]][1].startswith('Machine learning')
    p4 = flavors[teams.prefix + '.p4']
    assert (p4[1], p4[4]) == (False, sorted([ml, viz]))
    assert p4[3]['pci_passthrough:alias'] == 'P4:1'
    assert p4[3][onboarding.MARK_SPEC] == teams.name
    assert flavors[teams.prefix + '.m60'][1] is True
    assert (ml, P4, 2) in limits and (viz, P4, 1) in limits
    assert sdk.image.get_image(image.id).properties.get(
        'img_hide_hypervisor_id') == 'true'

    assert teams.plan(osc)[0] == 0
    before = cloud_state(sdk, teams)
    cli, proxy = proxied
    proxy.reset()
    again = teams.apply(cli)
    assert again.returncode == 0, again.stderr
    assert proxy.writes == []
    assert {r['Action'] for r in json.loads(again.stdout)} == {'unchanged'}
    assert cloud_state(sdk, teams) == before


def test_hand_made_drift_is_shown_with_both_values(osc, sdk, teams, image):
    teams.apply(osc)
    p4, t4 = teams.prefix + '.p4', teams.prefix + '.t4'
    ml, viz = teams.projects
    osc.run(['flavor', 'set', '--property', 'pci_passthrough:alias=P4:2',
             p4])
    osc.run(['flavor', 'unset', '--project', viz, t4])
    [limit] = osc.json(['limit', 'list', '--project', ml,
                        '--resource-name', P4])
    osc.run(['limit', 'set', '--resource-limit', '5', limit['ID']])
    osc.run(['image', 'unset', '--property', 'img_hide_hypervisor_id',
             image.id])
    code, rows = teams.plan(osc)
    assert code == 2
    drift = {(r['Resource'], r['Name']): r['Changes'] for r in rows
             if r['Action'] != 'unchanged'}
    assert drift == {
        ('quota', '%s: P4 (%s)' % (ml, P4)): [
            {'field': 'resource_limit', 'cloud': '5', 'file': '2'}],
        ('flavor', p4): [{'field': 'pci_passthrough:alias', 'cloud': 'P4:2',
                          'file': 'P4:1'}],
        ('flavor access', '%s: %s' % (t4, viz)): [
            {'field': 'access', 'cloud': None, 'file': viz}],
        ('image', image.name): [{'field': 'img_hide_hypervisor_id',
                                 'cloud': None, 'file': 'true'}]}
    assert teams.apply(osc).returncode == 0
    assert teams.plan(osc)[0] == 0


def test_parallel_applies_end_as_one(osc, sdk, teams, tmp_path):
    runs = [osc.start(['gpu', 'apply', '-f', str(teams.path), '--yes'])
            for _ in range(PARALLEL)]
    results = [run.communicate(timeout=300) + (run.returncode,)
               for run in runs]
    assert [code for _, _, code in results] == [0] * PARALLEL, [
        err for _, err, code in results if code]
    assert teams.plan(osc)[0] == 0
    projects, flavors, limits = cloud_state(sdk, teams)
    assert len(limits) == 4
    assert len({f[0] for f in flavors.values()}) == 4
    # One more apply, alone, finds nothing to do either.
    again = teams.apply(osc)
    assert {r['Action'] for r in json.loads(again.stdout)} == {'unchanged'}


def test_prune_removes_a_dropped_project_and_its_flavor(osc, sdk, teams):
    teams.apply(osc)
    viz = teams.projects[1]
    text = teams.path.read_text()
    dropped = teams.path.with_name(teams.prefix + '-dropped.yaml')
    dropped.write_text(text[:text.index('  - name: %s' % viz)])
    code, rows = teams.plan(osc, '--prune', path=str(dropped))
    assert code == 2
    deleted = sorted((r['Resource'], r['Name']) for r in rows
                     if r['Action'] == 'delete')
    assert deleted == sorted([
        ('flavor', teams.prefix + '.t4'),
        ('flavor access', '%s.p4: %s' % (teams.prefix, viz)),
        ('project', viz),
        ('quota', '%s: %s' % (viz, P4)),
        ('quota', '%s: class:CUSTOM_PCI_10DE_1EB8' % viz)])
    osc.run(['gpu', 'apply', '-f', str(dropped), '--prune', '--yes'])
    assert sdk.identity.find_project(viz, domain_id='default',
                                     ignore_missing=True) is None
    assert sdk.compute.find_flavor(teams.prefix + '.t4',
                                   ignore_missing=True) is None
    assert sdk.identity.find_project(teams.projects[0], domain_id='default',
                                     ignore_missing=True) is not None


def test_a_broken_file_sends_nothing(osc, teams, proxied):
    bad = teams.edited('gpu: P4:2', 'gpu: P4:0')
    cli, proxy = proxied
    proxy.reset()
    result = cli.run(['gpu', 'plan', '-f', bad], check=False)
    assert result.returncode == 1
    assert proxy.requests == []
    lines = result.stderr.splitlines()
    assert lines[0].startswith(bad + ':')
    assert "invalid GPU request 'P4:0'" in lines[0]
    assert lines[-1] == '1 error in %s: nothing was sent to the cloud' % bad


# -- quotas ---------------------------------------------------------------

def nova_uses_unified_limits(sdk):
    return any(r.resource_name == 'servers'
               for r in sdk.identity.registered_limits())


def test_quota_set_show_and_list(osc, sdk, teams):
    teams.apply(osc)
    ml = teams.projects[0]
    args = ['gpu', 'quota', 'set', ml, '--alias', 'T4', '--limit', '3']
    if not nova_uses_unified_limits(sdk):
        line = osc.fails(args)
        assert line.startswith('nova does not use unified limits')
        args.append('--allow-unenforced')
    shown = osc.json(args)
    assert (shown['resource_name'], shown['limit']) == (
        'class:CUSTOM_PCI_10DE_1EB8', '3')
    rows = {r['Resource']: r for r in osc.json(['gpu', 'quota', 'show', ml])}
    assert (rows['P4']['Limit'], rows['P4']['Source']) == ('2', 'project')
    assert rows['T4']['Limit'] == '3'
    assert rows['P4']['In Use'] == 0
    assert isinstance(rows['P4']['Free In Cloud'], int)
    listed = osc.json(['gpu', 'quota', 'list', '--project', ml])
    assert sorted((r['Resource'], r['Limit']) for r in listed
                  if r['Project'] == ml) == [('P4', '2'), ('T4', '3')]
    # The file says T4: 1: the hand-made 3 is drift.
    assert teams.plan(osc)[0] == 2


def as_team(osc, teams):
    """The CLI as the admin user, scoped to the first team's project (with
    the admin role there: the capacity preflight reads placement, which
    a member may not)."""
    ml = teams.projects[0]
    osc.run(['role', 'add', '--user', 'admin', '--user-domain', 'Default',
             '--project', ml, '--project-domain', 'Default', 'admin'])
    cli = OpenStack({})
    cli.env = dict(osc.env, OS_PROJECT_NAME=ml,
                   OS_PROJECT_DOMAIN_NAME='Default')
    return cli


def boot_args(teams):
    return ['server', 'create', unique('vm'), '--flavor',
            teams.prefix + '.p4', '--image', teams.image, '--nic', 'none']


def test_a_boot_over_quota_is_refused_by_the_preflight(osc, sdk, teams):
    teams.path.write_text(teams.path.read_text().replace(
        '      P4: 2  ', '      P4: 0  '))
    teams.apply(osc)
    cli = as_team(osc, teams)
    line = cli.fails(['gpu'] + boot_args(teams))
    assert line == (
        "flavor '%s.p4' would take project '%s' over its GPU quota: P4 "
        '(%s): limit 0, in use 0, asked 1 (raise it with \'openstack gpu '
        "quota set %s --alias ALIAS --limit N', or delete servers that hold "
        'these GPUs)' % (teams.prefix, teams.projects[0], P4,
                         teams.projects[0]))


def test_nova_refuses_the_same_boot_when_it_enforces(osc, sdk, teams):
    if not nova_uses_unified_limits(sdk):
        pytest.skip("nova does not use unified limits here (no registered "
                    "limit 'servers' for the compute service): nothing but "
                    "osc-gpu's preflight enforces GPU quotas")
    teams.path.write_text(teams.path.read_text().replace(
        '      P4: 2  ', '      P4: 0  '))
    teams.apply(osc)
    cli = as_team(osc, teams)
    result = cli.run(boot_args(teams), check=False)
    assert result.returncode == 1
    assert 'is over a limit for' in result.stderr
    assert 'class:CUSTOM_PCI_10DE_1BB3 is over limit of 0' in result.stderr
