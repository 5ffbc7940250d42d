"""vGPU types, traits and flavor request groups (rules/vgpu.py)."""

import pytest

from osc_gpu.rules import flavor_match
from osc_gpu.rules import vgpu


@pytest.mark.parametrize('type_id, trait', [
    ('nvidia-11', 'CUSTOM_NVIDIA_11'),
    ('nvidia-558', 'CUSTOM_NVIDIA_558'),
    ('i915-GVTg_V5_4', 'CUSTOM_I915_GVTG_V5_4'),
    ('mlx5_core', 'CUSTOM_MLX5_CORE'),
    ('a.b-c', 'CUSTOM_A_B_C'),
])
def test_type_trait_is_written_as_nova_docs_and_operators_write_it(
        type_id, trait):
    assert vgpu.type_trait(type_id) == trait
    # The type an error suggests turns back into the same trait.
    assert vgpu.type_trait(vgpu.type_of_trait(trait)) == trait


@pytest.mark.parametrize('type_id', [
    '', '-nvidia', 'nvidia 11', 'nvidia:11', 'x' * 65, 'nvidia/11',
    '\u00e9t\u00e9', 'nvidia-11\n', 'CUSTOM_NVIDIA_11', 'custom_x'])
def test_what_is_not_an_mdev_type_is_refused_in_one_line(type_id):
    with pytest.raises(vgpu.InvalidVgpuRequest) as exc:
        vgpu.type_trait(type_id)
    assert '\n' not in str(exc.value)


def test_a_trait_given_as_type_says_which_type_to_give():
    with pytest.raises(vgpu.InvalidVgpuRequest, match='e.g. nvidia-11 for '
                       'CUSTOM_NVIDIA_11'):
        vgpu.check_type('CUSTOM_NVIDIA_11')


@pytest.mark.parametrize('text, expected', [
    ('nvidia-12:1', vgpu.VgpuRequest('nvidia-12', 1)),
    ('nvidia-12:16', vgpu.VgpuRequest('nvidia-12', 16)),
    ('2', vgpu.VgpuRequest('', 2)),
    ('007', vgpu.VgpuRequest('', 7)),
])
def test_parse_vgpu_request(text, expected):
    assert vgpu.parse_vgpu_request(text) == expected


@pytest.mark.parametrize('text', [
    '0', 'nvidia-12:0', '17', 'nvidia-12:17', ':1', 'nvidia-12:', '',
    'nvidia-12:x', 'nvidia-12:-1', 'nvidia-12: 1', 'nvidia-12:+1',
    'nvidia-12:\u0662', 'a:b:1', '9' * 5000, 'CUSTOM_NVIDIA_12:1'])
def test_bad_vgpu_requests_are_refused(text):
    with pytest.raises(vgpu.InvalidVgpuRequest):
        vgpu.parse_vgpu_request(text)


@pytest.mark.parametrize('rc', ['PGPU', 'custom_x', 'CUSTOM_', 'VCPU',
                                'CUSTOM_X-1', ''])
def test_a_class_nova_cannot_put_vgpus_in_is_refused(rc):
    with pytest.raises(vgpu.InvalidVgpuRequest, match='mdev_class'):
        vgpu.parse_vgpu_request('1', rc)


def test_one_vgpu_is_one_unnumbered_resource_and_its_trait():
    assert vgpu.vgpu_specs(vgpu.parse_vgpu_request('nvidia-12:1')) == {
        'resources:VGPU': '1', 'trait:CUSTOM_NVIDIA_12': 'required'}
    assert vgpu.vgpu_specs(vgpu.parse_vgpu_request('1')) == {
        'resources:VGPU': '1'}


