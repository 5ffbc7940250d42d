"""Check nova.conf's vGPU options (``[devices]``, ``[mdev_<type>]``).

The file comes read by ``rules.nova_conf`` (oslo.config's rules); the
values are read and resolved as nova-compute does (``rules.nova_devices``):
the new option and group names win over the old ones, the last value of
an option counts, and the types end up as one type per GPU. Findings are
one line each, values echoed escaped: first what nova-compute refuses or
ignores in the file alone (``read_mdev_options``, the lint), then what
cannot work on this host (``check_mdev_conf``).
"""

import collections
import dataclasses

from osc_gpu.host import facts
from osc_gpu.host.readiness import Finding, PROBLEM, WARNING
from osc_gpu.rules import nova_conf
from osc_gpu.rules import nova_devices as nd
from osc_gpu.rules.echo import shown

CHECK = 'nova-conf'
SHOWN_TYPES = 8


def _where(option):
    return f'line {option.lineno} [{option.section}] {option.key}'


def _name(value):
    """A type or address in running text: as written when plain."""
    plain = value and value.isprintable() and len(value) <= 60 and \
        ',' not in value
    return value if plain else shown(value)


def _problem(option, message, fix=''):
    return Finding(PROBLEM, CHECK, str(option.lineno),
                   f'{_where(option)} {message}', fix)


def _warning(option, message, fix=''):
    return Finding(WARNING, CHECK, str(option.lineno),
                   f'{_where(option)} {message}', fix)


@dataclasses.dataclass(frozen=True)
class MdevOptions:
    """The file's vGPU options as nova-compute reads them."""

    types: tuple            # enabled_mdev_types as written (after reading)
    groups: dict            # type -> nova_devices.TypeGroup
    layout: object          # nova_devices.MdevLayout
    findings: list

    @property
    def problems(self):
        return [f for f in self.findings if f.severity == PROBLEM]


class _Reader:
    def __init__(self, conf):
        self.conf = conf
        self.findings = []

    def last(self, *names):
        """The Option nova reads: the last of the first (section, key)
        written at all, new names first."""
        for section, key in names:
            options = self.conf.values(section, key)
            if options:
                return options[-1]
        return None

    def text(self, option):
        """The option's value, or None (and a problem) for a $name."""
        value, reference = nova_conf.substitute(option.value)
        if reference:
            self.findings.append(_problem(option, (
                f'holds {shown(reference)}, a reference to another option, '
                'which oslo.config puts in its place'),
                'write $$ for a literal $'))
            return None
        return value

    def types(self):
        for old in self.conf.values(nd.DEVICES, nd.OLD_ENABLED):
            self.findings.append(_warning(
                old, 'is an old option name',
                f'rename it to [{nd.DEVICES}] {nd.ENABLED}'))
        option = self.last((nd.DEVICES, nd.ENABLED),
                           (nd.DEVICES, nd.OLD_ENABLED))
        value = self.text(option) if option else None
        if value is None:
            return ()
        types = nd.parse_list(value)
        if '' in types:
            self.findings.append(_problem(option, (
                'has an empty item: nova would enable a type named "" that '
                'no device offers'), 'remove the extra comma'))
        for type_id, count in collections.Counter(types).items():
            if count > 1 and type_id:
                self.findings.append(_warning(
                    option, f'lists {_name(type_id)} {count} times',
                    'list each type once'))
        return tuple(types)

    def group(self, type_id):
        new, old = nd.group_name(type_id), nd.old_group_name(type_id)
        for option in self.conf.options:
            if option.section == old:
                self.old_group_option(option, new)
        values = {}
        for key, spec in nd.MDEV_OPTIONS.items():
            names = [(new, key)] + ([(old, key)] if spec.old_group else [])
            option = self.last(*names)
            if option is not None:
                values[key] = self.value(option, key, spec, type_id)
        fields = {'device_addresses': 'addresses'}
        return nd.TypeGroup(type_id, **{fields.get(k, k): v
                                        for k, v in values.items()
                                        if v is not None})

    def old_group_option(self, option, new):
        if option.key not in nd.MDEV_OPTIONS:
            return  # reported as an unknown key
        if nd.MDEV_OPTIONS[option.key].old_group:
            self.findings.append(_warning(
                option, 'is in the old group name',
                f'move it to [{new}]'))
        else:
            self.findings.append(_problem(option, (
                f'is ignored: nova reads only device_addresses from '
                f'[{option.section}]'), f'move it to [{new}]'))

    def value(self, option, key, spec, type_id):
        text = self.text(option)
        if text is None:
            return None
        if spec.kind == 'addresses':
            return self.addresses(option, text, type_id)
        if spec.kind == 'class':
            rule = nd.class_rule(text)
            if rule:
                self.findings.append(_problem(option, (
                    f'{shown(text)} {rule}: nova-compute does not start'),
                    f'write VGPU or a class like {spec.example}'))
                return None
            return text
        number, rule = nd.count_value(text)
        if rule:
            self.findings.append(_problem(option, (
                f'{shown(text)} {rule}: nova-compute does not start'),
                f'write a number like {spec.example}'))
        return number

    def addresses(self, option, text, type_id):
        addresses = tuple(nd.parse_list(text))
        for address in addresses:
            rule = nd.address_rule(address)
            if rule:
                self.findings.append(_problem(option, (
                    f'{shown(address)} {rule}: nova-compute stops or never '
                    f'gives {_name(type_id)} to that GPU'),
                    'write the address as sysfs lists it, e.g. '
                    '0000:84:00.0 (ls /sys/class/mdev_bus)'))
        return addresses

    def duplicates(self, types, groups):
        seen = {}
        for type_id in types:
            group = groups[type_id]
            for address in group.addresses:
                if address in seen:
                    first = seen[address]
                    both = (f'{_name(first)} and {_name(type_id)}'
                            if first != type_id else f'{_name(type_id)} twice')
                    option = self.last(
                        (nd.group_name(type_id), 'device_addresses'),
                        (nd.old_group_name(type_id), 'device_addresses'))
                    self.findings.append(_problem(option, (
                        f'gives {_name(address)} to {both}: nova-compute '
                        'does not start (InvalidLibvirtMdevConfig)'),
                        'give each GPU one type'))
                seen.setdefault(address, type_id)

    def leftovers(self, types):
        """Sections and keys nova does not read at all."""
        mine = {nd.group_name(t) for t in types} | {
            nd.old_group_name(t) for t in types}
        reported = set()
        for option in self.conf.options:
            section = option.section
            if section == nd.DEVICES and option.key not in (
                    nd.ENABLED, nd.OLD_ENABLED):
                self.findings.append(_warning(option, (
                    f'is not a nova option: nova reads only {nd.ENABLED} '
                    f'from [{nd.DEVICES}]'), 'check the spelling'))
            elif section.startswith((nd.GROUP, nd.OLD_GROUP)):
                if section not in mine and section not in reported:
                    reported.add(section)
                    self.findings.append(_warning(option, (
                        f'is ignored: [{section}] is for a type '
                        f'{nd.ENABLED} does not list'),
                        'add the type there, or remove the section'))
                elif section in mine and option.key not in nd.MDEV_OPTIONS:
                    self.findings.append(_warning(option, (
                        'is not an option nova reads there (known: '
                        f'{", ".join(nd.MDEV_OPTIONS)})'),
                        'check the spelling'))


