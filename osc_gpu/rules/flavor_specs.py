"""The flavor extra specs a GPU flavor is made of, as one table.

Each entry says what nova calls the key, what values it takes and from
which release nova honours it. The same table validates ``--property``
input, picks keys for the cloud's release and explains refusals.
"""

import dataclasses
import re

from osc_gpu.rules import echo
from osc_gpu.rules import gpu_request
from osc_gpu.rules import hiding
from osc_gpu.rules import nova_extra_specs
from osc_gpu.rules import nova_pci
from osc_gpu.rules import vgpu

NUMA_POLICIES = nova_pci.NUMA_POLICIES

# Nova's JSON schema for extra spec keys and values (all microversions);
# fullmatch, so a trailing newline that '$' would let through is refused.
_KEY_PATTERN = re.compile(r'[a-zA-Z0-9-_:. ]{1,255}')
MAX_VALUE_LENGTH = nova_extra_specs.MAX_VALUE_LENGTH


@dataclasses.dataclass(frozen=True)
class ExtraSpec:
    key: str
    description: str
    since: str                      # first release that honours the key
    values: tuple = ()              # allowed values; () = free text
    boolean: bool = False
    value_since: tuple = ()         # ((value, release), ...) added later
    deprecated_for: str = ''
    option: str = ''                # the command option that sets it


GPU_EXTRA_SPECS = (
    ExtraSpec(gpu_request.ALIAS_SPEC_KEY,
              'PCI devices to pass through, as ALIAS:COUNT[,ALIAS:COUNT]',
              since='Kilo', option='--gpu ALIAS:COUNT'),
) + tuple(
    ExtraSpec(place.key, place.description, since=place.since, boolean=True,
              deprecated_for=place.deprecated_for,
              option='--hide-hypervisor / --no-hide-hypervisor')
    for place in hiding.HIDE_PLACES if place.where == 'flavor'
) + (
    ExtraSpec('hw:pci_numa_affinity_policy',
              'how strictly PCI devices must share the guest NUMA node',
              since='Ussuri', values=NUMA_POLICIES,
              value_since=(('socket', 'Wallaby'),),
              option='--numa-policy'),
)
GPU_EXTRA_SPECS_BY_KEY = {s.key: s for s in GPU_EXTRA_SPECS}

NUMA_KEY = 'hw:pci_numa_affinity_policy'


InvalidExtraSpec = nova_extra_specs.InvalidExtraSpec


def check_property(key, value):
    """Refuse a ``--property KEY=VALUE`` that nova would refuse or misread.

    The key and length rules are nova's JSON schema (all microversions);
    the value rules are nova's extra spec validators (2.86+), from the
    table in :mod:`osc_gpu.rules.nova_extra_specs`.
    """
    if not _KEY_PATTERN.fullmatch(key):
        raise InvalidExtraSpec(
            "invalid flavor property %s: keys are 1-255 letters, digits "
            "and '-_:. ' (e.g. --property hw:cpu_policy=dedicated)"
            % echo.quoted(key))
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidExtraSpec(
            "flavor property '%s' is longer than %d characters"
            % (key, MAX_VALUE_LENGTH))
    spec = GPU_EXTRA_SPECS_BY_KEY.get(key)
    if spec is not None:
        # GPU keys have their own options, which pick the key for the
        # cloud's release and validate the value; two ways to set one
        # would conflict.
        raise InvalidExtraSpec(
            "set %s with %s, not --property %s=%s"
            % (key, spec.option, key, echo.quoted(value)[1:-1]))
    nova_extra_specs.check_extra_spec(key, value)


def check_numa_policy(policy, release):
    """Refuse a NUMA policy the cloud's release does not know."""
    spec = GPU_EXTRA_SPECS_BY_KEY[NUMA_KEY]
    if not release.at_least(spec.since):
        raise InvalidExtraSpec(
            "--numa-policy needs %s or later; this cloud runs %s (set "
            "numa_policy in the [pci] alias on the controller instead)"
            % (spec.since, release))
    for value, since in spec.value_since:
        if policy == value and not release.at_least(since):
            raise InvalidExtraSpec(
                "--numa-policy %s needs %s or later; this cloud runs %s "
                "(use required, legacy or preferred)"
                % (value, since, release))


def gpu_flavor_specs(requests, hide_hypervisor, numa_policy, properties,
                     release):
    """Extra specs of a GPU flavor for the cloud's ``release``.

    Returns ``(specs, notes)``: ``notes`` are lines to tell the operator,
    e.g. that this release cannot hide the hypervisor through the flavor.
    """
    specs = dict(properties or {})
    specs[gpu_request.ALIAS_SPEC_KEY] = gpu_request.render_alias_spec(
        requests)
    notes = _hide(specs, hide_hypervisor, release)
    if numa_policy:
        check_numa_policy(numa_policy, release)
        specs[NUMA_KEY] = numa_policy
    return specs, notes


def check_vgpu_properties(request, properties):
    """Refuse ``--property`` keys that would change the vGPU request."""
    conflicts = vgpu.conflicting_properties(request, properties or {})
    if conflicts:
        raise InvalidExtraSpec(
            'set the vGPU request with --vgpu and --vgpu-class, not '
            '--property %s' % echo.quoted(conflicts[0]))


def vgpu_flavor_specs(request, hide_hypervisor, properties, release):
    """``(specs, notes)`` of a vGPU flavor (:mod:`vgpu`) for ``release``."""
    check_vgpu_properties(request, properties)
    specs = dict(properties or {})
    specs.update(vgpu.vgpu_specs(request))
    return specs, _hide(specs, hide_hypervisor, release)


def _hide(specs, hide_hypervisor, release):
    """Add the release's hide key to ``specs``; the notes to show."""
    if not hide_hypervisor:
        return []
    key = hiding.flavor_key(release)
    if not key:
        return ['%s cannot hide the hypervisor through the flavor: run '
                "'openstack gpu image prepare IMAGE' on the images used "
                'with it' % release]
    for other in hiding.FLAVOR_KEYS:
        specs.pop(other, None)
    specs[key] = 'true'
    return []
