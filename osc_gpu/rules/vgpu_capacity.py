"""Physical GPUs that offer vGPUs, as placement shows them: pure.

nova's libvirt driver gives each such GPU (or each VF of an SR-IOV GPU) a
child provider of the compute node named ``<nodename>_<libvirt node
device>``, e.g. ``gpu-node-3_pci_0000_81_00_0``
(``LibvirtDriver._ensure_pgpu_providers``), with one inventory: ``VGPU``
or the type's ``mdev_class``. nova parses the device back out of that
name, so it is a stable key. nova adds only ``OWNER_NOVA``; a type trait
(``CUSTOM_NVIDIA_11``) is the operator's, and nova leaves it alone.
"""

import dataclasses
import re

from osc_gpu.rules import echo
from osc_gpu.rules import pci_address
from osc_gpu.rules import vgpu

PCI_DEVICE_TRAIT = 'COMPUTE_MANAGED_PCI_DEVICE'
DISABLED_TRAIT = 'COMPUTE_STATUS_DISABLED'
_NAME = re.compile(r'^(?P<host>.+)_pci_(?P<domain>[0-9a-f]{4})_'
                   r'(?P<bus>[0-9a-f]{2})_(?P<slot>[0-9a-f]{2})_'
                   r'(?P<function>[0-7])$')
_ADDRESS = re.compile(r'(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):'
                      r'([0-9a-fA-F]{2})\.([0-7])')
# Placement's limit on provider names.
NAME_MAX = 200


class InvalidGpuAddress(ValueError):
    """Not the PCI address of one device."""


def parse_gpu_address(text):
    """``0000:81:00.0`` from ``0000:81:00.0``, ``81:00.0`` or upper case;
    InvalidGpuAddress for anything that is not one device's address."""
    match = _ADDRESS.fullmatch(text)
    problem = pci_address.address_rule(text) if match else None
    if not match or problem:
        raise InvalidGpuAddress(
            'invalid GPU address %s: %s (e.g. --address 0000:81:00.0, as '
            'lspci -D and /sys/bus/pci/devices name it)'
            % (echo.quoted(text), problem or 'use DOMAIN:BUS:SLOT.FUNCTION '
               'in hex'))
    domain, bus, slot, function = match.groups()
    return ('%s:%s:%s.%s' % (domain or '0000', bus, slot, function)).lower()


def provider_name(host, address):
    """The provider nova names after the GPU at ``address`` on ``host``."""
    return '%s_pci_%s' % (host, re.sub(r'[:.]', '_', address))


def split_provider_name(name):
    """``(host, address)`` of a vGPU GPU provider name, else None."""
    match = _NAME.match(name or '')
    if not match:
        return None
    return match.group('host'), '%s:%s:%s.%s' % match.group(
        'domain', 'bus', 'slot', 'function')


@dataclasses.dataclass(frozen=True)
class VgpuGpu:
    """One physical GPU (or VF) that offers vGPUs, and how many are used.

    ``total`` leaves out ``reserved`` units; nothing is free on a compute
    whose nova-compute is disabled (``COMPUTE_STATUS_DISABLED`` on its
    root), nor on one that nova schedules nothing to.
    """

    uuid: str
    name: str
    host: str
    address: str
    root_uuid: str
    resource_class: str
    total: int
    used: int
    traits: tuple = ()
    host_traits: tuple = ()

    @property
    def disabled(self):
        return DISABLED_TRAIT in self.host_traits

    @property
    def free(self):
        return 0 if self.disabled else max(self.total - self.used, 0)

    @property
    def type_traits(self):
        """The operator's traits (CUSTOM_*): in practice the type."""
        return tuple(t for t in self.traits
                     if t.startswith(vgpu.CUSTOM_PREFIX))


def is_vgpu_class(resource_class):
    """Classes nova puts vGPUs in: VGPU or an mdev_class (CUSTOM_*)."""
    return resource_class == vgpu.VGPU_CLASS or \
        resource_class.startswith(vgpu.CUSTOM_PREFIX)


def gpus_of_provider(provider, host, resources, traits, host_traits):
    """:class:`VgpuGpu` rows of one provider, from its name and placement's
    ``{class: {'capacity', 'used'}}``; none for a PCI device or another
    kind of provider."""
    parts = split_provider_name(provider['name'])
    if parts is None or PCI_DEVICE_TRAIT in traits:
        return []
    return [VgpuGpu(provider['uuid'], provider['name'], host or parts[0],
                    parts[1], provider.get('root_provider_uuid') or '', rc,
                    amounts['capacity'], amounts['used'],
                    tuple(sorted(traits)), tuple(sorted(host_traits)))
            for rc, amounts in sorted(resources.items())
            if is_vgpu_class(rc)]


def from_summaries(providers, summaries):
    """``(gpus, missing)``: the vGPU GPUs among ``providers`` (the
    provider list) whose trees ``summaries`` (allocation candidates at
    1.29) cover, and the candidate providers it does not cover (their
    host had no free VCPU), which need reads of their own."""
    by_uuid = {p['uuid']: p for p in providers}
    gpus, missing = [], []
    for provider in providers:
        if not provider.get('parent_provider_uuid') or \
                split_provider_name(provider['name']) is None:
            continue
        summary = summaries.get(provider['uuid'])
        root_uuid = provider.get('root_provider_uuid')
        if summary is None:
            missing.append(provider)
            continue
        root = summaries.get(root_uuid, {})
        gpus.extend(gpus_of_provider(
            provider, by_uuid.get(root_uuid, {}).get('name'),
            summary.get('resources', {}), summary.get('traits', []),
            root.get('traits', [])))
    return gpus, missing


def of_type(gpus, type_id):
    """The GPUs tagged with ``type_id``'s trait; ValueError naming the
    types that are tagged when none is."""
    trait = vgpu.type_trait(type_id)
    chosen = [g for g in gpus if trait in g.traits]
    if not chosen:
        tagged = sorted({t for g in gpus for t in g.type_traits})
        raise ValueError(
            "no GPU offering vGPUs is tagged with type %s (%s): tag one with "
            "'openstack gpu vgpu type set --host HOST --address ADDRESS %s'; "
            "tagged types: %s" % (echo.quoted(type_id), trait, type_id,
                                  ', '.join(tagged) or 'none'))
    return chosen


def shown(gpu):
    """``gpu-node-3 0000:81:01.0``: how a refusal names a GPU."""
    return '%s %s' % (gpu.host, gpu.address)
