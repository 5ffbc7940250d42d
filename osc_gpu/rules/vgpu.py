"""vGPUs (nova's mediated devices) on flavors: types, traits, request groups.

Pure. Nova gives each physical GPU that offers vGPUs its own placement
provider with a ``VGPU`` inventory (or the type's ``[mdev_<type>]
mdev_class``), and tags none of them with their type: an operator tags
them with a trait named after the type (``nvidia-11`` ->
``CUSTOM_NVIDIA_11``), and a flavor asks for it with
``trait:CUSTOM_NVIDIA_11=required`` (nova's doc/source/admin/virtual-gpu.rst).

NVIDIA gives an instance at most one vGPU of each physical GPU (nova bug
1758086), so a flavor with more than one vGPU asks for each in its own
request group, ``resources1:VGPU=1``, ``resources2:VGPU=1``..., with
``group_policy=isolate`` so that placement puts them on different GPUs
(virtual-gpu.rst, 2026.1). A flavor is read back the way nova's
``ResourceRequest._process_extra_specs`` reads it.
"""

import dataclasses
import re

from osc_gpu.rules import echo
from osc_gpu.rules import nova_devices
from osc_gpu.rules import quotas

VGPU_CLASS = 'VGPU'
CUSTOM_PREFIX = 'CUSTOM_'
# How sysfs names mdev types (mdev_supported_types/<type>): nvidia-11,
# i915-GVTg_V5_4, mlx5_core. The same shape gpu quota takes (vgpu:TYPE).
_TYPE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}')
# nova/conf/devices.py mdev_class; placement caps class names at 255.
_CLASS = re.compile(r'VGPU|CUSTOM_[A-Z0-9_]{1,248}')
# One vGPU per physical GPU, and no host has more than a few dozen GPUs:
# NVIDIA's largest multi-vGPU guests take 16.
MAX_VGPU_COUNT = 16
GROUP_POLICY_KEY = 'group_policy'
ISOLATE = 'isolate'
# nova's XS_KEYPAT (nova/scheduler/utils.py).
_GROUPED_KEY = re.compile(r'^(resources|trait)([a-zA-Z0-9_-]{1,64})?:(.*)$')


class InvalidVgpuRequest(ValueError):
    """A vGPU request nova would refuse or misread."""


def _example(type_id='nvidia-11'):
    return 'e.g. --vgpu %s:1' % type_id


def check_type(type_id):
    """``type_id`` when it is an mdev type name; else InvalidVgpuRequest."""
    if type_id.upper().startswith(CUSTOM_PREFIX):
        raise InvalidVgpuRequest(
            "vGPU type %s is a trait name: give the mdev type as sysfs names "
            "it (e.g. nvidia-11 for CUSTOM_NVIDIA_11)" % echo.quoted(type_id))
    if not _TYPE.fullmatch(type_id):
        raise InvalidVgpuRequest(
            "invalid vGPU type %s: an mdev type is 1-64 letters, digits, "
            "'_', '.' and '-', starting with a letter or digit, as "
            "/sys/class/mdev_bus/*/mdev_supported_types lists it (e.g. "
            "nvidia-11)" % echo.quoted(type_id))
    return type_id


def type_trait(type_id):
    """The trait that tags a GPU with its type, as nova's docs and
    operators write it: CUSTOM_ and the type in upper case, with every
    character other than A-Z, 0-9 and _ as _ (nvidia-11 ->
    CUSTOM_NVIDIA_11)."""
    return nova_devices.trait_name(check_type(type_id))


def type_of_trait(trait):
    """A type name that :func:`type_trait` turns into ``trait`` (the usual
    sysfs spelling, nvidia-11), for commands an error suggests."""
    return trait[len(CUSTOM_PREFIX):].lower().replace('_', '-')


def declared_types(config):
    """clouds.yaml ``gpu_vgpu_types`` of a cloud: {mdev type: its
    [mdev_<type>] mdev_class}. openstacksdk writes '-' in the keys as
    '_': look types up with :func:`declared_class`."""
    declared = (config or {}).get(quotas.VGPU_TYPES_KEY) or {}
    if not isinstance(declared, dict):
        raise InvalidVgpuRequest(
            'clouds.yaml %s must map vGPU types to their resource class, '
            'e.g. nvidia-36: CUSTOM_NVIDIA_36' % quotas.VGPU_TYPES_KEY)
    return {str(t): check_class(str(rc)) for t, rc in declared.items()}


def declared_class(declared, type_id):
    """The class :func:`declared_types` gives ``type_id``, or None."""
    return declared.get(type_id) or declared.get(type_id.replace('-', '_'))


def check_class(resource_class):
    """``resource_class`` when nova can put vGPUs in it: VGPU or CUSTOM_*
    (nova's mdev_class)."""
    if not _CLASS.fullmatch(resource_class or ''):
        raise InvalidVgpuRequest(
            "invalid vGPU class %s: [mdev_<type>] mdev_class is VGPU or "
            "CUSTOM_ and upper-case letters, digits and _ (e.g. "
            "--vgpu-class CUSTOM_NVIDIA_11)" % echo.quoted(resource_class))
    return resource_class


@dataclasses.dataclass(frozen=True)
class VgpuRequest:
    """``count`` vGPUs of ``type`` ('' for any) in ``resource_class``."""

    type: str
    count: int
    resource_class: str = VGPU_CLASS

    @property
    def trait(self):
        return type_trait(self.type) if self.type else ''

    def __str__(self):
        return ('%s:%d' % (self.type, self.count) if self.type
                else str(self.count))


