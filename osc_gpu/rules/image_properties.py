"""The glance image properties a GPU guest needs, as one table.

``img_hide_hypervisor_id`` is the one an NVIDIA guest cannot do without
(the driver stops with "code 43" when it sees KVM). The others are set
only when asked: q35 and UEFI are what large-BAR datacenter GPUs usually
need, ``hw_video_model=none`` leaves the passed-through GPU as the only
display, ``os_type=windows`` adds Hyper-V enlightenments and a spoofed
vendor id when hiding.
"""

import dataclasses
import re

from osc_gpu.rules import echo
from osc_gpu.rules import hiding
from osc_gpu.rules import image_meta

HIDE_KEY = hiding.IMAGE_KEY

# What --machine-type takes. nova passes hw_machine_type to libvirt as is
# (any string; libvirt checks it against the host's QEMU), and operators
# use versioned and per-distribution names: q35, pc-q35-rhel9.4.0,
# virt-8.2, pseries, s390-ccw-virtio. So only what can never be a machine
# type is refused: empty, whitespace, control characters, punctuation
# other than '._-', or more than 255 characters.
MACHINE_TYPE = r'[A-Za-z0-9][A-Za-z0-9._-]{0,254}'


@dataclasses.dataclass(frozen=True)
class ImageProperty:
    key: str
    option: str
    description: str
    since: str = 'Kilo'
    values: tuple = ()          # allowed values; () = pattern below
    pattern: str = ''
    example: str = ''


def _nova_choices(key):
    return image_meta.IMAGE_PROPERTY_RULES_BY_KEY[key].choices


GPU_IMAGE_PROPERTIES = (
    ImageProperty(HIDE_KEY, '--hide-hypervisor',
                  hiding.BY_KEY[HIDE_KEY].description,
                  since=hiding.BY_KEY[HIDE_KEY].since,
                  values=('true', 'false')),
    ImageProperty('hw_machine_type', '--machine-type',
                  'QEMU machine type; q35 gives the PCIe topology large-BAR '
                  'GPUs need',
                  pattern=MACHINE_TYPE,
                  example='q35, pc-q35-rhel9.4.0 or virt-8.2'),
    ImageProperty('hw_firmware_type', '--firmware',
                  'guest firmware; uefi for GPUs with large BARs',
                  values=_nova_choices('hw_firmware_type')),
    ImageProperty('hw_video_model', '--video-model',
                  'emulated display; none leaves the GPU as the only one',
                  values=_nova_choices('hw_video_model')),
    ImageProperty('os_type', '--os-type',
                  'guest OS; windows adds Hyper-V enlightenments and, when '
                  'hiding, a spoofed vendor id',
                  values=_nova_choices('os_type')),
)
GPU_IMAGE_PROPERTIES_BY_KEY = {p.key: p for p in GPU_IMAGE_PROPERTIES}
GPU_KEYS = tuple(p.key for p in GPU_IMAGE_PROPERTIES)

# What glance does not let an image PATCH set as a property: its own
# attributes (get_base_properties), read-only and reserved names, and the
# os_glance namespace (glance/api/v2/images.py RequestDeserializer).
_RESERVED = {'id', 'name', 'status', 'visibility', 'owner', 'checksum',
             'size', 'virtual_size', 'container_format', 'disk_format',
             'created_at', 'updated_at', 'file', 'schema', 'locations',
             'direct_url', 'self', 'tags', 'protected', 'os_hidden',
             'min_disk', 'min_ram', 'os_hash_algo', 'os_hash_value',
             'stores', 'location', 'deleted', 'deleted_at'}
_RESERVED_PREFIX = 'os_glance'
_KEY_PATTERN = re.compile(r'[A-Za-z0-9_:.-]{1,255}')


InvalidImageProperty = image_meta.InvalidImageProperty


def check_value(key, value):
    prop = GPU_IMAGE_PROPERTIES_BY_KEY[key]
    if prop.values and value not in prop.values:
        raise InvalidImageProperty(
            "invalid %s %s: use one of %s"
            % (prop.option, echo.quoted(value), ', '.join(prop.values)))
    if prop.pattern and not re.fullmatch(prop.pattern, value):
        raise InvalidImageProperty(
            "invalid %s %s: use a QEMU machine type such as %s (letters, "
            "digits and '._-')" % (prop.option, echo.quoted(value),
                                   prop.example))


def check_property(key, value):
    """Refuse a ``--property`` that is reserved, has its own option, or
    has a value nova would refuse or misread."""
    if key in GPU_IMAGE_PROPERTIES_BY_KEY:
        raise InvalidImageProperty(
            "set %s with %s, not --property %s=%s"
            % (key, GPU_IMAGE_PROPERTIES_BY_KEY[key].option, key,
               echo.quoted(value)[1:-1]))
    if key in _RESERVED or key.startswith(_RESERVED_PREFIX):
        raise InvalidImageProperty(
            "image property '%s' is glance's own or reserved: set image "
            "attributes with 'openstack image set'" % key)
    if not _KEY_PATTERN.fullmatch(key):
        raise InvalidImageProperty(
            "image property %s cannot be set here: use a custom property "
            "name of letters, digits and '_:.-' (e.g. --property "
            "hw_vif_model=virtio)" % echo.quoted(key))
    image_meta.check_image_property(key, value)


def wanted_properties(hide_hypervisor, options, properties):
    """The properties the operator asked for, validated, in table order."""
    wanted = {HIDE_KEY: 'true' if hide_hypervisor else 'false'}
    for key in GPU_KEYS[1:]:
        value = options.get(key)
        if value is not None:
            check_value(key, value)
            wanted[key] = value
    for key, value in (properties or {}).items():
        check_property(key, value)
        wanted[key] = value
    return wanted


def changes(current, wanted):
    """``{key: (old, new)}`` for every wanted value that differs."""
    return {k: (current.get(k), v) for k, v in wanted.items()
            if str(current.get(k)).lower() != str(v).lower()
            or current.get(k) is None}


def describe_changes(diff):
    """``key: old -> new`` lines, unset shown as ``(unset)``."""
    return ['%s: %s -> %s' % (k, old if old is not None else '(unset)', new)
            for k, (old, new) in diff.items()]
