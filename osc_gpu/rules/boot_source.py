"""The boot disk and extra block devices, as ``openstack server create``
takes them, turned into nova's ``block_device_mapping_v2``.

The options and their meanings are OSC's (``--image``, ``--volume``,
``--snapshot``, ``--boot-from-volume``, ``--delete-on-termination``,
``--block-device key=value,...``); so are the mappings each one makes and
the defaults of the keys ``--block-device`` leaves out. Unlike OSC, the
boot disk comes from exactly one of ``--image``, ``--volume`` and
``--snapshot``: the preflight must know which disk's image properties
nova will read, so a ``--block-device`` with ``boot_index=0`` is refused.
"""

import dataclasses
import re

from osc_gpu.rules import booleans
from osc_gpu.rules import echo
from osc_gpu.rules import inputs

# What OSC shows as the image of a server booted from a volume.
IMAGE_STRING_FOR_BFV = 'N/A (booted from volume)'

SOURCE_TYPES = ('volume', 'image', 'snapshot', 'blank')
DESTINATION_TYPES = ('local', 'volume')
# OSC's --block-device keys, in its order.
BLOCK_DEVICE_KEYS = ('uuid', 'source_type', 'destination_type', 'disk_bus',
                     'device_type', 'device_name', 'volume_size',
                     'guest_format', 'boot_index', 'delete_on_termination',
                     'tag', 'volume_type')
_EXAMPLE = ('e.g. --block-device source_type=blank,destination_type=volume,'
            'volume_size=10')


class InvalidBootSource(ValueError):
    """Boot options nova (or OSC) would refuse; the message says why."""


@dataclasses.dataclass(frozen=True)
class BootSource:
    """Where the root disk comes from.

    ``kind`` is 'image', 'volume' or 'snapshot'; ``ref`` the name or ID
    typed; ``volume_size`` the GB of a volume made from the image
    (``--boot-from-volume``), None to boot the image on local disk.
    """

    kind: str
    ref: str
    volume_size: int = None
    delete_on_termination: bool = False

    @property
    def on_volume(self):
        return self.kind != 'image' or self.volume_size is not None


@dataclasses.dataclass(frozen=True)
class BootDisk:
    """The boot disk as read from the cloud, for the preflight.

    ``properties`` are the image properties nova will read for it (a
    volume's ``volume_image_metadata``), None when they cannot be read;
    ``via`` names the volume a snapshot's were read from.
    """

    kind: str
    name: str
    id: str
    properties: dict = None
    via: str = ''

    def shown_image(self, on_volume):
        """The server's ``image`` as OSC shows it."""
        if self.kind != 'image' or on_volume:
            return IMAGE_STRING_FOR_BFV
        return '%s (%s)' % (self.name, self.id)


def boot_source(image=None, volume=None, snapshot=None,
                boot_from_volume=None, delete_on_termination=False):
    """The :class:`BootSource` of the options; InvalidBootSource when they
    do not name exactly one disk or combine what OSC refuses."""
    given = [(kind, ref) for kind, ref in (('image', image),
                                           ('volume', volume),
                                           ('snapshot', snapshot))
             if ref is not None]
    if not given:
        raise InvalidBootSource(
            'no boot disk: give --image, --volume or --snapshot (e.g. '
            '--image ubuntu-24.04)')
    if len(given) > 1:
        raise InvalidBootSource(
            '--%s and --%s both give the boot disk: use one of --image, '
            '--volume and --snapshot' % (given[0][0], given[1][0]))
    kind, ref = given[0]
    if boot_from_volume is not None and kind != 'image':
        raise InvalidBootSource(
            '--%s is not allowed with --boot-from-volume, which makes the '
            'boot volume from --image' % kind)
    if boot_from_volume is not None and boot_from_volume < 1:
        raise InvalidBootSource(
            'invalid --boot-from-volume %d: the volume size is a whole '
            'number of GB from 1 (e.g. --boot-from-volume 20)'
            % boot_from_volume)
    if delete_on_termination and boot_from_volume is None:
        raise InvalidBootSource('--delete-on-termination can only be used '
                                'with --boot-from-volume')
    return BootSource(kind, ref, boot_from_volume, delete_on_termination)


