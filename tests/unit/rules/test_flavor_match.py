"""--or-show's comparison of an existing flavor with the request."""

from osc_gpu.rules import flavor_match as fm

GPU = {'pci_passthrough:alias': 'P4:1', 'hw:hide_hypervisor_id': 'true'}


def shape(**fields):
    fields.setdefault('vcpus', 1)
    fields.setdefault('ram', 256)
    fields.setdefault('extra_specs', dict(GPU))
    return fm.FlavorShape(**fields)


def test_the_same_request_has_no_difference():
    assert fm.differences(shape(id='f1', description=None),
                          shape(description='')) == []


def test_each_size_is_named_with_both_values_in_one_line():
    diffs = fm.differences(shape(), shape(ram=65536, vcpus=16))
    assert diffs == ['ram=256, not 65536', 'vcpus=1, not 16']
    assert fm.mismatch_message('gpu.a', diffs) == (
        "flavor 'gpu.a' exists with ram=256, not 65536; vcpus=1, not 16 (use "
        "another name, or delete it first)")


def test_every_attribute_is_compared():
    have = shape(disk=1, ephemeral=2, swap=3, description='old', id='f1')
    want = shape(disk=10, ephemeral=20, swap=30, description='new', id='f2',
                 is_public=False)
    assert fm.differences(have, want) == [
        'description=old, not new', 'disk=1, not 10', 'ephemeral=2, not 20',
        'id=f1, not f2', 'is_public=True, not False', 'swap=3, not 30']


def test_an_id_not_asked_for_is_any_id():
    assert fm.differences(shape(id='f1'), shape(id=None)) == []


def test_description_unset_either_way():
    assert fm.differences(shape(description='gpu'), shape()) == [
        'description=gpu, not (unset)']
    assert fm.differences(shape(), shape(description='gpu')) == [
        'description=(unset), not gpu']


def test_project_access_is_compared_for_private_flavors_by_name_given():
    have = shape(is_public=False, projects=frozenset({'id-x'}))
    want = shape(is_public=False, projects=frozenset({'id-demo'}))
    assert fm.needs_project_access(have, want)
    assert fm.differences(have, want, {'id-demo': 'demo'}) == [
        'projects=id-x, not demo']
    assert fm.differences(shape(is_public=False, projects=frozenset()),
                          want, {'id-demo': 'demo'}) == [
        'projects=(none), not demo']
    same = shape(is_public=False, projects=frozenset({'id-demo'}))
    assert fm.differences(same, want) == []


def test_access_is_not_compared_when_either_side_is_public():
    private = shape(is_public=False, projects=frozenset({'p'}))
    assert not fm.needs_project_access(shape(), private)
    assert not fm.needs_project_access(private, shape())
    assert fm.differences(private, shape()) == ['is_public=False, not True']
    # Not read (None): nothing to compare.
    assert fm.differences(shape(is_public=False),
                          shape(is_public=False,
                                projects=frozenset({'p'}))) == []


def test_every_spec_asked_for_is_compared_not_only_gpu_keys():
    have = dict(GPU, **{'hw:cpu_policy': 'shared'})
    want = dict(GPU, **{'hw:cpu_policy': 'dedicated',
                        'hw:pci_numa_affinity_policy': 'preferred'})
    assert fm.spec_differences(have, want) == [
        'hw:cpu_policy=shared, not dedicated',
        'hw:pci_numa_affinity_policy=(unset), not preferred']


def test_gpu_keys_on_the_flavor_but_not_asked_for_differ():
    # --no-hide-hypervisor against a flavor that hides it.
    assert fm.spec_differences(GPU, {'pci_passthrough:alias': 'P4:1'}) == [
        'hw:hide_hypervisor_id=true, not (unset)']


def test_other_keys_not_asked_for_are_left_alone():
    have = dict(GPU, **{'hw:cpu_policy': 'dedicated', 'trait:X': 'required'})
    assert fm.spec_differences(have, GPU) == []


def test_boolean_gpu_keys_compare_as_nova_reads_them():
    have = {'pci_passthrough:alias': 'P4:1', 'hw:hide_hypervisor_id': 'True'}
    assert fm.spec_differences(have, GPU) == []
    have['hw:hide_hypervisor_id'] = 'no'
    assert fm.spec_differences(have, GPU) == [
        'hw:hide_hypervisor_id=no, not true']


def test_other_values_compare_as_written():
    assert fm.spec_differences({'x:y': 'True'}, {'x:y': 'true'}) == [
        'x:y=True, not true']


def test_sizes_come_before_specs():
    diffs = fm.differences(shape(vcpus=2),
                           shape(extra_specs={'pci_passthrough:alias':
                                              'P4:2'}))
    assert diffs == ['vcpus=2, not 1',
                     'hw:hide_hypervisor_id=true, not (unset)',
                     'pci_passthrough:alias=P4:1, not P4:2']
