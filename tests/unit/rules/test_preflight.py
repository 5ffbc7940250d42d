import types

import pytest

from osc_gpu.rules import aliases
from osc_gpu.rules import capacity
from osc_gpu.rules import gpu_request as gr
from osc_gpu.rules import preflight as pf
from osc_gpu.rules import releases

HIBISCUS = releases.RELEASES_BY_NAME['Hibiscus']
P4 = 'CUSTOM_PCI_10DE_1BB3'
T4 = 'CUSTOM_PCI_10DE_1EB8'


def flavor(specs, name='gpu.p4'):
    return types.SimpleNamespace(name=name, extra_specs=specs)


def checks_for(spec):
    return pf.Preflight(gr.parse_gpu_requests(spec))


def test_flavor_without_gpus_is_refused_with_the_fix():
    with pytest.raises(pf.PreflightError, match="flavor 'm1' requests no GPU"
                       ".*openstack gpu flavor create"):
        pf.gpu_requests_of('m1', {'hw:cpu_policy': 'dedicated'})


def test_hand_broken_alias_spec_is_named():
    with pytest.raises(pf.PreflightError, match="'P4:abc'"):
        pf.gpu_requests_of('bad', {'pci_passthrough:alias': 'P4:abc'})


@pytest.mark.parametrize('specs, image, release, source', [
    ({'hw:hide_hypervisor_id': 'true'}, {}, 'Hibiscus',
     'flavor hw:hide_hypervisor_id'),
    ({'hide_hypervisor_id': 'yes'}, {}, 'Rocky', 'flavor hide_hypervisor_id'),
    ({}, {'img_hide_hypervisor_id': 'true'}, 'Pike',
     'image img_hide_hypervisor_id'),
    ({'hw:hide_hypervisor_id': 'true'}, {'img_hide_hypervisor_id': 'true'},
     'Queens', 'image img_hide_hypervisor_id'),
])
def test_hiding_source_per_release(specs, image, release, source):
    found, _ = pf.hiding_source(specs, image,
                                releases.RELEASES_BY_NAME[release])
    assert found == source


def test_unprepared_image_is_refused_with_the_exact_fix():
    with pytest.raises(pf.PreflightError) as err:
        pf.check_hiding(checks_for('P4:1'), flavor({}), 'ubuntu-24.04', {},
                        HIBISCUS, prepare_image=False, visible_ok=False)
    assert str(err.value).startswith(
        "image 'ubuntu-24.04' does not hide the hypervisor: run 'openstack "
        "gpu image prepare ubuntu-24.04' or pass --prepare-image")


def test_prepare_image_fixes_it_in_the_same_step():
    checks = checks_for('P4:1')
    pf.check_hiding(checks, flavor({}), 'img', {}, HIBISCUS, True, False)
    assert checks.needs_image_prepare
    assert checks.hidden_by == 'image img_hide_hypervisor_id'


def test_flavor_key_ignored_on_queens_is_explained():
    queens = releases.RELEASES_BY_NAME['Queens']
    with pytest.raises(pf.PreflightError,
                       match=r'is flavor hide_hypervisor_id \(honoured from '
                             r'Rocky on\) ignored on Queens'):
        pf.check_hiding(checks_for('P4:1'),
                        flavor({'hide_hypervisor_id': 'true'}), 'img', {},
                        queens, False, False)


def test_before_pike_the_xml_workaround_is_printed():
    ocata = releases.RELEASES_BY_NAME['Ocata']
    with pytest.raises(pf.PreflightError,
                       match=r"<kvm><hidden state='on'/></kvm>"):
        pf.check_hiding(checks_for('P4:1'), flavor({}), 'img',
                        {'img_hide_hypervisor_id': 'true'}, ocata, True, False)


def test_visible_hypervisor_skips_the_rule():
    pf.check_hiding(checks_for('MI100:1'), flavor({}), 'img', {}, HIBISCUS,
                    False, True)


def free(by_class, disabled=None):
    return capacity.Availability(by_class, disabled or {})


