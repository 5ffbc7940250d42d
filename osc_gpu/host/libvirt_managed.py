"""Which GPUs libvirt will not take from their host driver by itself.

nova gives libvirt each PCI device as ``<hostdev managed='yes'>``: when a
server starts, libvirt unbinds the device from its host driver (nvidia,
nouveau, amdgpu...) and binds it to vfio-pci, and gives it back when the
server is gone. A GPU still on its host driver therefore works, as long as
the driver lets go of it. The device_spec tag ``"managed": "no"`` (nova
2025.1 Epoxy and later) asks for ``managed='no'`` instead: the device must
then be bound to vfio-pci before the server starts.

Reads the device_spec values of a nova.conf parsed by ``nova_pci_conf``; a
value nova would refuse is left to its checks (nova would not start).
"""

import json

from osc_gpu.rules import booleans
from osc_gpu.rules import nova_conf
from osc_gpu.rules import nova_pci


def _device_specs(conf):
    """(option, spec object) for each device_spec nova reads, in order."""
    found = []
    for option in conf.option('pci', 'device_spec'):
        text, reference = nova_conf.substitute(option.value)
        if reference:
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            continue
        issues = nova_pci.validate_device_spec(value)
        if any(i.severity == nova_pci.PROBLEM for i in issues):
            continue
        found += [(option, s) for s in nova_pci.device_spec_entries(value)]
    return found


def _says_no(value):
    return value is False or (isinstance(value, str) and value.strip()
                              .lower() in booleans.FALSE_STRINGS)


def unmanaged_devices(conf, devices):
    """{address: where} for each device whose device_spec says
    ``"managed": "no"``; ``where`` names the nova.conf line.

    As nova, the first device_spec that selects a device is its own.
    """
    specs = _device_specs(conf)
    unmanaged = {}
    for device in devices:
        for option, spec in specs:
            if nova_pci.device_spec_matches(spec, device.vendor_id,
                                            device.product_id,
                                            device.address):
                if _says_no(spec.get('managed')):
                    unmanaged[device.address] = (
                        f'line {option.lineno} [{option.section}] '
                        f'{option.key}')
                break
    return unmanaged
