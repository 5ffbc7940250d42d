import pytest

from osc_gpu.rules import nova_extra_specs as nes
from osc_gpu.rules import placement_names


@pytest.mark.parametrize('key, value', [
    ('hw:cpu_policy', 'dedicated'),
    ('hw:cpu_cores', '4'),
    ('hw:mem_page_size', '2MB'),
    ('hw:mem_page_size', 'large'),
    ('hw:cpu_realtime_mask', '^0-1'),
    ('hw:numa_cpus.0', '0-3,^2'),
    ('hw:numa_mem.1', '1024'),
    ('hw:locked_memory', 'YES'),
    ('hw:pmem', 'SMALL,LARGE,'),
    ('hw:redirected_usb_ports', '15'),
    ('quota:cpu_quota', '-1'),
    ('resources:VGPU', '1'),
    ('resources_gpu1:CUSTOM_PCI_10DE_1EB8', '2'),
    ('trait:HW_GPU_API_VULKAN', 'required'),
    ('trait1:CUSTOM_GPU', 'forbidden'),
    ('capabilities:cpu_info:arch', 'x86_64'),
    ('aggregate_instance_extra_specs:gpu', 'true'),
    ('group_policy', 'none'),
    ('foo', 'anything'),                # no namespace: nova lets it pass
    ('custom:thing', 'anything'),       # unknown namespace: the same
])
def test_what_nova_takes_passes(key, value):
    nes.check_extra_spec(key, value)


@pytest.mark.parametrize('key, value, message', [
    ('hw:cpu_policy', 'bogus',
     "invalid flavor property 'hw:cpu_policy=bogus': use one of dedicated, "
     "shared, mixed (e.g. --property hw:cpu_policy=dedicated)"),
    ('hw:cpu_cores', '0',
     "invalid flavor property 'hw:cpu_cores=0': use a whole number of at "
     "least 1 (e.g. --property hw:cpu_cores=1)"),
    ('hw:redirected_usb_ports', '16',
     "invalid flavor property 'hw:redirected_usb_ports=16': use a whole "
     "number from 0 to 15 (e.g. --property hw:redirected_usb_ports=0)"),
    ('hw:locked_memory', 'maybe',
     "invalid flavor property 'hw:locked_memory=maybe': use true or false "
     "(e.g. --property hw:locked_memory=true)"),
    ('hw:mem_page_size', 'huge',
     "invalid flavor property 'hw:mem_page_size=huge': use a value like 2MB "
     "(e.g. --property hw:mem_page_size=2MB)"),
    ('hw:cpu_polcy', 'dedicated',
     "unknown flavor property 'hw:cpu_polcy': nova knows no such extra spec "
     "in its hw: namespace (did you mean 'hw:cpu_policy'?)"),
    ('trait:NOT_A_TRAIT', 'required',
     "unknown flavor property 'trait:NOT_A_TRAIT': nova knows no such extra "
     "spec in its trait: namespace (placement names are the standard ones "
     "or start with CUSTOM_)"),
])
def test_what_nova_refuses_is_one_line_with_what_is_valid(key, value,
                                                          message):
    with pytest.raises(nes.InvalidExtraSpec) as err:
        nes.check_extra_spec(key, value)
    assert str(err.value) == message


@pytest.mark.parametrize('key, value', [
    ('hw:cpu_cores', ' 2'),             # nova's int() strips it
    ('hw:cpu_cores', '1_0'),
    ('hw:cpu_cores', '\u0662'),
    ('hw:cpu_cores', '2\n'),
    ('hw:locked_memory', ' true'),      # nova strips booleans
    ('hw:cpu_realtime_mask', '^\u0660'),  # nova's \d is any digit
    ('hw:numa_cpus_0', '0-1'),          # nova's '.' is any character
])
def test_deliberately_stricter_spellings(key, value):
    with pytest.raises(nes.InvalidExtraSpec):
        nes.check_extra_spec(key, value)


def test_the_pattern_of_a_cpu_list_takes_novas_forms():
    for good in ('0', '0-3', '^1', '0-3,^2,6', '1-2-3'):
        nes.check_extra_spec('hw:cpu_dedicated_mask', good)
    for bad in ('', '0,', ',0', '0,,1', 'a', '0 -3'):
        with pytest.raises(nes.InvalidExtraSpec):
            nes.check_extra_spec('hw:cpu_dedicated_mask', bad)


def test_every_rule_is_reachable_by_its_own_name():
    for rule in nes.EXTRA_SPEC_RULES:
        if '{' not in rule.name:
            assert nes.rule_for(rule.name) is rule


def test_namespaces_with_a_group_match_like_novas():
    assert nes.known_namespace('resources_a-1:FOO') == 'resources_a-1'
    assert nes.known_namespace('trait' + 'x' * 64 + ':FOO')
    assert nes.known_namespace('trait' + 'x' * 65 + ':FOO') == ''
    assert nes.known_namespace('hw') == ''


def test_placement_names():
    assert 'COMPUTE_MANAGED_PCI_DEVICE' in placement_names.STANDARD_TRAITS
    assert len(placement_names.STANDARD_TRAITS) == 377
    assert 'VGPU' in placement_names.STANDARD_RESOURCE_CLASSES


def test_a_bad_value_is_echoed_on_one_line():
    with pytest.raises(nes.InvalidExtraSpec) as err:
        nes.check_extra_spec('hw:cpu_policy', 'a\nb' + 'x' * 100)
    assert '\n' not in str(err.value)
    assert "'hw:cpu_policy=a\\nb" in str(err.value)
