"""Generate nova.conf ``[pci]`` lines and kernel arguments for a host.

Pure: builds a ``HostConfig`` from ``HostFacts`` and the GPU inventory,
and renders it as a nova.conf fragment; the vGPU lines (``[devices]``,
``[mdev_<type>]``) come from ``vgpu_config``. Writing it anywhere is the
caller's business (and only on request).

SR-IOV VFs (those of NVIDIA's vGPU variant driver above all) are passed
through one ``device_spec`` per VF address, since a VF has its PF's ids
and nova refuses a spec that selects both; with a ``resource_class`` per
model (nova refuses VFs of one PF with different ones) that the alias
asks for, and ``"managed": "no"`` on the variant driver, which must keep
them (nova 2025.1 Epoxy and later).
"""

import dataclasses
import textwrap

from osc_gpu.rules import nova_pci
from osc_gpu.rules.echo import shown
from osc_gpu.host import inventory
from osc_gpu.host import readiness
from osc_gpu.host import vgpu_config
from osc_gpu.rules import gpu_models


class ConfigError(ValueError):
    """A request the generator cannot honour; the message says why."""


@dataclasses.dataclass(frozen=True)
class PlacementSetting:
    """A nova.conf line that turns on PCI in Placement, and where it goes."""

    section: str
    option: str
    where: str          # which nova services read it
    since: str          # first nova release that has it
    note: str

    @property
    def line(self):
        return f'{self.option} = true'

    def as_dict(self):
        return {'section': self.section, 'option': self.option,
                'value': 'true', 'where': self.where, 'since': self.since}


# Both halves of PCI in Placement (nova/conf/pci.py, nova/conf/scheduler.py):
# computes report their GPUs as resource providers, the scheduler asks
# placement for them. Aliases are then checked by nova's placement rules.
PLACEMENT_SETTINGS = (
    PlacementSetting('pci', 'report_in_placement', 'every nova-compute',
                     'Zed', 'once on, it cannot be turned off'),
    PlacementSetting('filter_scheduler', 'pci_in_placement',
                     'nova-api, nova-scheduler and every nova-conductor',
                     '2023.1 Antelope',
                     'turn it on once every compute reports to placement'),
)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """One GPU model of the host and the nova names it gets."""

    vendor_id: str
    product_id: str
    name: str
    alias: str
    device_type: str
    addresses: tuple
    resource_class: str | None = None   # VFs: the class their alias asks
    unmanaged: bool = False             # VFs on the vGPU variant driver

    @property
    def ids(self):
        return f'{self.vendor_id}:{self.product_id}'

    @property
    def is_vf(self):
        return self.device_type == 'type-VF'


@dataclasses.dataclass(frozen=True)
class HostConfig:
    models: list
    device_specs: list       # JSON objects for [pci] device_spec (compute)
    aliases: list            # JSON objects for [pci] alias (everywhere)
    kernel_args: list        # to add to the kernel command line
    modprobe: list           # lines for /etc/modprobe.d/vfio.conf
    notes: list              # what the operator must know, one per line
    vgpu: object = None      # vgpu_config.VgpuConfig, or None

    @property
    def vfio_pci_ids(self):
        for arg in self.kernel_args:
            if arg.startswith('vfio-pci.ids='):
                return arg.split('=', 1)[1].split(',')
        return []


def _plain(value):
    """A value in running text: as typed when printable, else escaped."""
    return value if value.isprintable() else shown(value)


def _both(first, second):
    return (f'--alias-name {shown(first)} and {shown(second)} both name '
            'the alias of')


def parse_alias_names(values):
    """Turn ['P4=gpu-p4', ...] into {'P4': 'gpu-p4'}; refuse bad items.

    A model named twice with two names is refused: no silent last-wins.
    """
    names, given = {}, {}
    for value in values or ():
        model, sep, name = value.partition('=')
        model, name = model.strip(), name.strip()
        if not sep or not model or not name:
            raise ConfigError(
                f'invalid --alias-name {shown(value)}: expected MODEL=NAME, '
                'e.g. --alias-name P4=gpu-p4 or --alias-name 10de:1bb3=p4')
        rule = nova_pci.validate_alias_name(name)
        if not rule and not name.isprintable():
            rule = 'name must be printable characters only'
        if rule:
            raise ConfigError(f'invalid --alias-name {shown(value)}: alias '
                              f'{rule}')
        previous = given.setdefault(model.lower(), value)
        if names.get(previous.partition('=')[0].strip(), name) != name:
            raise ConfigError(f'{_both(previous, value)} {_plain(model)}: '
                              'give each model one name')
        names.setdefault(model, name)
    return names


def _model_keys(entry):
    """What --alias-name MODEL may say for this GPU, lowercased."""
    keys = {entry.device.ids, entry.alias.lower(),
            gpu_models.suggested_alias(entry.device.vendor_id,
                                       entry.device.product_id).lower()}
    if entry.model:
        keys.add(entry.model.name.lower())
    return keys