def read_mdev_options(conf):
    """Read and check the vGPU options of the file alone: the lint."""
    reader = _Reader(conf)
    types = reader.types()
    groups = {t: reader.group(t) for t in dict.fromkeys(types)}
    reader.duplicates(list(types), groups)
    reader.leftovers(types)
    layout = nd.resolve(types, groups)
    option = reader.last((nd.DEVICES, nd.ENABLED),
                         (nd.DEVICES, nd.OLD_ENABLED))
    for type_id, default in layout.dropped:
        if type_id == default:
            continue    # listed twice, reported above
        reader.findings.append(_problem(option, (
            f'enables {_name(type_id)} without device_addresses, but '
            f'{_name(default)} has none either and comes first: nova makes '
            f'{_name(default)} the type of every GPU not listed and drops '
            f'{_name(type_id)}'), f'give [{nd.group_name(type_id)}] '
            'device_addresses (or remove the type)'))
    return MdevOptions(types, groups, layout, reader.findings)


# -- against the host ------------------------------------------------------

def _offered(host):
    """{parent: {type id: MdevType}} of the host."""
    return {parent: {t.type_id: t for t in types}
            for parent, types in host.mdev_types.items() if types}


def _list(values, limit=SHOWN_TYPES):
    values = [_name(v) for v in values]
    more = len(values) - limit
    return ', '.join(values[:limit]) + (f' and {more} more' if more > 0
                                        else '')


def _no_types_here(host, option, types):
    device = next((d for d in host.devices.values() if d.vgpu_variant), None)
    if device is not None:
        fix = (f'{device.address} and the other VFs are on NVIDIA\'s kernel '
               'variant driver, which makes no mdevs: configure them as PCI '
               "passthrough (run 'openstack gpu host config') and remove "
               f'[{nd.DEVICES}] {nd.ENABLED}')
    elif not host.vgpu_manager and any(d.vendor_id == '10de'
                                       for d in host.gpus()):
        fix = (f'load NVIDIA\'s vGPU manager ({facts.VGPU_MANAGER_MODULE} '
               'is not in /proc/modules): install the vGPU host driver and '
               'start nvidia-vgpu-mgr')
    else:
        fix = ('enable the SR-IOV VFs of the GPUs (NVIDIA: '
               '/usr/lib/nvidia/sriov-manage -e ADDRESS) or install the '
               "vendor's vGPU host driver")
    return _problem(option, (
        f'enables {_list(types)}, but no device of this host offers mdev '
        'types (/sys/class/mdev_bus is empty): nova offers no vGPU here'),
        fix)


