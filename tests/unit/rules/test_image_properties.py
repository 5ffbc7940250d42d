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
    ({'hw_machine_type': 'q36'}, {}, "invalid --machine-type 'q36'"),
    ({'hw_video_model': 'nvidia'}, {}, 'invalid --video-model'),
    ({}, {'img_hide_hypervisor_id': 'true'}, 'with --hide-hypervisor'),
    ({}, {'visibility': 'public'}, "image property 'visibility' cannot"),
    ({}, {'bad key': 'x'}, "image property 'bad key' cannot"),
])
def test_bad_values_are_refused(options, properties, fragment):
    with pytest.raises(ip.InvalidImageProperty, match=fragment):
        ip.wanted_properties(True, options, properties)


def test_machine_type_versions_are_accepted():
    ip.check_value('hw_machine_type', 'pc-q35-rhel9.4.0')


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