def root_mapping(source, source_id):
    """The boot disk's entry of ``block_device_mapping_v2``, as OSC makes
    it for the same options."""
    if source.kind == 'image' and source.volume_size is not None:
        return {'uuid': source_id, 'boot_index': 0, 'source_type': 'image',
                'destination_type': 'volume',
                'volume_size': source.volume_size,
                'delete_on_termination': source.delete_on_termination}
    if source.kind == 'image':
        return {'uuid': source_id, 'boot_index': 0, 'source_type': 'image',
                'destination_type': 'local', 'delete_on_termination': True}
    mapping = {'uuid': source_id, 'boot_index': 0,
               'source_type': source.kind, 'destination_type': 'volume'}
    if source.kind == 'snapshot':
        mapping['delete_on_termination'] = False
    return mapping


# -- --block-device key=value,... ---------------------------------------

def _invalid(text, problem):
    return InvalidBootSource('invalid --block-device %s: %s (%s)'
                             % (echo.quoted(text), problem, _EXAMPLE))


def _pairs(text):
    """``{key: value}`` of ``k=v,k=v`` (OSC's MultiKeyValueAction)."""
    pairs = {}
    for item in text.split(','):
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise _invalid(text, 'expected key=value pairs separated by ,')
        if key not in BLOCK_DEVICE_KEYS:
            raise _invalid(text, 'unknown key %s; use %s' % (
                echo.quoted(key), ', '.join(BLOCK_DEVICE_KEYS)))
        if key in pairs:
            raise _invalid(text, 'key %s given twice' % echo.quoted(key))
        pairs[key] = value
    return pairs


def _number(text, pairs, key, minimum):
    value = pairs[key]
    if not re.fullmatch(r'-?[0-9]+', value) or int(value) < minimum \
            or int(value) > inputs.MAX_INT:
        raise _invalid(text, '%s must be a whole number from %d' % (
            key, minimum))
    return int(value)


def parse_block_device(text):
    """One ``--block-device`` value as nova's mapping, with OSC's defaults.

    ``source_type`` defaults to blank, ``destination_type`` to local for a
    blank device and volume otherwise, ``delete_on_termination`` to true
    on local disk. A ``uuid`` is still the name or ID typed (the command
    looks volumes, snapshots and images up).
    """
    mapping = _pairs(text)
    source = mapping.setdefault('source_type', 'blank')
    if source not in SOURCE_TYPES:
        raise _invalid(text, 'source_type must be one of %s'
                       % ', '.join(SOURCE_TYPES))
    destination = mapping.setdefault(
        'destination_type', 'local' if source == 'blank' else 'volume')
    if destination not in DESTINATION_TYPES:
        raise _invalid(text, 'destination_type must be one of %s'
                       % ', '.join(DESTINATION_TYPES))
    if source != 'blank' and not mapping.get('uuid'):
        raise _invalid(text, 'source_type %s needs uuid=<name or ID>'
                       % source)
    if 'boot_index' in mapping:
        mapping['boot_index'] = _number(text, mapping, 'boot_index', -1)
        if mapping['boot_index'] == 0:
            raise _invalid(text, 'boot_index=0 would be a second boot disk; '
                           'the boot disk comes from --image, --volume or '
                           '--snapshot')
    if 'volume_size' in mapping:
        mapping['volume_size'] = _number(text, mapping, 'volume_size', 1)
    if 'delete_on_termination' in mapping:
        value = mapping['delete_on_termination'].strip().lower()
        if value not in booleans.BOOLEAN_STRINGS:
            raise _invalid(text, 'delete_on_termination must be true or '
                           'false')
        mapping['delete_on_termination'] = booleans.is_true(value)
    elif destination == 'local':
        mapping['delete_on_termination'] = True
    if 'tag' in mapping and (not mapping['tag'] or ',' in mapping['tag']
                             or '/' in mapping['tag']
                             or len(mapping['tag']) > 60):
        raise _invalid(text, "tag must be 1-60 characters without '/'")
    return mapping