def test_capacity_enough_on_one_host():
    checks = checks_for('P4:2')
    pf.check_capacity(checks, 'gpu.p4', aliases.AliasMap(),
                      free({P4: {'gpu-node-1': 2, 'gpu-node-2': 0}}))
    assert checks.notes == []


def test_over_ask_lists_free_counts_per_host():
    with pytest.raises(pf.PreflightError) as err:
        pf.check_capacity(checks_for('P4:3'), 'gpu.p4x3', aliases.AliasMap(),
                          free({P4: {'gpu-node-1': 2, 'gpu-node-3': 1}}))
    assert str(err.value) == (
        "not enough free GPUs for flavor 'gpu.p4x3' (P4:3) on any one host: "
        "free P4 per host: gpu-node-1 2, gpu-node-3 1 (wait for GPUs to be "
        "released, or ask for fewer)")


def test_two_aliases_must_fit_on_the_same_host():
    by_class = {P4: {'a': 1, 'b': 0}, T4: {'a': 0, 'b': 1}}
    with pytest.raises(pf.PreflightError, match='free P4 per host: a 1, b 0;'
                       ' free T4 per host: a 0, b 1'):
        pf.check_capacity(checks_for('P4:1,T4:1'), 'f', aliases.AliasMap(),
                          free(by_class))
    by_class[T4]['a'] = 1
    pf.check_capacity(checks_for('P4:1,T4:1'), 'f', aliases.AliasMap(),
                      free(by_class))


def test_unknown_alias_with_declared_map_fails_before_boot():
    amap = aliases.AliasMap.from_cloud_config(
        {'gpu_aliases': {'P4': '10de:1bb3', 'T4': '10de:1eb8'}})
    with pytest.raises(pf.PreflightError,
                       match=r"GPU alias 'NOPE' of flavor 'f' is not one of "
                             r"this cloud's aliases \(P4, T4"):
        pf.check_capacity(checks_for('NOPE:1'), 'f', amap,
                          free({P4: {'a': 1}}))


def test_unknown_alias_without_map_is_a_note():
    checks = checks_for('NOPE:1')
    pf.check_capacity(checks, 'f', aliases.AliasMap(), free({P4: {'a': 1}}))
    assert 'not checked' in checks.notes[0]


def test_no_pci_in_placement_is_a_note():
    checks = checks_for('P4:1')
    pf.check_capacity(checks, 'f', aliases.AliasMap(), None)
    assert 'report_in_placement' in checks.notes[0]


def test_declared_alias_with_dash_survives_sdk_key_rewriting():
    # openstacksdk hands 'p4-small' over as 'p4_small'.
    amap = aliases.AliasMap.from_cloud_config(
        {'gpu_aliases': {'p4_small': '10de:1bb3'}})
    assert amap.resource_classes('p4-small') == (P4,)
    assert amap.names()[0] == 'p4_small'


def test_declared_map_is_the_cloud_list_even_for_known_models():
    # A100 is a known model's alias, but this cloud declares its own list.
    amap = aliases.AliasMap.from_cloud_config(
        {'gpu_aliases': {'P4': '10de:1bb3'}})
    with pytest.raises(pf.PreflightError,
                       match=r"GPU alias 'A100' of flavor 'f' is not one of "
                             r"this cloud's aliases \(P4, from"):
        pf.check_capacity(checks_for('A100:1'), 'f', amap,
                          free({P4: {'a': 1}}))


def test_undeclared_alias_is_refused_without_pci_in_placement_too():
    amap = aliases.AliasMap.from_cloud_config(
        {'gpu_aliases': {'P4': '10de:1bb3'}})
    with pytest.raises(pf.PreflightError, match="GPU alias 'NOPE'"):
        pf.check_capacity(checks_for('NOPE:1'), 'f', amap, None)


def asked_reasons(reasons):
    asked = []

    def disabled_reasons(hosts):
        asked.append(list(hosts))
        return {h: reasons.get(h) for h in hosts}
    return asked, disabled_reasons


