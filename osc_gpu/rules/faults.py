"""Nova's terse GPU failures, explained in an operator's terms.

Nova tells a user only "No valid host was found"; the reason sits in the
scheduler's debug log. For GPU servers the causes are few and known, so
each known message maps to what to check.
"""

import re

from osc_gpu.rules import gpu_request

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


def explain(message, requests=()):
    """One line: nova's message, then what it means for GPUs."""
    message = ' '.join(str(message or 'no fault recorded').split())
    gpus = gpu_request.render_alias_spec(requests) if requests else 'the GPUs'
    for pattern, text in _EXPLANATIONS:
        match = re.search(pattern, message)
        if match:
            found = match.group(1) if match.groups() else ''
            return '%s (%s)' % (message.rstrip('.'),
                                text.format(gpus=gpus, match=found))
    return message
