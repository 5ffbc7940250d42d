"""nova.conf's vGPU options as nova-compute reads them when it starts.

- ``nova_devices_config``: input ``{"hex": str}``, a whole nova.conf as
  bytes. oslo.config reads it with nova's ``[devices]`` options
  registered (a ConfigOpts of its own per case: the dynamic
  ``[mdev_<type>]`` groups depend on the file), then
  ``LibvirtDriver._get_supported_vgpu_types`` runs on it, as in the
  driver's ``__init__``, with the driver's attributes it fills. Answers
  ``types`` (the types nova keeps), ``default``, ``by_address``
  ({address: type}), ``limits`` (max_instances per type) and ``classes``
  ({type: mdev_class} of the types in use). ``ok`` is false when
  oslo.config refuses the file or a value, or nova raises
  InvalidLibvirtMdevConfig.

Addresses that are not PCI addresses are checked by nova against the
judging machine's /sys/devices/virtual (mtty and the like): the check
refuses them all, a documented strictness.
"""

import collections
import os
import tempfile
import types

from oslo_config import cfg

import nova.conf.devices
from nova import exception
from nova.virt.libvirt import driver

# oslo.config refusing the file or a value ($references, bad values).
CONF_REFUSALS = (cfg.Error, ValueError, RecursionError)
REFUSALS = (exception.InvalidLibvirtMdevConfig,) + CONF_REFUSALS


def _why(exc):
    return '%s: %s' % (type(exc).__name__, str(exc)[:300])


def _read(data):
    conf = cfg.ConfigOpts()
    nova.conf.devices.register_opts(conf)
    fd, path = tempfile.mkstemp(prefix='nova-judge-', suffix='.conf')
    try:
        os.write(fd, data)
        os.close(fd)
        conf(args=[], default_config_files=[path], default_config_dirs=[],
             project='nova', use_env=False)
    finally:
        os.unlink(path)
    return conf


def _fake_driver():
    """What ``LibvirtDriver.__init__`` sets before it asks for the types."""
    fake = types.SimpleNamespace(
        pgpu_type_mapping=collections.defaultdict(str),
        mdev_class_mapping=collections.defaultdict(lambda: 'VGPU'),
        mdev_classes=set(), mdev_type_max_mapping=collections.defaultdict(
            str), pgpu_type_default=None, virtual_mdevs=set())
    fake._validate_device_address = types.MethodType(
        driver.LibvirtDriver._validate_device_address, fake)
    return fake


def devices_config(case):
    try:
        conf = _read(bytes.fromhex(case['hex']))
    except CONF_REFUSALS as exc:
        return {'ok': False, 'why': _why(exc), 'file': _why(exc)}
    fake = _fake_driver()
    saved = driver.CONF
    driver.CONF = conf
    try:
        kept = driver.LibvirtDriver._get_supported_vgpu_types(fake)
    except REFUSALS as exc:
        return {'ok': False, 'why': _why(exc), 'file': ''}
    finally:
        driver.CONF = saved
    used = set(fake.pgpu_type_mapping.values()) | {fake.pgpu_type_default}
    classes = {fake.pgpu_type_mapping[a]: c
               for a, c in fake.mdev_class_mapping.items()}
    if fake.pgpu_type_default is not None:
        group = getattr(conf, 'mdev_%s' % fake.pgpu_type_default)
        classes[fake.pgpu_type_default] = group.mdev_class
    return {'ok': True, 'file': '', 'types': kept,
            'default': fake.pgpu_type_default,
            'by_address': dict(fake.pgpu_type_mapping),
            'limits': dict(fake.mdev_type_max_mapping),
            'classes': {t: c for t, c in classes.items() if t in used}}


FAMILIES = {'nova_devices_config': devices_config}
