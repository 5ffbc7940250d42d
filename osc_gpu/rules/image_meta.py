"""Every glance image property nova 34 reads, as one table.

nova turns an image's properties into ``ImageMetaProps``
(nova/objects/image_meta.py, ``from_dict``): each property it knows is
coerced to its field's type, and a value that does not coerce (say
``hw_disk_bus=bogus``) fails the server create or rebuild that uses the
image. Properties nova does not know are ignored. ``check_image_property``
refuses what nova refuses, before glance is touched.

Where nova is lenient we are not (each case is in
``strictness.DELIBERATE_STRICTNESS``): nova reads any word that is not
true-like as *false* for a boolean, maps some old or mixed-case spellings
(``amd64``, ``Windows``, ``VirtualE1000``), takes ``int()`` spellings such
as ``' 7'``, and skips ``hw_numa_cpus.N`` keys after a gap; here booleans
are boolean words, enum values are spelled as nova stores them, numbers
are plain digits, and every NUMA cell key is checked.
"""

import dataclasses
import re

from osc_gpu.rules import booleans
from osc_gpu.rules import echo

BOOL = 'bool'
INT = 'int'
TEXT = 'text'
CHOICE = 'choice'
CPU_SET = 'cpu-set'
NOT_BY_HAND = 'not-by-hand'     # structured data nova's tools write

NUMA_NODES_MAX = 128            # nova reads hw_numa_cpus.0 to .127
_CPU_SET = re.compile(r'\^?[0-9]+(?:-[0-9]+)?(?:,\^?[0-9]+(?:-[0-9]+)?)*')
_RANGE = re.compile(r'([0-9]+)-([0-9]+)')


class InvalidImageProperty(ValueError):
    """An image property glance or nova would refuse or misread."""


@dataclasses.dataclass(frozen=True)
class ImageRule:
    """One image property nova reads; ``{n}`` stands for a NUMA node."""

    key: str
    kind: str
    choices: tuple = ()
    reads_as: str = ''          # an old name nova reads as this property
    example: str = ''

    def valid_values(self):
        return {
            BOOL: 'true or false',
            INT: 'a whole number',
            CPU_SET: 'a CPU list such as 0-3,^2',
            TEXT: 'any text',
        }.get(self.kind) or 'one of ' + ', '.join(self.choices)

    def example_value(self):
        return self.example or {BOOL: 'true', INT: '1', CPU_SET: '0-3',
                                CHOICE: (self.choices or ('',))[0]}.get(
                                    self.kind, 'x')

    def refuses(self, value):
        if self.kind == BOOL:
            return value.lower() not in booleans.BOOLEAN_STRINGS
        if self.kind == INT:
            return not re.fullmatch('-?[0-9]+', value)
        if self.kind == CHOICE:
            return value not in self.choices
        if self.kind == CPU_SET:
            return not _CPU_SET.fullmatch(value) or any(
                int(a) > int(b) for a, b in _RANGE.findall(value))
        return self.kind == NOT_BY_HAND


ARCHITECTURES = (
    'alpha', 'armv6', 'armv7l', 'armv7b', 'aarch64', 'cris', 'i686', 'ia64',
    'lm32', 'm68k', 'microblaze', 'microblazeel', 'mips', 'mipsel',
    'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle',
    'ppc64', 'ppc64le', 'ppcemb', 's390', 's390x', 'sh4', 'sh4eb', 'sparc',
    'sparc64', 'unicore32', 'x86_64', 'xtensa', 'xtensaeb')
DISK_BUSES = ('fdc', 'ide', 'sata', 'scsi', 'usb', 'virtio', 'xen', 'lxc',
              'uml')
SCSI_MODELS = ('buslogic', 'ibmvscsi', 'lsilogic', 'lsisas1068',
               'lsisas1078', 'virtio-scsi', 'vmpvscsi')
VIDEO_MODELS = ('cirrus', 'qxl', 'vga', 'vmvga', 'xen', 'virtio', 'gop',
                'none', 'bochs')
VIF_MODELS = ('virtio', 'ne2k_pci', 'pcnet', 'rtl8139', 'e1000', 'e1000e',
              'netfront', 'spapr-vlan', 'lan9118', 'sriov', 'vmxnet',
              'vmxnet3', 'igb')
