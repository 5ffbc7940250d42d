import pytest

from osc_gpu.rules import flavor_specs as fs
from osc_gpu.rules import gpu_request as gr
from osc_gpu.rules import releases

P4_2 = (gr.GpuRequest('P4', 2),)


def release(name):
    return releases.RELEASES_BY_NAME[name]


def test_gpu_flavor_specs_on_a_current_cloud():
    specs, notes = fs.gpu_flavor_specs(
        P4_2, True, 'preferred', {'hw:cpu_policy': 'dedicated'},
        release('2026.2 Hibiscus'))
    assert specs == {'pci_passthrough:alias': 'P4:2',
                     'hw:hide_hypervisor_id': 'true',
                     'hw:pci_numa_affinity_policy': 'preferred',
                     'hw:cpu_policy': 'dedicated'}
    assert notes == []


def test_no_hide_leaves_the_key_out():
    specs, _ = fs.gpu_flavor_specs(P4_2, False, None, {}, release('Wallaby'))
    assert specs == {'pci_passthrough:alias': 'P4:2'}


def test_queens_cannot_hide_through_the_flavor_and_says_so():
    specs, notes = fs.gpu_flavor_specs(P4_2, True, None, {}, release('Queens'))
    assert specs == {'pci_passthrough:alias': 'P4:2'}
    assert len(notes) == 1 and 'gpu image prepare' in notes[0]


def test_numa_policy_needs_ussuri():
    with pytest.raises(fs.InvalidExtraSpec, match='needs Ussuri or later'):
        fs.gpu_flavor_specs(P4_2, True, 'required', {}, release('Train'))


def test_socket_policy_needs_wallaby():
    with pytest.raises(fs.InvalidExtraSpec, match='socket needs Wallaby'):
        fs.gpu_flavor_specs(P4_2, True, 'socket', {}, release('Victoria'))
    specs, _ = fs.gpu_flavor_specs(P4_2, True, 'socket', {},
                                   release('Wallaby'))
    assert specs['hw:pci_numa_affinity_policy'] == 'socket'


@pytest.mark.parametrize('key, value, fragment', [
    ('pci_passthrough:alias', 'P4:1', 'with --gpu ALIAS:COUNT'),
    ('hw:hide_hypervisor_id', 'true', 'with --hide-hypervisor'),
    ('hide_hypervisor_id', 'true', 'with --hide-hypervisor'),
    ('hw:pci_numa_affinity_policy', 'required', 'with --numa-policy'),
    ('bad/key', 'x', "invalid flavor property 'bad/key'"),
    ('hw:cpu_policy', 'x' * 256, 'longer than 255'),
])
def test_bad_properties_are_refused(key, value, fragment):
    with pytest.raises(fs.InvalidExtraSpec, match=fragment):
        fs.check_property(key, value)


def test_other_properties_pass():
    fs.check_property('hw:cpu_policy', 'dedicated')
    fs.check_property('trait:CUSTOM_GPU', 'required')
    fs.check_property('custom:anything', 'goes')


@pytest.mark.parametrize('key, value, fragment', [
    # Both passed here and failed later in nova (2.86 validators).
    ('hw:cpu_policy', 'bogus', "'hw:cpu_policy=bogus': use one of "
                               "dedicated, shared, mixed"),
    ('hw:cpu_cores', '0', "'hw:cpu_cores=0': use a whole number of at "
                          "least 1"),
    ('hw:cpu_polcy', 'dedicated', "did you mean 'hw:cpu_policy'"),
    # '$' let a trailing newline through.
    ('hw:cpu_policy\n', 'dedicated', "invalid flavor property "
                                     "'hw:cpu_policy\\\\n'"),
])
def test_values_nova_refuses_are_refused_here(key, value, fragment):
    with pytest.raises(fs.InvalidExtraSpec, match=fragment):
        fs.check_property(key, value)
