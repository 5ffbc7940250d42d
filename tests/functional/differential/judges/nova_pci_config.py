"""nova.conf's ``[pci]`` options as nova-compute and nova-api read them.

- ``pci_alias_config``: input ``{"aliases": [str], "pci_in_placement":
  bool}``, the ``[pci] alias`` values; nova's
  ``request.get_alias_from_config`` (its JSON schema, the grouping by
  stripped name, numa_policy/device_type agreement, the required ids).
  Answers ``names``, the alias names nova made.
- ``pci_device_spec_config``: input ``{"device_specs": [str],
  "report_in_placement": bool}``, the ``[pci] device_spec`` values;
  ``whitelist.Whitelist(CONF.pci.device_spec)`` as nova-compute builds it
  at start (``nova.pci.devspec.PciDeviceSpec`` for each object).
- ``nova_conf_pci``: input ``{"hex": str}``, a whole nova.conf as bytes;
  oslo.config reads it with every nova option registered (a ConfigOpts
  and groups of its own, so the other families' overrides do not leak
  in) and answers
  ``file`` (oslo's refusal of the whole file, or '') and ``options``:
  ``{"pci.alias": [str] or null, ...}``, null where reading the option
  fails, with ``errors`` saying why. ``ok`` is true when the file and all
  four options read. With ``"nova_accepts": true`` it also answers
  ``aliases_ok``/``device_specs_ok`` (and their ``*_why``): the two
  families above run on the values oslo read.

Both option families go through ``CONF`` with overrides, so oslo.config's
``$`` substitution applies as it does to values from a file; the overrides
are removed again after each case.
"""

import contextlib
import os
import re
import tempfile

from oslo_config import cfg

import nova.conf
from nova import exception
from nova.pci import request as pci_request
from nova.pci import whitelist

CONF = nova.conf.CONF
OPTIONS = (('pci', 'alias'), ('pci', 'device_spec'),
           ('pci', 'report_in_placement'),
           ('filter_scheduler', 'pci_in_placement'))

# oslo.config refusing a file or a value: parse errors, values a type
# refuses, $references to no option (or to itself), bytes the locale
# cannot decode.
CONF_REFUSALS = (cfg.Error, ValueError, RecursionError)
# How nova-api refuses [pci] alias: PciInvalidAlias, or reading the option.
ALIAS_REFUSALS = (exception.PciInvalidAlias,) + CONF_REFUSALS
# How nova-compute fails to start on a device_spec: its own exceptions,
# ValueError (JSON), and what PciDeviceSpec lets escape on values of the
# wrong JSON type (vendor_id.strip(), int(None, 16), re.compile(5)) or
# on JSON nested too deeply; or reading the option.
DEVICE_SPEC_REFUSALS = (exception.NovaException, TypeError,
                        AttributeError) + CONF_REFUSALS


def _nova_options():
    """A ConfigOpts with the options nova.conf registers on CONF.

    Groups of its own (OptGroup objects keep overrides: the other
    families' CONF.set_override must not show here), the same options.
    """
    conf = cfg.ConfigOpts()
    with open(nova.conf.__file__, encoding='utf-8') as f:
        modules = re.findall(r'^(\w+)\.register_opts\(CONF\)', f.read(),
                             re.M)
    for module in modules:
        for group, opts in getattr(nova.conf, module).list_opts().items():
            name = getattr(group, 'name', group)
            for opt in opts:
                if opt.required:
                    continue    # keystoneauth plugins' auth-url & co.
                try:
                    conf.register_opt(
                        opt, group=None if name == 'DEFAULT' else name)
                except cfg.DuplicateOptError:
                    pass    # keystoneauth options listed twice
    return conf


FILE_CONF = _nova_options()


@contextlib.contextmanager
def overrides(values):
    """``{(group, name): value}`` set on CONF for the duration."""
    for (group, name), value in values.items():
        CONF.set_override(name, value, group=group)
    try:
        yield
    finally:
        for group, name in values:
            CONF.clear_override(name, group=group)
        pci_request.get_alias_from_config.cache_clear()


def _why(exc):
    return '%s: %s' % (type(exc).__name__, str(exc)[:300])


def alias_config(case):
    with overrides({('pci', 'alias'): case['aliases'],
                    ('filter_scheduler', 'pci_in_placement'):
                        case['pci_in_placement']}):
        pci_request.get_alias_from_config.cache_clear()
        try:
            aliases = pci_request.get_alias_from_config()
        except ALIAS_REFUSALS as exc:
            return {'ok': False, 'why': _why(exc)}
        return {'ok': True, 'names': sorted(aliases)}


def device_spec_config(case):
    with overrides({('pci', 'device_spec'): case['device_specs'],
                    ('pci', 'report_in_placement'):
                        case['report_in_placement']}):
        try:
            whitelist.Whitelist(CONF.pci.device_spec)
        except DEVICE_SPEC_REFUSALS as exc:
            return {'ok': False, 'why': _why(exc)}
        return {'ok': True}


def _read_file(data):
    fd, path = tempfile.mkstemp(prefix='nova-judge-', suffix='.conf')
    try:
        os.write(fd, data)
        os.close(fd)
        FILE_CONF.clear()
        FILE_CONF(args=[], default_config_files=[path],
                  default_config_dirs=[], project='nova', use_env=False)
    finally:
        os.unlink(path)


def nova_conf_pci(case):
    try:
        _read_file(bytes.fromhex(case['hex']))
    except CONF_REFUSALS as exc:
        return {'ok': False, 'why': _why(exc), 'file': _why(exc),
                'options': {}, 'errors': {}}
    options, errors = {}, {}
    for group, name in OPTIONS:
        key = '%s.%s' % (group, name)
        try:
            options[key] = FILE_CONF[group][name]
        except CONF_REFUSALS as exc:
            options[key], errors[key] = None, _why(exc)
    answer = {'ok': not errors, 'why': '; '.join(errors.values()),
              'file': '', 'options': options, 'errors': errors}
    if case.get('nova_accepts') and not errors:
        aliases = alias_config({
            'aliases': options['pci.alias'],
            'pci_in_placement': options['filter_scheduler.pci_in_placement']})
        specs = device_spec_config({
            'device_specs': options['pci.device_spec'],
            'report_in_placement': options['pci.report_in_placement']})
        answer.update(aliases_ok=aliases['ok'], aliases_why=aliases['why']
                      if not aliases['ok'] else '',
                      device_specs_ok=specs['ok'],
                      device_specs_why=specs.get('why', ''))
    return answer


FAMILIES = {'pci_alias_config': alias_config,
            'pci_device_spec_config': device_spec_config,
            'nova_conf_pci': nova_conf_pci}