HYPERVISOR_TYPES = (
    'baremetal', 'bhyve', 'docker', 'fake', 'hyperv', 'ironic', 'kqemu',
    'kvm', 'lxc', 'lxd', 'openvz', 'parallels', 'phyp', 'qemu', 'test',
    'uml', 'vbox', 'vz', 'vmware', 'xen', 'zvm', 'prsm')


def _choice(key, *choices, example=''):
    return ImageRule(key, CHOICE, choices, example=example)


def _kind(kind, *keys):
    return tuple(ImageRule(k, kind) for k in keys)


_RULES = _kind(
    BOOL, 'hw_boot_menu', 'hw_ephemeral_encryption', 'hw_firmware_stateless',
    'hw_ipxe_boot', 'hw_locked_memory', 'hw_mem_encryption', 'hw_pmu',
    'hw_qemu_guest_agent', 'hw_time_hpet', 'hw_vif_multiqueue_enabled',
    'hw_virtio_packed_ring', 'img_bdm_v2', 'img_bittorrent',
    'img_cache_in_nova', 'img_hide_hypervisor_id', 'img_linked_clone',
    'img_use_agent', 'os_require_quiesce',
    'os_skip_agent_inject_files_at_boot', 'os_skip_agent_inject_ssh',
) + _kind(
    INT, 'hw_cpu_cores', 'hw_cpu_max_cores', 'hw_cpu_max_sockets',
    'hw_cpu_max_threads', 'hw_cpu_sockets', 'hw_cpu_threads',
    'hw_device_id', 'hw_maxphysaddr_bits', 'hw_numa_nodes',
    'hw_redirected_usb_ports', 'hw_serial_port_count', 'hw_video_ram',
    'img_compression_level', 'img_version', 'hw_numa_mem.{n}',
) + _kind(
    TEXT, 'hw_auto_disk_config', 'hw_cpu_realtime_mask', 'hw_disk_type',
    'hw_ephemeral_encryption_secret_uuid', 'hw_machine_type',
    'hw_mem_page_size', 'img_owner_id', 'img_root_device_name',
    'img_signature', 'img_signature_certificate_uuid', 'os_admin_user',
    'os_command_line', 'os_distro',
) + _kind(
    NOT_BY_HAND, 'img_block_device_mapping', 'img_mappings',
    'img_hv_requested_version',
) + _kind(CPU_SET, 'hw_numa_cpus.{n}') + (
    _choice('hw_architecture', *ARCHITECTURES, example='x86_64'),
    _choice('hw_emulation_architecture', *ARCHITECTURES, example='aarch64'),
    _choice('hw_cdrom_bus', *DISK_BUSES, example='sata'),
    _choice('hw_disk_bus', *DISK_BUSES, example='virtio'),
    _choice('hw_floppy_bus', *DISK_BUSES, example='fdc'),
    _choice('hw_rescue_bus', *DISK_BUSES, example='virtio'),
    _choice('hw_cpu_policy', 'dedicated', 'shared', 'mixed'),
    _choice('hw_cpu_thread_policy', 'prefer', 'isolate', 'require'),
    _choice('hw_ephemeral_encryption_format', 'plain', 'luks', 'luksv2'),
    _choice('hw_firmware_type', 'uefi', 'bios'),
    _choice('hw_input_bus', 'usb', 'virtio'),
    _choice('hw_maxphysaddr_mode', 'passthrough', 'emulate'),
    _choice('hw_mem_encryption_model', 'amd-sev', 'amd-sev-es',
            'amd-sev-snp', 'intel-tdx'),
    _choice('hw_pci_numa_affinity_policy', 'required', 'legacy',
            'preferred', 'socket'),
    _choice('hw_pointer_model', 'usbtablet'),
    _choice('hw_rescue_device', 'cdrom', 'disk', 'floppy', 'fs', 'lun'),
    _choice('hw_rng_model', 'virtio'),
    _choice('hw_scsi_model', *SCSI_MODELS, example='virtio-scsi'),
    _choice('hw_sound_model', 'sb16', 'es1370', 'pcspk', 'ac97', 'ich6',
            'ich9', 'usb', 'virtio', example='ich9'),
    _choice('hw_tpm_model', 'tpm-tis', 'tpm-crb'),
    _choice('hw_tpm_version', '1.2', '2.0', example='2.0'),
    _choice('hw_usb_model', 'none', 'nec-xhci', 'qemu-xhci',
            example='qemu-xhci'),
    _choice('hw_video_model', *VIDEO_MODELS, example='none'),
    _choice('hw_vif_model', *VIF_MODELS),
    _choice('hw_viommu_model', 'intel', 'smmuv3', 'virtio', 'auto'),
    _choice('hw_vm_mode', 'hvm', 'xen', 'uml', 'exe'),
    _choice('hw_watchdog_action', 'none', 'pause', 'poweroff', 'reset',
            'disabled', example='reset'),
    _choice('img_config_drive', 'optional', 'mandatory'),
    _choice('img_hv_type', *HYPERVISOR_TYPES, example='kvm'),
    _choice('img_signature_hash_method', 'SHA-224', 'SHA-256', 'SHA-384',
            'SHA-512', example='SHA-256'),
    _choice('img_signature_key_type', 'DSA', 'ECC_SECP384R1',
            'ECC_SECP521R1', 'ECC_SECT409K1', 'ECC_SECT409R1',
            'ECC_SECT571K1', 'ECC_SECT571R1', 'RSA-PSS', example='RSA-PSS'),
    _choice('os_secure_boot', 'required', 'disabled', 'optional'),
    _choice('os_type', 'linux', 'windows'),
)
_BY_KEY = {r.key: r for r in _RULES}

