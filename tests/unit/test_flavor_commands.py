"""``openstack gpu flavor ...`` run for real against a cloud faked at HTTP."""

import pytest

from tests.unit import fakecloud
from tests.unit.fakecloud import run, run_json


@pytest.fixture
def cloud(requests_mock, tmp_path, monkeypatch):
    return fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch)


def test_create_makes_exactly_two_writes(cloud, capsys):
    code, flavor, _ = run_json(['gpu', 'flavor', 'create', 'gpu.p4',
                                '--gpu', 'P4:2', '--vcpus', '8',
                                '--ram', '16384', '--disk', '40'], capsys)
    assert code == 0
    assert flavor['gpus'] == 'P4:2'
    assert flavor['hide_hypervisor'] is True
    assert flavor['properties'] == {'pci_passthrough:alias': 'P4:2',
                                    'hw:hide_hypervisor_id': 'true'}
    writes = cloud.writes()
    assert [m for m, _ in writes] == ['POST', 'POST']
    assert writes[1][1].endswith('/os-extra_specs')


def test_extra_specs_are_written_at_2_86_so_nova_validates(cloud, capsys):
    run_json(['gpu', 'flavor', 'create', 'gpu.p4', '--gpu', 'P4:1'], capsys)
    specs_post = cloud.requests('POST')[-1]
    assert specs_post.headers['OpenStack-API-Version'] == 'compute 2.86'


def test_older_cloud_gets_its_own_hide_key(requests_mock, tmp_path,
                                           monkeypatch, capsys):
    cloud = fakecloud.FakeCloud(requests_mock, tmp_path, monkeypatch,
                                compute_max_version='2.79')   # Train
    code, flavor, err = run_json(['gpu', 'flavor', 'create', 'gpu.p4',
                                  '--gpu', 'P4:1'], capsys)
    assert code == 0, err
    assert flavor['properties'] == {'pci_passthrough:alias': 'P4:1',
                                    'hide_hypervisor_id': 'true'}
    specs_post = cloud.requests('POST')[-1]
    assert 'compute 2.86' not in specs_post.headers.get(
        'OpenStack-API-Version', '')


@pytest.mark.parametrize('spec', ['P4:0', 'P4:abc', 'P4', ':1', 'P4:1:2',
                                  'P4:-1', 'P4:1,P4:1', 'P4:100000'])
def test_bad_spec_exits_1_with_one_line_and_no_traffic(cloud, capsys, spec):
    code, out, err = run(['gpu', 'flavor', 'create', 'x', '--gpu', spec],
                         capsys)
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and spec.split(',')[0] in lines[0]
    assert 'Traceback' not in err
    assert cloud.requests() == []


def test_bad_number_is_one_line_exit_1(cloud, capsys):
    code, _, err = run(['gpu', 'flavor', 'create', 'x', '--gpu', 'P4:1',
                        '--ram', 'lots'], capsys)
    assert code == 1
    # The program name is argv[0]'s: "openstack" on a real command line.
    assert err.strip().endswith("gpu flavor create: argument --ram: "
                                "'lots' is not a whole number from 1 to "
                                "2147483647 (digits 0-9 only)")
    assert len(err.strip().splitlines()) == 1
    assert cloud.requests() == []


def test_failure_on_extra_specs_leaves_no_flavor(cloud, capsys):
    cloud.fail_extra_specs(status=500)
    code, out, err = run(['gpu', 'flavor', 'create', 'gpu.p4',
                          '--gpu', 'P4:2'], capsys)
    assert code == 1
    assert cloud.flavors == {}
    assert [m for m, _ in cloud.writes()] == ['POST', 'POST', 'DELETE']
    assert "setting extra specs on flavor 'gpu.p4' failed (HTTP 500)" in err
    assert len(err.strip().splitlines()) == 1


def test_or_show_returns_the_same_flavor(cloud, capsys):
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:2',
                                'hw:hide_hypervisor_id': 'true'}, id='f1')
    code, flavor, _ = run_json(['gpu', 'flavor', 'create', 'gpu.p4',
                                '--gpu', 'P4:2', '--or-show'], capsys)
    assert code == 0
    assert flavor['id'] == 'f1'
    assert [m for m, _ in cloud.writes()] == ['POST']   # the refused create