def test_more_vgpus_are_one_group_each_on_separate_gpus():
    assert vgpu.vgpu_specs(vgpu.parse_vgpu_request('nvidia-11:3')) == {
        'resources1:VGPU': '1', 'trait1:CUSTOM_NVIDIA_11': 'required',
        'resources2:VGPU': '1', 'trait2:CUSTOM_NVIDIA_11': 'required',
        'resources3:VGPU': '1', 'trait3:CUSTOM_NVIDIA_11': 'required',
        'group_policy': 'isolate'}


def test_a_custom_class_replaces_vgpu():
    request = vgpu.parse_vgpu_request('nvidia-36:2', 'CUSTOM_NVIDIA_36')
    specs = vgpu.vgpu_specs(request)
    assert specs['resources1:CUSTOM_NVIDIA_36'] == '1'
    assert 'resources1:VGPU' not in specs


def test_properties_that_would_change_the_request_are_named():
    request = vgpu.parse_vgpu_request('nvidia-11:2')
    assert vgpu.conflicting_properties(request, {
        'resources:VGPU': '4', 'group_policy': 'none',
        'trait1:CUSTOM_NVIDIA_11': 'forbidden', 'hw:cpu_policy': 'dedicated',
        'resources:CUSTOM_OTHER': '1'}) == [
        'group_policy', 'resources:VGPU', 'trait1:CUSTOM_NVIDIA_11']


def test_reading_a_flavor_back_as_nova_does():
    specs = vgpu.vgpu_specs(vgpu.parse_vgpu_request('nvidia-11:2'))
    found = vgpu.vgpus_of(specs)
    assert found.total == 2 and found.isolated
    assert str(found) == 'VGPU:2 CUSTOM_NVIDIA_11'
    assert vgpu.vgpus_of({'resources:VGPU': '1'}).groups == (
        vgpu.VgpuGroup('', 'VGPU', 1),)
    assert vgpu.vgpus_of({'pci_passthrough:alias': 'P4:1'}) is None


@pytest.mark.parametrize('value', ['0', '-1', 'x', ' '])
def test_amounts_nova_skips_ask_for_nothing(value):
    assert vgpu.vgpus_of({'resources:VGPU': value}) is None


def test_custom_classes_count_only_when_declared():
    specs = {'resources:CUSTOM_NVIDIA_36': '1'}
    assert vgpu.vgpus_of(specs) is None
    assert str(vgpu.vgpus_of(specs, {'CUSTOM_NVIDIA_36'})) == (
        'CUSTOM_NVIDIA_36:1')


def test_hand_written_groups_are_shown_per_kind():
    found = vgpu.vgpus_of({
        'resources1:VGPU': '1', 'trait1:CUSTOM_NVIDIA_11': 'required',
        'resources2:VGPU': '1', 'trait2:CUSTOM_NVIDIA_12': 'required',
        'trait3:CUSTOM_X': 'required'})
    assert str(found) == 'VGPU:1 CUSTOM_NVIDIA_11, VGPU:1 CUSTOM_NVIDIA_12'
    assert not found.isolated


def test_or_show_names_vgpu_specs_the_request_does_not_have():
    existing = vgpu.vgpu_specs(vgpu.parse_vgpu_request('nvidia-11:2'))
    wanted = vgpu.vgpu_specs(vgpu.parse_vgpu_request('nvidia-11:1'))
    diffs = flavor_match.spec_differences(existing, wanted)
    assert 'group_policy=isolate, not (unset)' in diffs
    assert 'resources2:VGPU=1, not (unset)' in diffs
    assert 'resources:VGPU=(unset), not 1' in diffs
    # An unrelated key added since is left alone; the same request matches.
    existing['hw:cpu_policy'] = 'dedicated'
    assert flavor_match.spec_differences(existing, dict(existing)) == []


def test_or_show_names_vgpus_on_a_flavor_asked_for_with_gpus():
    diffs = flavor_match.spec_differences(
        {'pci_passthrough:alias': 'P4:1', 'resources:VGPU': '1'},
        {'pci_passthrough:alias': 'P4:1'})
    assert diffs == ['resources:VGPU=1, not (unset)']