# Names from before the hw_/img_/os_ prefixes, which nova still reads.
LEGACY_NAMES = {
    'architecture': 'hw_architecture',
    'auto_disk_config': 'hw_auto_disk_config',
    'bdm_v2': 'img_bdm_v2',
    'bittorrent': 'img_bittorrent',
    'block_device_mapping': 'img_block_device_mapping',
    'cache_in_nova': 'img_cache_in_nova',
    'hypervisor_type': 'img_hv_type',
    'hypervisor_version_requires': 'img_hv_requested_version',
    'ipxe_boot': 'hw_ipxe_boot',
    'mappings': 'img_mappings',
    'owner_id': 'img_owner_id',
    'root_device_name': 'img_root_device_name',
    'vm_mode': 'hw_vm_mode',
    'vmware_disktype': 'hw_disk_type',
    'vmware_image_version': 'img_version',
    'vmware_linked_clone': 'img_linked_clone',
    'vmware_ostype': 'os_distro',
    'xenapi_device_id': 'hw_device_id',
    'xenapi_image_compression_level': 'img_compression_level',
    'xenapi_skip_agent_inject_files_at_boot':
        'os_skip_agent_inject_files_at_boot',
    'xenapi_skip_agent_inject_ssh': 'os_skip_agent_inject_ssh',
    'xenapi_use_agent': 'img_use_agent',
}

IMAGE_PROPERTY_RULES = _RULES + tuple(
    dataclasses.replace(_BY_KEY[new], key=old, reads_as=new)
    for old, new in sorted(LEGACY_NAMES.items())) + (
    # 'ide', or a SCSI model that nova reads as hw_scsi_model.
    ImageRule('vmware_adaptertype', CHOICE, ('ide',) + SCSI_MODELS,
              reads_as='hw_disk_bus/hw_scsi_model', example='ide'),
)
IMAGE_PROPERTY_RULES_BY_KEY = {r.key: r for r in IMAGE_PROPERTY_RULES}
_NUMA_KEY = re.compile(r'(hw_numa_cpus|hw_numa_mem)\.[0-9]+')


def rule_for(key):
    """The rule nova applies to property ``key``, or None if it ignores
    it."""
    numa = _NUMA_KEY.fullmatch(key)
    if numa:
        return IMAGE_PROPERTY_RULES_BY_KEY[numa.group(1) + '.{n}']
    return IMAGE_PROPERTY_RULES_BY_KEY.get(key)


def check_image_property(key, value):
    """Refuse ``key=value`` when nova would refuse it (or misread it)."""
    rule = rule_for(key)
    if rule is None or not rule.refuses(value):
        return
    if rule.kind == NOT_BY_HAND:
        raise InvalidImageProperty(
            "image property '%s' is structured data that nova and glance "
            "tools write; it is not set by hand here" % key)
    raise InvalidImageProperty(
        "invalid image property %s: use %s (e.g. --property %s=%s)"
        % (echo.quoted('%s=%s' % (key, value)), rule.valid_values(), key,
           rule.example_value()))
