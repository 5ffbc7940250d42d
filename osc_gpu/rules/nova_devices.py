"""nova's ``[devices]`` and ``[mdev_<type>]`` options (vGPU), as data.

Pure. Follows nova 34 (2026.2): the options of nova/conf/devices.py, read
by oslo.config's types (List, String with a regex, Integer with a
minimum), and ``LibvirtDriver._get_supported_vgpu_types``, which turns
them into one mdev type per physical GPU when nova-compute starts:

- ``[devices] enabled_mdev_types`` (old name ``enabled_vgpu_types``)
  lists the types; for each, nova registers the group ``[mdev_<type>]``
  (old name ``[vgpu_<type>]``, for ``device_addresses`` only);
- a type with ``device_addresses`` gets those devices; the first type
  without any becomes the default of every device not listed, and each
  later type without addresses is dropped (a warning in nova's log);
- an address given twice (in two types, or twice in one) or one that is
  not a PCI address stops nova-compute (InvalidLibvirtMdevConfig);
- ``mdev_class`` must match ``^(VGPU|CUSTOM_[A-Z0-9_]+)$`` (at most 255
  characters) and ``max_instances`` be an integer of 1 or more, else
  oslo.config fails nova-compute when it reads them.
"""

import dataclasses
import re

DEVICES = 'devices'
ENABLED = 'enabled_mdev_types'
OLD_ENABLED = 'enabled_vgpu_types'
GROUP = 'mdev_'
OLD_GROUP = 'vgpu_'
DEFAULT_CLASS = 'VGPU'
CLASS_MAX = 255
# nova/conf/devices.py, run with re.search as oslo.config's String does.
CLASS_PATTERN = re.compile(r'^(VGPU|CUSTOM_[A-Z0-9_]+)$')
# What sysfs and libvirt name a PCI device: nova compares the address as
# written with the one it makes from libvirt's name (pci_0000_84_00_0).
PCI_ADDRESS = re.compile(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]')
COUNT_MAX = 2 ** 31 - 1


@dataclasses.dataclass(frozen=True)
class MdevOption:
    """One option of an ``[mdev_<type>]`` group."""

    kind: str           # addresses, class or count
    since: str          # first nova release that reads it
    example: str
    help: str
    old_group: bool = False     # also read from [vgpu_<type>]


MDEV_OPTIONS = {
    'device_addresses': MdevOption(
        'addresses', 'Ussuri (21.0.0)', '0000:84:00.0,0000:85:00.0',
        'the physical GPUs (or SR-IOV VFs) that get this type', True),
    'mdev_class': MdevOption(
        'class', 'Xena (24.0.0)', 'CUSTOM_NVIDIA_11',
        'the placement resource class of its vGPUs: VGPU or CUSTOM_*'),
    'max_instances': MdevOption(
        'count', '2024.1 Caracal (29.0.0)', '24',
        'how many vGPUs of this type the host may offer in all (SR-IOV '
        'GPUs, whose VFs each report one)'),
}


def group_name(type_id):
    """The group nova registers for a type, as oslo.config compares it."""
    return (GROUP + type_id).lower()


def old_group_name(type_id):
    return (OLD_GROUP + type_id).lower()


def parse_list(text):
    """A ListOpt value as oslo.config reads it: items split at commas and
    stripped; a trailing comma ends the list."""
    text = text.strip().rstrip(',')
    return [item.strip() for item in text.split(',')] if text else []


def address_rule(address):
    """Why a ``device_addresses`` item selects no GPU, or None."""
    if PCI_ADDRESS.fullmatch(address):
        return None
    if PCI_ADDRESS.fullmatch(address.lower()):
        return ('is not written as sysfs and libvirt write it: nova compares '
                f'it with {address.lower()}, as text')
    return 'is not a PCI address like 0000:84:00.0'


def class_rule(value):
    """Why an ``mdev_class`` value stops nova-compute, or None."""
    if len(value) > CLASS_MAX:
        return f'is longer than {CLASS_MAX} characters'
    if not CLASS_PATTERN.search(value):
        return ('is neither VGPU nor CUSTOM_ followed by upper-case letters, '
                'digits and _')
    return None


def count_value(text):
    """``(max_instances, why)``: the number, or None and why not. An empty
    value is unset (None, None), as oslo.config reads it."""
    text = text.strip()
    if text == '':
        return None, None
    if not (text.isdigit() and text.isascii()) or len(text) > 10:
        return None, 'is not a whole number written in plain digits'
    number = int(text)
    if number < 1:
        return None, 'must be 1 or more'
    if number > COUNT_MAX:
        return None, f'is above {COUNT_MAX}'
    return number, None


def trait_name(type_id):
    """The trait that tags a GPU's provider with its type: CUSTOM_ and the
    type, upper case, other characters than A-Z, 0-9 and _ as _."""
    return 'CUSTOM_' + re.sub(r'[^A-Z0-9_]', '_', type_id.upper())


@dataclasses.dataclass(frozen=True)
class TypeGroup:
    """One enabled type's group, values as nova reads them."""

    type_id: str
    addresses: tuple = ()
    mdev_class: str = DEFAULT_CLASS
    max_instances: int | None = None


@dataclasses.dataclass(frozen=True)
class MdevLayout:
    """What nova-compute makes of the options when it starts."""

    types: tuple = ()           # the enabled types nova keeps, in order
    default: str | None = None  # the type of every device not listed
    by_address: dict = dataclasses.field(default_factory=dict)
    dropped: tuple = ()         # (type, the default it loses to)
    limits: dict = dataclasses.field(default_factory=dict)
    classes: dict = dataclasses.field(default_factory=dict)
    refusal: str | None = None  # why nova-compute would not start

    def type_of(self, address):
        """The type nova gives a device (None: none)."""
        return self.by_address.get(address, self.default)

    def addresses_of(self, type_id):
        return [a for a, t in self.by_address.items() if t == type_id]


def resolve(types, groups):
    """nova's ``_get_supported_vgpu_types`` on these values.

    ``types``: enabled_mdev_types; ``groups``: {type: TypeGroup}. The
    address check is nova's, made strict: only the sysfs form.
    """
    kept, default, by_address = [], None, {}
    dropped, limits, classes = [], {}, {}
    for type_id in types:
        kept.append(type_id)
        group = groups.get(type_id, TypeGroup(type_id))
        if group.max_instances:
            limits[type_id] = group.max_instances
        if not group.addresses:
            if default is None:
                default = type_id
                classes[type_id] = group.mdev_class
            else:
                dropped.append((type_id, default))
                kept.remove(type_id)
            continue
        for address in group.addresses:
            if address in by_address:
                return MdevLayout(refusal=(
                    f'{address} is in device_addresses of both '
                    f'{by_address[address]} and {type_id}'))
            if address_rule(address):
                return MdevLayout(refusal=(
                    f'{address} in device_addresses of {type_id} '
                    f'{address_rule(address)}'))
            by_address[address] = type_id
            classes[type_id] = group.mdev_class
    return MdevLayout(tuple(kept), default, by_address, tuple(dropped),
                      limits, classes)


def type_command(host, address, type_id):
    """The command that tags the GPU's provider with the type's trait."""
    return (f'openstack gpu vgpu type set --host {host} --address {address} '
            f'{type_id}')
