"""Nova's terse GPU failures, explained in an operator's terms.

Nova tells a user only "No valid host was found"; the reason sits in the
scheduler's debug log. For GPU servers the causes are few and known, so
each known message maps to what to check.
"""

import re

from osc_gpu.rules import gpu_request
from osc_gpu.rules import vgpu

# (pattern in nova's message, explanation; {gpus} = the flavor's request)
_EXPLANATIONS = (
    (r'No valid host',
     'no compute host could take {gpus}: the GPUs may all be in use, the '
     "alias may be missing from [pci] alias on the controller, or "
     'PciPassthroughFilter may be missing from [filter_scheduler] '
     "enabled_filters (see 'openstack gpu capacity')"),
    (r'PCI alias (\S+) is not defined',
     "nova-api does not know PCI alias {match}: add it to [pci] alias in "
     'nova.conf on the controller and the computes, or fix the flavor'),
    (r'Exceeded maximum number of retries|PciDeviceRequestFailed|'
     r'PCI device request .* failed',
     'the compute host could not claim {gpus}: check [pci] device_spec on '
     'the computes and that the GPUs are bound to vfio-pci'),
    (r'Insufficient compute resources',
     'the chosen host ran out of GPUs while building {gpus}: retry, or '
     "check 'openstack gpu capacity'"),
)


# The same for a flavor's vGPUs ({gpus} = its vGPU request groups).
_VGPU_EXPLANATIONS = (
    (r"Cannot find 'mdevctl'",
     'libvirt on the compute cannot define the mdev for {gpus}: install '
     'mdevctl there (nova defines persistent mdevs through libvirt from '
     "2024.2); 'openstack gpu host check' on the compute says so"),
    (r'No valid host',
     'no compute host could take {gpus}: no GPU may carry the type trait '
     "(tag it with 'openstack gpu vgpu type set', see 'openstack gpu vgpu "
     "type list'){isolate}, or all their vGPUs may be in use (see "
     "'openstack gpu capacity --type TYPE')"),
    (r'Exceeded maximum number of retries|Insufficient compute resources|'
     r'mdev|[Mm]ediated device',
     'the compute host could not create the mediated device for {gpus}: '
     "check [devices] enabled_mdev_types and the NVIDIA vGPU manager with "
     "'openstack gpu host check --nova-conf' on the compute"),
)
_ISOLATE = (', the flavor may ask for more vGPUs than a host has GPUs of '
            'the type ({count} groups with group_policy=isolate: one vGPU '
            'per physical GPU)')


def _vgpu_explanation(message, groups):
    numbered = [g for g in groups if g.group]
    for pattern, text in _VGPU_EXPLANATIONS:
        if re.search(pattern, message):
            return '%s (%s)' % (message.rstrip('.'), text.format(
                gpus=', '.join(str(g) for g in groups),
                isolate=_ISOLATE.format(count=len(numbered))
                if len(numbered) > 1 else ''))
    return message


def explain(message, requests=()):
    """One line: nova's message, then what it means for GPUs.

    ``requests`` are the flavor's GPU requests, or its vGPU groups
    (:class:`vgpu.VgpuGroup`).
    """
    message = ' '.join(str(message or 'no fault recorded').split())
    if requests and all(isinstance(r, vgpu.VgpuGroup) for r in requests):
        return _vgpu_explanation(message, requests)
    gpus = gpu_request.render_alias_spec(requests) if requests else 'the GPUs'
    for pattern, text in _EXPLANATIONS:
        match = re.search(pattern, message)
        if match:
            found = match.group(1) if match.groups() else ''
            return '%s (%s)' % (message.rstrip('.'),
                                text.format(gpus=gpus, match=found))
    return message
