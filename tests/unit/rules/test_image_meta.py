import pytest

from osc_gpu.rules import image_meta as im


@pytest.mark.parametrize('key, value', [
    ('hw_disk_bus', 'virtio'),
    ('hw_vif_model', 'e1000e'),
    ('hw_cpu_cores', '4'),
    ('hw_qemu_guest_agent', 'yes'),
    ('hw_numa_cpus.0', '0-3,^2'),
    ('hw_numa_mem.1', '2048'),
    ('hw_mem_page_size', 'anything'),       # a plain string to nova
    ('architecture', 'x86_64'),             # old name of hw_architecture
    ('vmware_adaptertype', 'ide'),
    ('custom_property', 'anything'),        # nova ignores what it does
    ('hw_numa_cpus.x', 'anything'),         # not a NUMA cell key
])
def test_what_nova_reads_passes(key, value):
    im.check_image_property(key, value)


@pytest.mark.parametrize('key, value, message', [
    ('hw_disk_bus', 'bogus',
     "invalid image property 'hw_disk_bus=bogus': use one of fdc, ide, "
     "sata, scsi, usb, virtio, xen, lxc, uml (e.g. --property "
     "hw_disk_bus=virtio)"),
    ('hw_cpu_cores', 'four',
     "invalid image property 'hw_cpu_cores=four': use a whole number "
     "(e.g. --property hw_cpu_cores=1)"),
    ('img_hide_hypervisor_id', 'ture',
     "invalid image property 'img_hide_hypervisor_id=ture': use true or "
     "false (e.g. --property img_hide_hypervisor_id=true)"),
    ('hw_numa_cpus.0', '3-1',
     "invalid image property 'hw_numa_cpus.0=3-1': use a CPU list such as "
     "0-3,^2 (e.g. --property hw_numa_cpus.0=0-3)"),
    ('img_mappings', '[]',
     "image property 'img_mappings' is structured data that nova and glance "
     "tools write; it is not set by hand here"),
])
def test_what_nova_refuses_is_one_line_with_what_is_valid(key, value,
                                                          message):
    with pytest.raises(im.InvalidImageProperty) as err:
        im.check_image_property(key, value)
    assert str(err.value) == message


@pytest.mark.parametrize('key, value', [
    ('architecture', 'amd64'),              # nova maps it to x86_64
    ('os_type', 'Windows'),                 # nova lower-cases it
    ('hw_vif_model', 'VirtualE1000'),
    ('hw_cpu_cores', ' 4'),
    ('hw_numa_cpus.0', '0, 1'),
    ('hw_numa_cpus.5', 'x'),                # nova skips it after a gap
])
def test_deliberately_stricter_spellings(key, value):
    with pytest.raises(im.InvalidImageProperty):
        im.check_image_property(key, value)


def test_old_names_follow_their_new_ones():
    assert im.rule_for('vm_mode').choices == im.rule_for('hw_vm_mode').choices
    assert im.rule_for('vm_mode').reads_as == 'hw_vm_mode'
    assert im.rule_for('hw_numa_mem.127').kind == im.INT
