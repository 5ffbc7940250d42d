"""The vGPU preflight (rules/vgpu_preflight.py) and vGPU fault texts."""

import pytest

from osc_gpu.rules import faults
from osc_gpu.rules import preflight
from osc_gpu.rules import releases
from osc_gpu.rules import vgpu
from osc_gpu.rules import vgpu_capacity
from osc_gpu.rules import vgpu_preflight

RELEASE = releases.release_for_max_microversion(releases.Microversion(2, 104))


def gpu(host, address, total=8, used=0, traits=(), rc='VGPU',
        host_traits=()):
    return vgpu_capacity.VgpuGpu(
        '%s-%s' % (host, address), '%s_pci_x' % host, host, address,
        'root-' + host, rc, total, used, tuple(sorted(('OWNER_NOVA',)
                                                      + tuple(traits))),
        tuple(host_traits))


def checks_for(request_text, extra=None):
    specs = vgpu.vgpu_specs(vgpu.parse_vgpu_request(request_text))
    specs.update(extra or {})
    return vgpu_preflight.vgpu_checks('vg', specs, (), {}, RELEASE)


def refusal(checks, gpus):
    with pytest.raises(preflight.PreflightError) as exc:
        vgpu_preflight.check_vgpu_capacity(checks, 'vg', gpus)
    return str(exc.value)


def test_a_flavor_without_vgpus_or_with_an_alias_is_not_a_vgpu_boot():
    assert vgpu_preflight.vgpu_checks('f', {'hw:cpu_policy': 'dedicated'},
                                      (), {}, RELEASE) is None
    assert vgpu_preflight.vgpu_checks(
        'f', {'pci_passthrough:alias': 'P4:1', 'resources:VGPU': '1'}, (),
        {}, RELEASE) is None


def test_the_groups_are_the_requests_and_show_as_the_flavor_asks():
    checks = checks_for('nvidia-12:1')
    assert [str(r) for r in checks.requests] == ['VGPU:1 CUSTOM_NVIDIA_12']
    assert checks.hidden_by == ''
    hidden = vgpu_preflight.vgpu_checks(
        'vg', {'resources:VGPU': '1', 'hw:hide_hypervisor_id': 'true'}, (),
        {}, RELEASE)
    assert hidden.hidden_by == 'flavor hw:hide_hypervisor_id'


def test_a_free_tagged_gpu_passes():
    checks = checks_for('nvidia-12:1')
    vgpu_preflight.check_vgpu_capacity(checks, 'vg', [
        gpu('n3', '0000:81:00.0', traits=['CUSTOM_NVIDIA_11']),
        gpu('n3', '0000:81:01.0', used=7, traits=['CUSTOM_NVIDIA_12'])])


def test_an_untagged_type_names_the_command_that_tags_it():
    line = refusal(checks_for('nvidia-12:1'), [
        gpu('gpu-node-3', '0000:81:00.0', traits=['CUSTOM_NVIDIA_11']),
        gpu('gpu-node-3', '0000:81:01.0')])
    assert line == (
        "no GPU offering VGPU vGPUs carries CUSTOM_NVIDIA_12, which flavor "
        "'vg' requires: tag the GPUs that run it with 'openstack gpu vgpu "
        "type set --host HOST --address ADDRESS nvidia-12' (GPUs: "
        "gpu-node-3 0000:81:00.0 (CUSTOM_NVIDIA_11), gpu-node-3 "
        "0000:81:01.0 (untagged))")


def test_no_gpu_of_the_class_says_how_to_offer_vgpus():
    line = refusal(checks_for('1'), [])
    assert 'which no GPU in placement offers' in line
    assert 'enabled_mdev_types' in line


def test_more_isolated_vgpus_than_tagged_gpus_on_any_host():
    line = refusal(checks_for('nvidia-11:2'), [
        gpu('a', '0000:81:00.0', traits=['CUSTOM_NVIDIA_11']),
        gpu('a', '0000:81:01.0', traits=['CUSTOM_NVIDIA_12']),
        gpu('b', '0000:81:00.0', traits=['CUSTOM_NVIDIA_11'])])
    assert line.startswith(
        "flavor 'vg' asks for 2 vGPUs (VGPU:2 CUSTOM_NVIDIA_11), each from "
        "another physical GPU (group_policy=isolate, as NVIDIA needs), but "
        "no host has 2 such GPUs: at most 1 (a)")


