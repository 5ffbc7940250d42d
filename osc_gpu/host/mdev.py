"""Read what a vGPU host adds to sysfs and procfs: mdev types, kernel
modules, mdevctl and the host name.

Each function takes the ``sysfs.HostReader`` doing the read, so paths are
below its root and every value Linux never writes becomes one escaped
error of that reader, as for the PCI devices:

- ``/sys/class/mdev_bus/<parent>/mdev_supported_types/<type>/`` with
  ``name``, ``available_instances``, ``device_api``, ``description`` and
  ``devices/`` (the mdevs of that type that exist), as the kernel's
  Documentation/driver-api/vfio-mediated-device.rst describes them and
  libvirt reads them for nova;
- ``/proc/modules`` (is NVIDIA's vGPU manager, nvidia_vgpu_vfio, loaded);
- mdevctl under ``usr/sbin``, ``usr/bin``, ``sbin`` or ``bin``: nova
  2024.2 Dalmatian and later define mdevs persistently through libvirt,
  which runs mdevctl;
- ``/proc/sys/kernel/hostname``, the name nova knows the compute by unless
  nova.conf sets ``[DEFAULT] host``.
"""

import os
import re

from osc_gpu.host import facts

MDEV_BUS = 'sys/class/mdev_bus'
MODULES = 'proc/modules'
HOSTNAME = 'proc/sys/kernel/hostname'
MDEVCTL_DIRS = ('usr/sbin', 'usr/bin', 'sbin', 'bin')
TEXT_MAX = 1024     # a type's name or description: a line or a few
_MODULE_NAME = re.compile(r'[A-Za-z0-9_-]{1,64}')


def natural_key(type_id):
    """nvidia-2 before nvidia-11: numbers compare as numbers."""
    return [(0, int(p), '') if p.isdigit() and p.isascii() else (1, 0, p)
            for p in re.split(r'([0-9]+)', type_id)]


def _names(reader, relative, kind):
    """Entries of a directory that are ``kind``; an error for the rest."""
    return [name for name in reader.list_dir(relative)
            if reader.check_value(relative, os.fsencode(name), kind,
                                  'has an entry') is not None]


def read_mdev_types(reader):
    """{parent: (MdevType, ...)} of every mdev-capable device."""
    found = {}
    for parent in _names(reader, MDEV_BUS, 'mdev'):
        base = f'{MDEV_BUS}/{parent}/mdev_supported_types'
        types = [_read_type(reader, parent, f'{base}/{type_id}')
                 for type_id in _names(reader, base, 'mdev')]
        found[parent] = tuple(sorted(
            (t for t in types if t is not None),
            key=lambda t: natural_key(t.type_id)))
    return found


def _read_type(reader, parent, base):
    before = len(reader.errors)
    available = reader.read_value(f'{base}/available_instances', 'count',
                                  required=True)
    device_api = reader.read_value(f'{base}/device_api', 'name',
                                   required=True)
    name = reader.read_lines(f'{base}/name', TEXT_MAX)
    description = reader.read_lines(f'{base}/description', TEXT_MAX)
    created = len(_names(reader, f'{base}/devices', 'uuid'))
    if len(reader.errors) > before:
        return None
    return facts.MdevType(parent=parent, type_id=base.rsplit('/', 1)[1],
                          name=name, available=int(available),
                          device_api=device_api, description=description,
                          created=created)


def read_modules(reader):
    """Names of the loaded kernel modules. Only looked up, never echoed:
    a line that is no module name is skipped."""
    names = set()
    for line in (reader.read_text(MODULES, '') or '').splitlines():
        name = line.split(' ', 1)[0]
        if _MODULE_NAME.fullmatch(name):
            names.add(name)
    return frozenset(names)


def find_mdevctl(reader):
    """Where mdevctl is installed on the host (as a path on the host)."""
    for directory in MDEVCTL_DIRS:
        if os.path.isfile(reader.path(f'{directory}/mdevctl')):
            return f'/{directory}/mdevctl'
    return None


def read_hostname(reader):
    """The kernel's host name, or None when unknown."""
    return reader.read_value(HOSTNAME, 'hostname')