def test_disabled_host_is_named_with_its_reason_and_the_fix():
    asked, reasons = asked_reasons({'gpu-node-2': 'disk swap'})
    availability = free({P4: {'gpu-node-1': 0, 'gpu-node-2': 0}},
                        {'gpu-node-2': {P4: 2}})
    with pytest.raises(pf.PreflightError) as err:
        pf.check_capacity(checks_for('P4:1'), 'gpu.p4', aliases.AliasMap(),
                          availability, reasons)
    assert str(err.value) == (
        "not enough free GPUs for flavor 'gpu.p4' (P4:1) on any one host: "
        "free P4 per host: gpu-node-1 0, gpu-node-2 0 (disabled); "
        "nova-compute is disabled on gpu-node-2 ('disk swap') (wait for GPUs "
        "to be released, ask for fewer, or enable the compute: 'openstack "
        "compute service set --enable gpu-node-2 nova-compute')")
    assert asked == [['gpu-node-2']]


def test_reasons_are_not_read_when_the_request_fits_elsewhere():
    asked, reasons = asked_reasons({})
    pf.check_capacity(checks_for('P4:1'), 'f', aliases.AliasMap(),
                      free({P4: {'gpu-node-1': 1, 'gpu-node-2': 0}},
                           {'gpu-node-2': {P4: 2}}), reasons)
    assert asked == []


def test_disabled_host_without_free_gpus_of_the_class_is_only_marked():
    asked, reasons = asked_reasons({})
    with pytest.raises(pf.PreflightError) as err:
        pf.check_capacity(checks_for('P4:1'), 'f', aliases.AliasMap(),
                          free({P4: {'a': 0, 'b': 0}}, {'b': {T4: 1}}),
                          reasons)
    assert 'free P4 per host: a 0, b 0 (disabled) (wait for GPUs' in str(
        err.value)
    assert asked == []


def test_several_disabled_hosts_and_unknown_reasons():
    _, reasons = asked_reasons({'b': ''})
    with pytest.raises(pf.PreflightError) as err:
        pf.check_capacity(checks_for('P4:1'), 'f', aliases.AliasMap(),
                          free({P4: {'b': 0, 'c': 0}},
                               {'b': {P4: 1}, 'c': {P4: 1}}), reasons)
    assert ("nova-compute is disabled on b (no reason given), c (reason "
            "unknown)" in str(err.value))
    assert "--enable HOST nova-compute" in str(err.value)


@pytest.mark.parametrize('value, requests', [
    # nova boots each of these; the old preflight refused the first two.
    ('P4:65', [('P4', 65)]),
    ('P4:1,P4:1', [('P4', 2)]),
    (' P4 :1', [('P4', 1)]),
    ('P4:0,T4:1', [('T4', 1)]),
])
def test_a_flavor_nova_boots_is_not_refused(value, requests):
    found = pf.gpu_requests_of('old', {'pci_passthrough:alias': value})
    assert [(r.alias, r.count) for r in found] == requests


def test_what_looks_like_a_slip_becomes_a_note():
    checks = pf.Preflight(pf.gpu_requests_of(
        'old', {'pci_passthrough:alias': 'P4:1,P4:1'}))
    assert checks.notes == [
        "flavor 'old': pci_passthrough:alias asks for alias 'P4' 2 times "
        "('P4:1,P4:1'): nova gives the server 2"]
    assert pf.Preflight(checks_for('P4:1').requests).notes == []


def test_a_flavor_whose_counts_ask_for_nothing_requests_no_gpu():
    with pytest.raises(pf.PreflightError,
                       match=r"flavor 'z' requests no GPU \(pci_passthrough:"
                             r"alias 'P4:0' asks for none\)"):
        pf.gpu_requests_of('z', {'pci_passthrough:alias': 'P4:0'})


def test_a_flavor_nova_cannot_boot_is_refused_with_the_fix():
    with pytest.raises(pf.PreflightError) as err:
        pf.gpu_requests_of('bad', {'pci_passthrough:alias': 'a,b:1'})
    assert str(err.value) == (
        "flavor 'bad' has a broken pci_passthrough:alias 'a,b:1': item 'a' "
        "is not ALIAS:COUNT, so nova cannot boot it (recreate it with "
        "'openstack gpu flavor create')")