def parse_vgpu_request(text, resource_class=None):
    """Parse ``--vgpu [TYPE:]COUNT`` (and ``--vgpu-class``)."""
    type_id, colon, count_text = text.rpartition(':')
    if colon and not type_id:
        raise InvalidVgpuRequest(
            "invalid vGPU request %s: the type before ':' is empty (%s, or "
            "--vgpu 1 for any type)" % (echo.quoted(text), _example()))
    if type_id:
        check_type(type_id)
    if not (count_text.isascii() and count_text.isdigit()
            and len(count_text) <= 3
            and 1 <= int(count_text) <= MAX_VGPU_COUNT):
        raise InvalidVgpuRequest(
            "invalid vGPU request %s: count %s must be a whole number from 1 "
            "to %d, one vGPU per physical GPU (%s)"
            % (echo.quoted(text), echo.quoted(count_text), MAX_VGPU_COUNT,
               _example(type_id or 'nvidia-11')))
    return VgpuRequest(type_id, int(count_text),
                       check_class(VGPU_CLASS if resource_class is None
                                   else resource_class))


def vgpu_specs(request):
    """The extra specs of a flavor with ``request``'s vGPUs.

    One vGPU: ``resources:<class>=1`` (and the type's trait). More: one
    numbered group per vGPU and ``group_policy=isolate``, one per GPU.
    """
    if request.count == 1:
        groups = ['']
    else:
        groups = [str(n) for n in range(1, request.count + 1)]
    specs = {}
    for group in groups:
        specs['resources%s:%s' % (group, request.resource_class)] = '1'
        if request.trait:
            specs['trait%s:%s' % (group, request.trait)] = 'required'
    if request.count > 1:
        specs[GROUP_POLICY_KEY] = ISOLATE
    return specs


def conflicting_properties(request, properties):
    """``--property`` keys that would change what ``request`` asks for."""
    ours = set(vgpu_specs(request))
    return sorted(key for key in properties
                  if key in ours or key == GROUP_POLICY_KEY
                  or _vgpu_key(key, {request.resource_class}))


# -- reading a flavor, as nova does ----------------------------------------

@dataclasses.dataclass(frozen=True)
class VgpuGroup:
    """One request group of a flavor that asks for vGPUs."""

    group: str              # '' for the unnumbered group
    resource_class: str
    count: int
    traits: tuple = ()      # the group's required traits, sorted

    def __str__(self):
        return ' '.join(('%s:%d' % (self.resource_class, self.count),)
                        + self.traits)


@dataclasses.dataclass(frozen=True)
class FlavorVgpus:
    """The vGPUs a flavor asks for, group by group."""

    groups: tuple
    group_policy: str = ''

    @property
    def total(self):
        return sum(g.count for g in self.groups)

    @property
    def isolated(self):
        return self.group_policy == ISOLATE and len(self.numbered) > 1

    @property
    def numbered(self):
        return [g for g in self.groups if g.group]

    def __str__(self):
        """``VGPU:2 CUSTOM_NVIDIA_12``: groups of one kind summed."""
        sums = {}
        for group in self.groups:
            key = (group.resource_class, group.traits)
            sums[key] = sums.get(key, 0) + group.count
        return ', '.join(str(VgpuGroup('', rc, count, traits))
                         for (rc, traits), count in sums.items())


def _vgpu_key(key, classes):
    match = _GROUPED_KEY.match(key)
    return bool(match) and match.group(1) == 'resources' and \
        match.group(3) in classes


def _amount(value):
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return None
    return amount if amount >= 0 else None


def vgpus_of(extra_specs, vgpu_classes=()):
    """The :class:`FlavorVgpus` of a flavor, or None when it asks for none.

    ``vgpu_classes`` are the custom classes this cloud's ``mdev_class``
    options use (clouds.yaml ``gpu_vgpu_types``); ``VGPU`` always counts.
    Amounts nova would skip (not a number, negative) or strip (0) ask for
    nothing, as in nova.
    """
    classes = {VGPU_CLASS} | set(vgpu_classes)
    resources, traits = {}, {}
    for key, value in (extra_specs or {}).items():
        match = _GROUPED_KEY.match(key)
        if not match:
            continue
        prefix, group, name = match.groups()
        if prefix == 'resources' and name in classes:
            amount = _amount(value)
            if amount:
                resources.setdefault(group or '', {})[name] = amount
        elif prefix == 'trait' and value == 'required':
            traits.setdefault(group or '', set()).add(name)
    groups = tuple(
        VgpuGroup(group, rc, amount, tuple(sorted(traits.get(group, ()))))
        for group in sorted(resources, key=lambda g: (len(g), g))
        for rc, amount in sorted(resources[group].items()))
    if not groups:
        return None
    policy = (extra_specs or {}).get(GROUP_POLICY_KEY)
    return FlavorVgpus(groups, policy if policy in ('none', ISOLATE) else '')


def classes_in(extra_specs):
    """The vGPU classes ``extra_specs`` asks for: VGPU and any custom
    class in a ``resources`` key."""
    found = set()
    for key in extra_specs or {}:
        match = _GROUPED_KEY.match(key)
        if match and match.group(1) == 'resources' and \
                match.group(3).startswith(CUSTOM_PREFIX):
            found.add(match.group(3))
    return found


def vgpu_keys(extra_specs, vgpu_classes=()):
    """The keys of ``extra_specs`` that make up its vGPU request: the
    vGPU resources, the traits of their groups and group_policy."""
    vgpus = vgpus_of(extra_specs, vgpu_classes)
    if vgpus is None:
        return set()
    groups = {g.group for g in vgpus.groups}
    keys = {GROUP_POLICY_KEY} & set(extra_specs)
    for key in extra_specs:
        match = _GROUPED_KEY.match(key)
        if match and (match.group(2) or '') in groups and (
                match.group(1) == 'trait'
                or match.group(3) in {g.resource_class
                                      for g in vgpus.groups}):
            keys.add(key)
    return keys