def _alias_for(entry, alias_names):
    for model, name in alias_names.items():
        if model.lower() in _model_keys(entry):
            return name
    return entry.alias


def _check_alias_names(alias_names, gpus):
    known = set().union(*(_model_keys(e) for e in gpus)) if gpus else set()
    for model in alias_names:
        if model.lower() not in known:
            here = ', '.join(sorted({f'{e.alias} ({e.device.ids})'
                                     for e in gpus}))
            value = f'{model}={alias_names[model]}'
            raise ConfigError(
                f'invalid --alias-name {shown(value)}: no {_plain(model)} '
                f'GPU on this host; models here: {here}')
    for entry in gpus:
        named = {}
        for model, name in alias_names.items():
            if model.lower() in _model_keys(entry):
                named.setdefault(name, f'{model}={name}')
        if len(named) > 1:
            first, second = list(named.values())[:2]
            raise ConfigError(f'{_both(first, second)} {entry.name} '
                              f'({entry.device.ids}): give each model one '
                              'name')


def vf_resource_class(vendor_id, alias):
    """The class of a VF model: CUSTOM_<VENDOR>_<ALIAS>, normalised."""
    return nova_pci.normalize_resource_class(
        f'{gpu_models.vendor_name(vendor_id)}_{alias}')


def _models(gpus, alias_names):
    models = {}
    for entry in gpus:
        key = (entry.device.ids, entry.device.is_vf)
        previous = models.get(key)
        addresses = (previous.addresses if previous else ()) + (entry.address,)
        device_type = entry.device.nova_device_type
        if previous and previous.device_type == 'type-PF':
            device_type = 'type-PF'
        alias = _alias_for(entry, alias_names)
        vf = entry.device.is_vf
        models[key] = ModelConfig(
            entry.device.vendor_id, entry.device.product_id, entry.name,
            alias, device_type, addresses,
            vf_resource_class(entry.device.vendor_id, alias) if vf else None,
            (previous.unmanaged if previous else True) and
            entry.device.vgpu_variant)
    return list(models.values())


def _vf_spec(model, address):
    spec = nova_pci.device_spec(model.vendor_id, model.product_id, address)
    spec['resource_class'] = model.resource_class
    if model.unmanaged:
        spec['managed'] = 'no'
    return spec


def _alias(model, numa_policy):
    if not model.is_vf:
        return nova_pci.alias_spec(model.alias, model.vendor_id,
                                   model.product_id, model.device_type,
                                   numa_policy)
    # As nova's docs: the class selects the VFs (PCI in Placement).
    spec = {'name': model.alias, 'device_type': model.device_type,
            'resource_class': model.resource_class}
    if numa_policy:
        spec['numa_policy'] = numa_policy
    return spec


def _device_specs(models, all_gpus):
    specs = []
    for model in models:
        others = [e for e in all_gpus if e.device.ids == model.ids
                  and e.address not in model.addresses]
        if model.is_vf:
            specs += [_vf_spec(model, address) for address in model.addresses]
        elif others:
            # Same model also used by the host itself: select by address.
            specs += [nova_pci.device_spec(model.vendor_id,
                                           model.product_id, address)
                      for address in model.addresses]
        else:
            specs.append(nova_pci.device_spec(model.vendor_id,
                                              model.product_id))
    return specs


def _check_aliases(aliases):
    by_name = {}
    for alias in aliases:
        by_name.setdefault(alias['name'], []).append(alias)
    for name, specs in by_name.items():
        # With pci_in_placement (generated below), nova's stricter rules.
        for issue in nova_pci.check_alias_group(name, specs, True):
            raise ConfigError(f'cannot generate the aliases: {issue.message}'
                              ' (choose other --alias-name values)')


def _refuse_unreadable(host):
    if host.errors:
        more = len(host.errors) - 1
        raise ConfigError(
            f'cannot read this host: {host.errors[0].message}'
            + (f' (and {more} more)' if more else '')
            + "; run 'openstack gpu host check' for the details")


