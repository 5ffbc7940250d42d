import pytest

from osc_gpu.rules import aliases
from osc_gpu.rules import gpu_request as gr
from osc_gpu.rules import preflight as pf
from osc_gpu.rules import quotas
from osc_gpu.rules import releases

P4 = 'CUSTOM_PCI_10DE_1BB3'
T4 = 'CUSTOM_PCI_10DE_1EB8'
MODELS = aliases.AliasMap()
DECLARED = aliases.AliasMap({'A16': ('CUSTOM_A16_16A',)})


@pytest.mark.parametrize('key, kind, name, limit_name', [
    ('P4', 'alias', 'P4', 'class:' + P4),
    ('vgpu:nvidia-36', 'vgpu', 'nvidia-36', 'class:VGPU'),
    ('class:CUSTOM_FPGA', 'class', 'CUSTOM_FPGA', 'class:CUSTOM_FPGA'),
])
def test_a_quota_key_names_its_keystone_resource(key, kind, name,
                                                 limit_name):
    assert quotas.split_quota_key(key) == (kind, name)
    resource = quotas.gpu_resource(kind, name, MODELS)
    assert (resource.limit_name, resource.key) == (limit_name, key)


def test_declared_aliases_and_vgpu_classes_translate():
    assert quotas.gpu_resource('alias', 'A16', DECLARED).limit_name == \
        'class:CUSTOM_A16_16A'
    assert quotas.gpu_resource(
        'vgpu', 'nvidia-36', MODELS,
        {'nvidia-36': 'CUSTOM_NVIDIA_36'}).limit_name == \
        'class:CUSTOM_NVIDIA_36'
    # openstacksdk hands clouds.yaml's 'nvidia-36:' over as 'nvidia_36'.
    assert quotas.gpu_resource(
        'vgpu', 'nvidia-36', MODELS,
        {'nvidia_36': 'CUSTOM_NVIDIA_36'}).limit_name == \
        'class:CUSTOM_NVIDIA_36'


@pytest.mark.parametrize('kind, name, message', [
    ('alias', 'X9', "GPU alias 'X9' has no known resource class: declare it "
                    'under gpu_aliases'),
    ('alias', 'A100', "GPU alias 'A100' stands for 3 resource classes"),
    ('alias', 'P 4', "invalid GPU alias 'P 4'"),
    ('class', 'MEMORY_MB', "'MEMORY_MB' is not a GPU resource class"),
    ('vgpu', 'nv/36', "invalid vGPU type 'nv/36'"),
])
def test_untranslatable_quotas_say_what_to_write(kind, name, message):
    with pytest.raises(quotas.InvalidQuota, match=message):
        quotas.gpu_resource(kind, name, MODELS)


@pytest.mark.parametrize('value, number', [
    (2, 2), ('3', 3), (0, 0), (-1, -1), ('unlimited', -1)])
def test_limits_are_whole_numbers_or_unlimited(value, number):
    assert quotas.parse_limit(value) == number


@pytest.mark.parametrize('value', [-2, 'two', True, 1.5, None])
def test_other_limits_are_refused(value):
    with pytest.raises(quotas.InvalidQuota, match='whole number of GPUs'):
        quotas.parse_limit(value)


def test_effective_limit_prefers_the_project_then_the_default():
    assert quotas.effective_limit(2, 5) == (2, 'project')
    assert quotas.effective_limit(None, 5) == (5, 'default')
    assert quotas.effective_limit(None, None) == (None, 'unset')


def test_gaps_name_the_driver_switch_or_the_release_that_counts_aliases():
    p4 = quotas.gpu_resource('alias', 'P4', MODELS)
    vgpu = quotas.gpu_resource('class', 'VGPU', MODELS)
    hibiscus = releases.RELEASES_BY_NAME['Hibiscus']
    gazpacho = releases.RELEASES_BY_NAME['Gazpacho']
    [line] = quotas.enforcement_gaps(hibiscus, [p4], False)
    assert 'UnifiedLimitsDriver' in line
    assert quotas.enforcement_gaps(hibiscus, [p4], True) == []
    [line] = quotas.enforcement_gaps(gazpacho, [p4], True)
    assert line.startswith('2026.1 Gazpacho (nova 33) does not count '
                           'pci_passthrough:alias GPUs (P4)')
    assert '2026.2 Hibiscus (nova 34)' in line
    assert quotas.enforcement_gaps(gazpacho, [vgpu], True) == []


def test_preflight_refuses_a_boot_over_quota_with_the_numbers():
    checks = pf.Preflight(gr.parse_gpu_requests('P4:2'))
    with pytest.raises(pf.PreflightError) as refused:
        quotas.check_gpu_quota(checks, 'gpu.p4x2', 'ml', checks.requests,
                               MODELS, {P4: 3}, {P4: 2, 'VCPU': 4})
    assert str(refused.value) == (
        "flavor 'gpu.p4x2' would take project 'ml' over its GPU quota: P4 "
        '(class:CUSTOM_PCI_10DE_1BB3): limit 3, in use 2, asked 2 (raise it '
        "with 'openstack gpu quota set ml --alias ALIAS --limit N', or "
        'delete servers that hold these GPUs)')


@pytest.mark.parametrize('limits, used', [
    ({P4: 4}, {P4: 2}), ({P4: -1}, {P4: 9}), ({}, {P4: 9}),
    ({T4: 0}, {})])
def test_preflight_lets_a_boot_within_quota_pass(limits, used):
    checks = pf.Preflight(gr.parse_gpu_requests('P4:2'))
    quotas.check_gpu_quota(checks, 'f', 'ml', checks.requests, MODELS,
                           limits, used)
    assert checks.notes == []


def test_preflight_notes_an_alias_whose_class_is_unknown():
    checks = pf.Preflight(gr.parse_gpu_requests('X9:1'))
    quotas.check_gpu_quota(checks, 'f', 'ml', checks.requests, MODELS, {},
                           {})
    assert checks.notes == [
        'GPU quota of alias X9 not checked: its resource class is not known '
        '(declare it under gpu_aliases in clouds.yaml)']


NOVA_403 = (
    'Project 6cc0 is over a limit for [Resource class:CUSTOM_PCI_10DE_1BB3 '
    'is over limit of 1 due to current usage 1 and delta 1, Resource '
    'class:DISK_GB is over limit of 0 due to current usage 0 and delta 1]')


def test_novas_403_names_aliases_not_classes():
    line = quotas.explain_over_limit(NOVA_403, MODELS)
    assert line.startswith(
        'GPU quota exceeded: P4 (class:CUSTOM_PCI_10DE_1BB3): limit 1, in '
        'use 1, asked 1 (nova refused')
    assert 'DISK_GB' not in line


def test_other_messages_pass_through():
    assert quotas.explain_over_limit('No valid host', MODELS) == \
        'No valid host'