def _check_addresses(host, option, layout, offered, type_id):
    findings = []
    for address in layout.addresses_of(type_id):
        device = host.devices.get(address)
        if address in offered and type_id in offered[address]:
            findings += _check_in_use(option, address, offered[address],
                                      type_id)
            continue
        if address in offered:
            message = (f'gives {address} type {_name(type_id)}, which it does '
                       f'not offer (it offers {_list(offered[address])})')
        elif device is None:
            message = f'gives {_name(type_id)} to {address}: no such device'
        else:
            message = (f'gives {_name(type_id)} to {address}, which offers '
                       'no mdev types' + (
                           " (a VF on NVIDIA's variant driver: pass it through"
                           ' as a PCI device instead)' if device.vgpu_variant
                           else ''))
        findings.append(_problem(option, message + ': nova gives that device '
                                 'no vGPU inventory', 'list only devices '
                                 'that offer the type (ls /sys/class/mdev_bus/'
                                 f'*/mdev_supported_types/{type_id})'))
    return findings


def _pf(host, address):
    device = host.devices.get(address)
    return device.physfn if device is not None else None


def _check_in_use(option, address, types, type_id):
    """A GPU without SR-IOV runs one type at a time: mdevs of another
    type leave no room for this one until they are gone."""
    others = [t for t in types.values() if t.created and t.type_id != type_id]
    if not others or types[type_id].available:
        return []
    return [Finding(WARNING, CHECK, address, (
        f'{_where(option)} gives {address} {_name(type_id)}, but it has '
        f'{others[0].created} mdev{"s" if others[0].created > 1 else ""} of '
        f'{_name(others[0].type_id)} and no room for {_name(type_id)}: nova '
        'offers it no vGPU until they are gone'),
        "move the servers using them first (nova's guide: new types on new "
        'computes, then rebuild)')]


def _check_defaults(host, layout, offered):
    """The devices nova gives the default type, or none."""
    # VFs of a GPU some of whose VFs are listed are left out on purpose:
    # the GPU holds fewer vGPUs of the type than it has VFs.
    listed = {_pf(host, a) for a in layout.by_address} - {None}
    left = [p for p in offered if p not in layout.by_address
            and _pf(host, p) not in listed]
    if layout.default is not None and not any(
            layout.default in types for types in offered.values()):
        return []   # a type no device offers: reported as such
    if layout.default is None:
        missing, why = left, 'no type: no enabled type lists them'
    else:
        missing = [p for p in left if layout.default not in offered[p]]
        why = (f'no vGPU: they do not offer {_name(layout.default)}, the '
               'type of every device not listed')
    if not missing:
        return []
    return [Finding(WARNING, CHECK, missing[0], (
        f'{_list(missing, 4)} offer mdev types but nova gives them {why}'),
        'list them in device_addresses of a type they offer, if they are '
        'for vGPUs')]


def _check_limits(host, layout, offered):
    findings = []
    for type_id in layout.types:
        parents = [p for p in offered if layout.type_of(p) == type_id]
        vfs = [p for p in parents if p in host.devices
               and host.devices[p].is_vf]
        if vfs and type_id not in layout.limits:
            findings.append(Finding(WARNING, CHECK, type_id, (
                f'{_name(type_id)} is on SR-IOV VFs ({_list(vfs, 3)}) and has '
                'no max_instances: each VF reports one vGPU, more than the '
                'GPU may hold'), f'set [{nd.group_name(type_id)}] '
                'max_instances to what the GPUs hold (nova 2024.1 and '
                "later; 'openstack gpu host config' computes it)"))
    return findings


def check_mdev_conf(conf, host):
    """The lint, then the vGPU options against this host's mdev types.

    Return a summary dict for the report and a list of ``Finding``.
    """
    options = read_mdev_options(conf)
    findings = list(options.findings)
    layout = options.layout
    summary = {'enabled_mdev_types': list(layout.types),
               'default_mdev_type': layout.default,
               'mdev_device_addresses': dict(layout.by_address)}
    if not layout.types or options.problems:
        return summary, findings
    option = _Reader(conf).last((nd.DEVICES, nd.ENABLED),
                                (nd.DEVICES, nd.OLD_ENABLED))
    offered = _offered(host)
    if not offered:
        return summary, findings + [_no_types_here(host, option,
                                                   layout.types)]
    here = sorted({t for types in offered.values() for t in types})
    for type_id in layout.types:
        if type_id not in here:
            findings.append(_problem(option, (
                f'enables {_name(type_id)}, which no device of this host '
                f'offers (types here: {_list(here)})'),
                'enable a type this host offers'))
            continue
        group = nd.group_name(type_id)
        findings += _check_addresses(host, _Reader(conf).last(
            (group, 'device_addresses'),
            (nd.old_group_name(type_id), 'device_addresses')) or option,
            layout, offered, type_id)
    findings += _check_defaults(host, layout, offered)
    findings += _check_limits(host, layout, offered)
    return summary, findings