def test_two_isolated_vgpus_fit_on_two_gpus_with_room():
    gpus = [gpu('a', '0000:81:00.0', traits=['CUSTOM_NVIDIA_11']),
            gpu('a', '0000:81:01.0', used=8, traits=['CUSTOM_NVIDIA_11'])]
    line = refusal(checks_for('nvidia-11:2'), gpus)
    assert line.startswith("no host has free vGPUs for flavor 'vg' "
                           "(VGPU:2 CUSTOM_NVIDIA_11): free per host: a 8")
    gpus[1] = gpu('a', '0000:81:01.0', used=7, traits=['CUSTOM_NVIDIA_11'])
    vgpu_preflight.check_vgpu_capacity(checks_for('nvidia-11:2'), 'vg', gpus)


def test_all_used_or_disabled_gives_counts_per_host():
    line = refusal(checks_for('nvidia-12:1'), [
        gpu('a', '0000:81:01.0', used=8, traits=['CUSTOM_NVIDIA_12']),
        gpu('b', '0000:81:01.0', traits=['CUSTOM_NVIDIA_12'],
            host_traits=['COMPUTE_STATUS_DISABLED']),
        gpu('c', '0000:81:00.0', traits=['CUSTOM_NVIDIA_11'])])
    assert "free per host: a 0, b 0 (disabled) (wait" in line


def test_an_unnumbered_trait_may_sit_on_the_compute_root():
    checks = checks_for('1', {'trait:CUSTOM_GPU_HOST': 'required'})
    vgpu_preflight.check_vgpu_capacity(checks, 'vg', [
        gpu('a', '0000:81:00.0', host_traits=['CUSTOM_GPU_HOST'])])
    # In a numbered group it must be on the GPU itself.
    numbered = vgpu_preflight.vgpu_checks(
        'vg', {'resources1:VGPU': '1', 'trait1:CUSTOM_GPU_HOST': 'required',
               'resources2:VGPU': '1', 'group_policy': 'none'}, (), {},
        RELEASE)
    assert 'carries CUSTOM_GPU_HOST' in refusal(numbered, [
        gpu('a', '0000:81:00.0', host_traits=['CUSTOM_GPU_HOST'])])


def test_groups_that_may_share_a_gpu_are_refused_only_when_they_cannot():
    shared = vgpu_preflight.vgpu_checks(
        'vg', {'resources1:VGPU': '1', 'resources2:VGPU': '1',
               'group_policy': 'none'}, (), {}, RELEASE)
    vgpu_preflight.check_vgpu_capacity(shared, 'vg', [
        gpu('a', '0000:81:00.0', used=6)])
    assert 'free per host: a 1' in refusal(shared, [
        gpu('a', '0000:81:00.0', used=7)])


def test_placement_that_cannot_be_read_is_a_note():
    checks = checks_for('nvidia-12:1')
    vgpu_preflight.check_vgpu_capacity(checks, 'vg', 'HTTP 403: admin only')
    assert checks.notes == ['vGPU capacity not checked: HTTP 403: admin only']


def test_no_valid_host_for_vgpus_is_explained_in_vgpu_terms():
    groups = checks_for('nvidia-11:2').requests
    line = faults.explain('No valid host was found. ', groups)
    assert line.startswith('No valid host was found (no compute host could '
                           'take VGPU:1 CUSTOM_NVIDIA_11, VGPU:1 '
                           'CUSTOM_NVIDIA_11: no GPU may carry the type')
    assert '2 groups with group_policy=isolate' in line
    one = faults.explain('No valid host was found.',
                         checks_for('1').requests)
    assert 'isolate' not in one


def test_mdevctl_missing_on_the_compute_is_explained():
    line = faults.explain("libvirt.libvirtError: Cannot find 'mdevctl' in "
                          "path", checks_for('1').requests)
    assert 'install mdevctl there' in line
    # GPU requests keep their own texts.
    assert 'PciPassthroughFilter' in faults.explain('No valid host', ())
