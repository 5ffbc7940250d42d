import pytest

from osc_gpu.rules import image_properties as ip


def test_default_is_hide_only():
    assert ip.wanted_properties(True, {}, {}) == {
        'img_hide_hypervisor_id': 'true'}


def test_options_and_properties_are_validated_and_kept():
    wanted = ip.wanted_properties(
        True, {'hw_machine_type': 'q35', 'hw_firmware_type': 'uefi'},
        {'hw_vif_model': 'virtio'})
    assert wanted == {'img_hide_hypervisor_id': 'true',
                      'hw_machine_type': 'q35', 'hw_firmware_type': 'uefi',
                      'hw_vif_model': 'virtio'}


@pytest.mark.parametrize('options, properties, fragment', [
    ({'hw_firmware_type': 'efi'}, {}, "invalid --firmware 'efi': use one of "
                                      "uefi, bios"),
    ({'hw_machine_type': 'q35 '}, {}, "invalid --machine-type 'q35 '"),
    ({'hw_video_model': 'nvidia'}, {}, 'invalid --video-model'),
    ({}, {'img_hide_hypervisor_id': 'true'}, 'with --hide-hypervisor'),
    ({}, {'visibility': 'public'}, "image property 'visibility' is glance's"),
    ({}, {'bad key': 'x'}, "image property 'bad key' cannot"),
])
def test_bad_values_are_refused(options, properties, fragment):
    with pytest.raises(ip.InvalidImageProperty, match=fragment):
        ip.wanted_properties(True, options, properties)


@pytest.mark.parametrize('machine_type', [
    'q35', 'pc-q35-rhel9.4.0', 'virt', 'virt-8.2', 'virt-rhel9.4.0',
    'pseries', 'pseries-rhel9.2.0', 's390-ccw-virtio', 'Q35',
    'pc-i440fx-2.11', 'microvm'])
def test_machine_types_operators_use_are_accepted(machine_type):
    ip.check_value('hw_machine_type', machine_type)


@pytest.mark.parametrize('machine_type', [
    '', ' q35', 'q35\n', 'pc q35', 'q35;reboot', '-q35', 'x' * 256,
    'q35\x1b[2J'])
def test_machine_types_that_cannot_be_are_refused(machine_type):
    with pytest.raises(ip.InvalidImageProperty) as err:
        ip.check_value('hw_machine_type', machine_type)
    assert '\n' not in str(err.value)


@pytest.mark.parametrize('properties, fragment', [
    # nova refuses these when it boots from the image.
    ({'hw_disk_bus': 'bogus'}, "'hw_disk_bus=bogus': use one of fdc, ide"),
    ({'hw_vif_model': 'e1000x'}, "'hw_vif_model=e1000x'"),
    # glance refuses these in a PATCH.
    ({'deleted': 'x'}, "image property 'deleted' is glance's own"),
    ({'os_glance_import_task': 'x'}, "'os_glance_import_task' is glance's"),
    # '$' let a trailing newline through.
    ({'custom\n': 'x'}, r"image property 'custom\\n' cannot be set"),
])
def test_properties_nova_or_glance_refuse_are_refused_here(properties,
                                                           fragment):
    with pytest.raises(ip.InvalidImageProperty, match=fragment):
        ip.wanted_properties(True, {}, properties)


def test_changes_only_for_differences():
    current = {'img_hide_hypervisor_id': 'True', 'hw_machine_type': 'pc'}
    wanted = {'img_hide_hypervisor_id': 'true', 'hw_machine_type': 'q35',
              'hw_firmware_type': 'uefi'}
    diff = ip.changes(current, wanted)
    assert diff == {'hw_machine_type': ('pc', 'q35'),
                    'hw_firmware_type': (None, 'uefi')}
    assert ip.describe_changes(diff) == ['hw_machine_type: pc -> q35',
                                         'hw_firmware_type: (unset) -> uefi']
    assert ip.changes(wanted, wanted) == {}