def test_or_show_with_other_specs_says_what_differs(cloud, capsys):
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:1',
                                'hw:hide_hypervisor_id': 'true'})
    code, _, err = run(['gpu', 'flavor', 'create', 'gpu.p4', '--gpu', 'P4:2',
                        '--or-show'], capsys)
    assert code == 1
    assert err.strip() == ("flavor 'gpu.p4' exists with "
                           "pci_passthrough:alias=P4:1, not P4:2 (use another "
                           "name, or delete it first)")


def test_name_taken_without_or_show_is_one_line(cloud, capsys):
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:2'})
    code, _, err = run(['gpu', 'flavor', 'create', 'gpu.p4', '--gpu', 'P4:2'],
                       capsys)
    assert code == 1
    assert err.strip() == ("creating flavor 'gpu.p4' failed (HTTP 409): "
                           "Flavor with name gpu.p4 already exists.")


def test_list_shows_only_gpu_flavors(cloud, capsys):
    cloud.add_flavor('m1.small')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:2',
                                'hw:hide_hypervisor_id': 'true',
                                'hw:pci_numa_affinity_policy': 'preferred'})
    cloud.add_flavor('gpu.t4', {'pci_passthrough:alias': 'T4:1'})
    code, rows, _ = run_json(['gpu', 'flavor', 'list'], capsys)
    assert code == 0
    assert [(r['Name'], r['GPUs'], r['Hide Hypervisor'], r['NUMA Policy'])
            for r in rows] == [('gpu.p4', 'P4:2', True, 'preferred'),
                               ('gpu.t4', 'T4:1', False, '')]
    code, rows, _ = run_json(['gpu', 'flavor', 'list', '--alias', 'T4'],
                             capsys)
    assert [r['Name'] for r in rows] == ['gpu.t4']


def test_show_and_value_format(cloud, capsys):
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:2'})
    code, out, _ = run(['gpu', 'flavor', 'show', 'gpu.p4', '-c', 'gpus',
                        '-f', 'value'], capsys)
    assert (code, out) == (0, 'P4:2\n')


def test_delete_refuses_a_flavor_without_gpus(cloud, capsys):
    cloud.add_flavor('m1.small', id='s1')
    cloud.add_flavor('gpu.p4', {'pci_passthrough:alias': 'P4:2'}, id='g1')
    code, _, err = run(['gpu', 'flavor', 'delete', 'gpu.p4', 'm1.small'],
                       capsys)
    assert code == 1
    assert "flavor 'm1.small' requests no GPU" in err
    assert list(cloud.flavors) == ['s1']


def test_project_needs_private(cloud, capsys):
    code, _, err = run(['gpu', 'flavor', 'create', 'x', '--gpu', 'P4:1',
                        '--project', 'demo'], capsys)
    assert code == 1 and '--project only applies to --private' in err
    assert cloud.requests() == []


def test_password_and_token_never_printed_even_with_debug(cloud, capsys):
    code, out, err = run(['--debug', 'gpu', 'flavor', 'create', 'gpu.p4',
                          '--gpu', 'P4:1'], capsys)
    assert code == 0
    for secret in (fakecloud.PASSWORD, fakecloud.TOKEN):
        assert secret not in out and secret not in err


def test_failed_version_discovery_is_one_line_and_no_flavor(cloud, capsys):
    cloud.mock.get(cloud.compute_url, status_code=503)
    cloud.mock.get(cloud.compute_url + '/', status_code=503)
    cloud.mock.get(cloud.compute_root, status_code=503)
    cloud.mock.get(cloud.compute_root + '/', status_code=503)
    code, _, err = run(['gpu', 'flavor', 'create', 'gpu.p4', '--gpu', 'P4:1'],
                       capsys)
    assert code == 1
    assert err.strip().startswith('reading the compute API version failed')
    assert cloud.writes() == [] and cloud.flavors == {}


def test_or_show_with_an_id_another_flavor_has_is_one_line(cloud, capsys):
    cloud.add_flavor('gpu.other', {'pci_passthrough:alias': 'P4:1'},
                     id='f1')
    before = {k: dict(v) for k, v in cloud.flavors.items()}
    code, out, err = run(['gpu', 'flavor', 'create', 'gpu.p4', '--gpu',
                          'P4:1', '--id', 'f1', '--or-show'], capsys)
    assert (code, out) == (1, '')
    assert err.strip() == ("flavor id 'f1' is taken by flavor 'gpu.other' "
                           "(give another --id, or leave --id out)")
    assert cloud.flavors == before
    assert [m for m, _ in cloud.writes()] == ['POST']   # the refused create
