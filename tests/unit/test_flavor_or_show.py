"""``gpu flavor create --or-show`` compares the whole request; aliases are
checked where clouds.yaml declares them. Real commands, faked cloud."""

import re

import pytest

from tests.unit import fakecloud
from tests.unit.fakecloud import run, run_json

DEMO_ID = 'd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0'
GPU_SPECS = {'pci_passthrough:alias': 'P4:1', 'hw:hide_hypervisor_id': 'true'}


class AccessCloud(fakecloud.FakeCloud):
    """FakeCloud with flavor access and a keystone project 'demo'."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.access = {}     # flavor id -> [project ids]
        flavor = self.compute_path(r'/flavors/([^/?]+)')
        self.mock.get(re.compile(flavor.pattern + '/os-flavor-access$'),
                      json=self._get_access)
        self.mock.post(re.compile(flavor.pattern + '/action$'),
                       json=self._action)
        project = {'id': DEMO_ID, 'name': 'demo', 'domain_id': 'default',
                   'enabled': True}
        projects = re.escape(self.auth_url) + r'/projects'
        self.mock.get(re.compile(projects + r'/demo$'), status_code=404,
                      json={'error': {'code': 404, 'message': 'no'}})
        self.mock.get(re.compile(projects + r'\?.*name=demo'),
                      json={'projects': [project]})
        self.mock.get(re.compile(projects + '/' + DEMO_ID + '$'),
                      json={'project': project})
        self.mock.get(re.compile(projects + r'/gone$'), status_code=404,
                      json={'error': {'code': 404, 'message': 'no'}})

    def _get_access(self, request, context):
        flavor_id = self._flavor_id(request)
        return {'flavor_access': [{'flavor_id': flavor_id, 'tenant_id': p}
                                  for p in self.access.get(flavor_id, [])]}

    def _action(self, request, context):
        tenant = request.json()['addTenantAccess']['tenant']
        self.access.setdefault(self._flavor_id(request), []).append(tenant)
        return {'flavor_access': []}

    def access_reads(self):
        return [r for r in self.requests('GET')
                if r.path.endswith('/os-flavor-access')]


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return AccessCloud(requests_mock, tmp_path, monkeypatch)


def create(*args):
    return ['gpu', 'flavor', 'create', 'gpu.a', '--gpu', 'P4:1'] + list(args)


def test_other_sizes_are_refused_naming_each_one(cloud, capsys):
    assert run_json(create('--ram', '256'), capsys)[0] == 0
    before = dict(cloud.flavors)
    code, out, err = run(create('--ram', '65536', '--vcpus', '16',
                                '--or-show'), capsys)
    assert (code, out) == (1, '')
    assert err.strip() == (
        "flavor 'gpu.a' exists with ram=256, not 65536; vcpus=1, not 16 (use "
        "another name, or delete it first)")
    assert cloud.flavors == before
    # The refused create is the only write of the re-run.
    assert [m for m, _ in cloud.writes()] == ['POST', 'POST', 'POST']


def test_private_with_project_against_a_public_flavor(cloud, capsys):
    run_json(create(), capsys)
    code, _, err = run(create('--private', '--project', 'demo',
                              '--or-show'), capsys)
    assert code == 1
    assert err.strip() == (
        "flavor 'gpu.a' exists with is_public=True, not False (use another "
        "name, or delete it first)")
    assert cloud.access_reads() == []


def test_private_flavor_access_is_compared(cloud, capsys):
    cloud.add_flavor('gpu.a', dict(GPU_SPECS), id='f1',
                     **{'os-flavor-access:is_public': False})
    code, _, err = run(create('--private', '--project', 'demo',
                              '--or-show'), capsys)
    assert code == 1
    assert err.strip() == (
        "flavor 'gpu.a' exists with projects=(none), not demo (use another "
        "name, or delete it first)")
    cloud.access['f1'] = [DEMO_ID]
    code, shown, err = run_json(create('--private', '--project', 'demo',
                                       '--or-show'), capsys)
    assert code == 0, err
    assert shown['id'] == 'f1'
    assert len(cloud.access_reads()) == 2


def test_a_private_rerun_creates_then_shows(cloud, capsys):
    code, first, err = run_json(create('--private', '--project', 'demo',
                                       '--or-show'), capsys)
    assert code == 0, err
    assert cloud.access[first['id']] == [DEMO_ID]
    # Access before the specs: a concurrent --or-show that sees the specs
    # sees the access list complete.
    writes = [p.rsplit('/', 1)[-1] for _, p in cloud.writes()]
    assert writes == ['flavors', 'action', 'os-extra_specs']
    code, again, err = run_json(create('--private', '--project', 'demo',
                                       '--or-show'), capsys)
    assert (code, again['id']) == (0, first['id']), err


def test_identical_rerun_costs_no_access_read(cloud, capsys):
    first = run_json(create('--ram', '512', '--description', 'P4 box'),
                     capsys)[1]
    start = len(cloud.requests())
    code, again, err = run_json(create('--ram', '512', '--description',
                                       'P4 box', '--or-show'), capsys)
    assert (code, again['id']) == (0, first['id']), err
    flavor_calls = [(r.method, r.path.split('/v2.1')[-1])
                    for r in cloud.requests()[start:] if '/flavors' in r.path]
    # The refused create, then the lookup by name (as an id, then a list).
    assert flavor_calls == [('POST', '/flavors'), ('GET', '/flavors/gpu.a'),
                            ('GET', '/flavors/detail')]


def test_private_rerun_reads_the_access_list_once(cloud, capsys):
    run_json(create('--private', '--project', 'demo'), capsys)
    start = len(cloud.requests())
    code, _, err = run_json(create('--private', '--project', 'demo',
                                   '--or-show'), capsys)
    assert code == 0, err
    flavor_calls = [r.path.rsplit('/', 1)[-1]
                    for r in cloud.requests()[start:] if '/flavors' in r.path]
    assert flavor_calls == ['flavors', 'gpu.a', 'detail', 'os-flavor-access']


@pytest.mark.parametrize('args, diff', [
    (['--description', 'new'], 'description=(unset), not new'),
    (['--disk', '20'], 'disk=0, not 20'),
    (['--ephemeral', '5', '--swap', '512'],
     'ephemeral=0, not 5; swap=0, not 512'),
    (['--property', 'hw:cpu_policy=dedicated'],
     'hw:cpu_policy=(unset), not dedicated'),
    (['--no-hide-hypervisor'], 'hw:hide_hypervisor_id=true, not (unset)'),
    (['--numa-policy', 'preferred'],
     'hw:pci_numa_affinity_policy=(unset), not preferred'),
])
def test_every_option_is_compared(cloud, capsys, args, diff):
    run_json(create(), capsys)
    code, _, err = run(create(*args) + ['--or-show'], capsys)
    assert code == 1
    assert err.strip() == ("flavor 'gpu.a' exists with %s (use another "
                           "name, or delete it first)" % diff)


def test_specs_added_since_by_hand_do_not_count(cloud, capsys):
    cloud.add_flavor('gpu.a', dict(GPU_SPECS, **{'trait:X': 'required'}),
                     id='f1')
    code, shown, err = run_json(create('--or-show'), capsys)
    assert (code, shown['id']) == (0, 'f1'), err


# -- aliases ------------------------------------------------------------
def declare_aliases(tmp_path, text='      P4: "10de:1bb3"\n'
                                   '      T4: "10de:1eb8"\n'):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(clouds.read_text() + '    gpu_aliases:\n' + text)


def test_unknown_alias_is_refused_before_any_request(cloud, tmp_path,
                                                     capsys):
    declare_aliases(tmp_path)
    code, out, err = run(['gpu', 'flavor', 'create', 'gpu.x', '--gpu',
                          'NOPE:1'], capsys)
    assert (code, out) == (1, '')
    assert err.strip() == (
        "unknown GPU alias 'NOPE': this cloud's aliases are P4, T4 (from "
        "clouds.yaml gpu_aliases); use one of them, or add the alias to "
        "nova's [pci] alias and to gpu_aliases")
    assert cloud.requests() == []


def test_declared_alias_is_created_without_warning(cloud, tmp_path, capsys):
    declare_aliases(tmp_path)
    code, shown, err = run_json(['gpu', 'flavor', 'create', 'gpu.t4',
                                 '--gpu', 'T4:1'], capsys)
    assert (code, shown['gpus']) == (0, 'T4:1'), err
    assert 'warning' not in err


def test_undeclared_aliases_warn_that_they_cannot_be_checked(cloud, capsys):
    code, shown, err = run_json(['gpu', 'flavor', 'create', 'gpu.x',
                                 '--gpu', 'NOPE:1'], capsys)
    assert (code, shown['gpus']) == (0, 'NOPE:1')
    assert err.strip() == (
        "warning: GPU alias 'NOPE' cannot be checked: nova has no API that "
        "lists its [pci] aliases; declare them under gpu_aliases in this "
        "cloud's clouds.yaml entry (e.g. gpu_aliases: {P4: \"10de:1bb3\"}) "
        "to have them checked")


def test_broken_alias_map_is_one_line_and_no_request(cloud, tmp_path,
                                                     capsys):
    declare_aliases(tmp_path, '      P4: "10de-1bb3"\n')
    code, _, err = run(create(), capsys)
    assert code == 1
    assert err.strip().startswith("clouds.yaml gpu_aliases: alias 'P4' maps "
                                  "to '10de-1bb3'")
    assert cloud.requests() == []


def test_access_list_names_the_projects_the_flavor_has(cloud, capsys):
    cloud.add_flavor('gpu.a', dict(GPU_SPECS), id='f1',
                     **{'os-flavor-access:is_public': False})
    cloud.access['f1'] = [DEMO_ID, 'gone']
    code, _, err = run(create('--private', '--or-show'), capsys)
    assert code == 1
    # Names read for the refusal; a project keystone no longer has keeps
    # its id.
    assert err.strip() == (
        "flavor 'gpu.a' exists with projects=demo, gone, not (none) (use "
        "another name, or delete it first)")