def _kernel_and_notes(host, gpus, models):
    """(kernel args, softdep drivers, notes) for the GPUs passed through.

    VFs stay out of vfio-pci.ids: they share their PF's ids, and on the
    variant driver they must keep it.
    """
    ids, drivers, notes = [], [], []
    for entry in gpus:
        if entry.device.is_vf:
            continue
        ids += readiness.vfio_ids(entry)
        grouped = entry.grouped_functions
        drivers += [d.driver for d in (entry.device,) + grouped
                    if not d.is_vfio_ready]
        for function in grouped:
            notes.append(
                f'{inventory.describe(function)} goes with GPU '
                f'{entry.address} (same card, same IOMMU group): '
                'vfio-pci.ids binds it to vfio-pci too; nova passes '
                'functions one by one, so it is not in device_spec')
    for model in (m for m in models if m.is_vf):
        notes.append(
            f'{len(model.addresses)} VFs ({model.ids}) pass through as '
            f'{model.resource_class} (alias {model.alias}): the VFs of one '
            'PF must share a resource_class (nova refuses mixed ones), so '
            'give each vGPU profile its own PFs, class and alias')
    if host.cpu_vendor is None:
        notes.append('CPU vendor unknown (no vendor_id in /proc/cpuinfo): '
                     'on AMD use amd_iommu=on instead of intel_iommu=on')
    kernel_args = readiness.kernel_iommu_args(host.cpu_vendor)
    if ids:
        kernel_args.append('vfio-pci.ids=' + ','.join(dict.fromkeys(ids)))
    return kernel_args, drivers, notes


def build_host_config(host, all_gpus, alias_names=None, numa_policy=None,
                      vgpu_types=None):
    """Build the nova and kernel settings passing ``all_gpus`` through,
    and sharing those that offer mdev types as vGPUs.

    ``all_gpus`` is the inventory (host consoles are left out here);
    ``vgpu_types`` the --vgpu-type values.
    """
    alias_names = alias_names or {}
    _refuse_unreadable(host)
    gpus = inventory.passthrough_gpus(all_gpus)
    try:
        shared = vgpu_config.for_host(host, all_gpus, vgpu_types)
    except vgpu_config.VgpuConfigError as exc:
        raise ConfigError(str(exc)) from None
    if not gpus and shared is None:
        raise ConfigError(vgpu_config.nothing_shared(all_gpus) or (
            'no GPU to pass through on this host (no PCI display controller '
            'or processing accelerator outside the host console); run '
            "'openstack gpu host check' for details"))
    _check_alias_names(alias_names, gpus)
    if numa_policy is not None and \
            numa_policy not in nova_pci.NUMA_POLICIES:
        raise ConfigError(f'invalid --numa-policy {shown(numa_policy)}: use '
                          f"one of {', '.join(nova_pci.NUMA_POLICIES)}")
    models = _models(gpus, alias_names)
    aliases = [_alias(m, numa_policy) for m in models]
    _check_aliases(aliases)
    kernel_args, drivers, notes = _kernel_and_notes(host, gpus, models)
    return HostConfig(
        models=models,
        device_specs=_device_specs(models, all_gpus),
        aliases=aliases,
        kernel_args=kernel_args,
        modprobe=[f'softdep {d} pre: vfio-pci'
                  for d in dict.fromkeys(drivers)],
        notes=notes,
        vgpu=shared,
    )


def _render_pci(config):
    lines = ['#', '# device_spec: this compute only. alias: the controller '
             '(nova-api) and every', '# compute (for move operations); the '
             'scheduler needs PciPassthroughFilter', '# in [filter_scheduler]'
             ' enabled_filters.', '[pci]']
    lines += [nova_pci.option_line('device_spec', s)
              for s in config.device_specs]
    lines += [nova_pci.option_line('alias', a) for a in config.aliases]
    for setting in PLACEMENT_SETTINGS:
        if setting.section != 'pci':
            lines += ['', f'[{setting.section}]']
        lines += textwrap.wrap(
            f'{setting.option}: {setting.where} (nova {setting.since} and '
            f'later); {setting.note}.', 76, initial_indent='# ',
            subsequent_indent='# ')
        lines.append(setting.line)
    return lines


def render_nova_conf(config):
    """The config as a nova.conf fragment; settings outside nova commented."""
    what = 'passthrough and vGPU' if config.vgpu and config.models else (
        'vGPU' if config.vgpu else 'passthrough')
    lines = [f"# GPU {what} settings generated by 'openstack gpu host "
             "config'.", '# Check them on the compute with: openstack gpu '
             'host check --nova-conf <file>']
    lines += ['#'] if config.models else []
    for model in config.models:
        lines.append(f'# {model.ids} {model.name} ({model.device_type}), '
                     f'alias {model.alias}: {", ".join(model.addresses)}')
    lines += ['#', '# Kernel command line: add to GRUB_CMDLINE_LINUX in '
              '/etc/default/grub, run', '# update-grub (or grub2-mkconfig '
              '-o /boot/grub2/grub.cfg) and reboot:',
              '#   ' + ' '.join(config.kernel_args)]
    if config.modprobe:
        lines.append('# /etc/modprobe.d/vfio.conf, so vfio-pci claims the '
                     'devices first:')
        lines += [f'#   {line}' for line in config.modprobe]
    for note in config.notes:
        lines += textwrap.wrap(note, 76, initial_indent='# Note: ',
                               subsequent_indent='#   ')
    if config.models:
        lines += _render_pci(config)
    if config.vgpu:
        lines += vgpu_config.render_vgpu(config.vgpu)
    return '\n'.join(lines) + '\n'
