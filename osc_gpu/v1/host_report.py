"""Turn host check and host config results into cliff columns.

Each column is an osc-lib format column whose ``machine_readable`` gives
``-f json``/``-f yaml`` real objects and whose ``human_readable`` gives the
table one short line per GPU, per problem or per setting.
"""

from osc_lib.cli import format_columns

from osc_gpu.host import config_gen
from osc_gpu.host import inventory
from osc_gpu.host import readiness
from osc_gpu.rules import echo


class GpuListColumn(format_columns.ListDictColumn):
    """GPUs: a list of dicts; one line per GPU in a table."""

    def human_readable(self):
        lines = []
        for gpu in self._value or []:
            name = (f'{gpu["address"]} [{gpu["vendor_id"]}:'
                    f'{gpu["product_id"]}] {gpu["model"]}: {gpu["status"]}')
            if gpu['role'] != inventory.PASSTHROUGH:
                lines.append(name)
                continue
            group = gpu['iommu_group']
            where = (f'IOMMU group {group}'
                     + (f' with {", ".join(gpu["iommu_group_peers"])}'
                        if gpu['iommu_group_peers'] else ' (alone)')
                     if group is not None else 'no IOMMU group')
            numa = ('NUMA node ' + str(gpu['numa_node'])
                    if gpu['numa_node'] is not None else 'no NUMA node')
            lines.append(f'{name}; {numa}, {where}, nova '
                         f'{gpu["device_type"]}')
        return '\n'.join(lines) or 'none'


class FindingListColumn(format_columns.ListColumn):
    """Problems or warnings (``Finding``): one line each in a table, what
    is wrong then the fix; dicts for -f json/yaml."""

    def human_readable(self):
        return '\n'.join(f.line for f in self._value or []) or 'none'

    def machine_readable(self):
        return [f.as_dict() for f in self._value or []]


class LinesColumn(format_columns.ListColumn):
    """A list of text lines (kernel arguments, notes)."""

    def human_readable(self):
        return '\n'.join(self._value or []) or 'none'


class SummaryColumn(format_columns.DictColumn):
    """A dict shown as one sentence given by ``describe``."""

    def __init__(self, value, describe):
        super().__init__(value)
        self._describe = describe

    def human_readable(self):
        return self._describe(self._value) if self._value else 'not checked'

    def machine_readable(self):
        return dict(self._value) if self._value is not None else None


def gpu_dict(entry, unmanaged=None):
    device = entry.device
    return {
        'address': device.address,
        'vendor_id': device.vendor_id,
        'product_id': device.product_id,
        'model': entry.name,
        'alias': entry.alias if entry.role == inventory.PASSTHROUGH else None,
        'subsystem': device.subsystem,
        'class': device.pci_class,
        'driver': device.driver,
        'numa_node': device.numa_node,
        'iommu_group': device.iommu_group,
        'iommu_group_peers': [p.address for p in entry.peers],
        'functions': [f.address for f in entry.functions],
        'device_type': device.nova_device_type,
        'role': entry.role,
        'status': readiness.gpu_status(entry, unmanaged),
    }


def _iommu_sentence(iommu):
    state = (f'active, {iommu["groups"]} groups' if iommu['active']
             else 'not active')
    units = (f', units {" ".join(iommu["units"])}' if iommu['units']
             else ', no IOMMU units')
    args = ' '.join(iommu['kernel_args']) or 'none'
    return f'{state}{units}; kernel args: {args}'


def _vfio_sentence(vfio):
    if vfio['loaded']:
        return f'loaded ({vfio["source"]})'
    if vfio['available']:
        return f'available, not loaded ({vfio["source"]})'
    return 'not available'


def _nova_conf_sentence(conf):
    aliases = ', '.join(conf['aliases']) or 'none'
    count = conf['device_specs']
    path = conf['path']
    path = path if path.isprintable() else echo.quoted_path(path)
    types = ', '.join(conf.get('enabled_mdev_types') or ()) or 'none'
    return (f'{path}: aliases {aliases}; {count} device_spec '
            f'{"entry" if count == 1 else "entries"}; pci_in_placement '
            f'{str(conf["pci_in_placement"]).lower()}; mdev types {types}')


def _types_line(types, shown=3):
    """': nvidia-11 (GRID M60-0B) 15 free, 1 created; 7 more types...'"""
    if not types:
        return ''
    useful = [t for t in types if t['available'] or t['created']]
    items = [f'{t["type"]} ({t["name"]}) {t["available"]} free'
             + (f', {t["created"]} created' if t['created'] else '')
             for t in useful[:shown]]
    more = len(types) - len(items)
    if more:
        items.append(f'{more} more type{"s" if more > 1 else ""}'
                     + (' with none free' if len(useful) <= shown else ''))
    return ': ' + '; '.join(items)


class VgpuColumn(format_columns.DictColumn):
    """The host's vGPU side: one line for the host, one per GPU."""

    def human_readable(self):
        value = self._value
        if not value['gpus'] and not value['manager']:
            return 'no GPU shared as vGPUs'
        lines = [('NVIDIA vGPU manager ' + ('loaded' if value['manager']
                                            else 'not loaded'))
                 + '; mdevctl ' + (value['mdevctl'] or 'not installed')]
        for gpu in value['gpus']:
            lines.append(f'{gpu["address"]} {gpu["model"]} {gpu["mode"]}'
                         + _types_line(gpu['types']))
        return '\n'.join(lines)

    def machine_readable(self):
        return dict(self._value)


def vgpu_dict(host, entries):
    """The host's vGPU state: manager, mdevctl and each shared GPU."""
    gpus = []
    for entry in inventory.vgpu_gpus(entries):
        shared = entry.vgpu
        gpus.append({
            'address': shared.address, 'model': shared.name,
            'mode': shared.mode, 'parents': list(shared.parents),
            'vfs': [vf.address for vf in shared.vfs],
            'types': [{'type': t.type_id, 'name': t.name,
                       'available': sum(a.available for a in shared.all_types
                                        if a.type_id == t.type_id),
                       'created': shared.created.get(t.type_id, 0),
                       'device_api': t.device_api,
                       'max_instance': t.max_instance}
                      for t in shared.types]})
    return {'manager': host.vgpu_manager, 'mdevctl': host.mdevctl,
            'hostname': host.hostname, 'gpus': gpus}


def check_columns(report, host, nova_conf=None):
    """(columns, data) for ``gpu host check``."""
    fields = {
        'ready': report.ready,
        'cpu_vendor': host.cpu_vendor,
        'kernel': host.kernel_release,
        'iommu': SummaryColumn(report.iommu, _iommu_sentence),
        'vfio_pci': SummaryColumn({'loaded': report.vfio.loaded,
                                   'available': report.vfio.available,
                                   'source': report.vfio.source},
                                  _vfio_sentence),
        'gpus': GpuListColumn([gpu_dict(e, report.unmanaged.get(e.address))
                               for e in report.gpus]),
        'vgpu': VgpuColumn(vgpu_dict(host, report.gpus)),
        'nova_conf': SummaryColumn(nova_conf, _nova_conf_sentence),
        'problems': FindingListColumn(report.problems),
        'warnings': FindingListColumn(report.warnings),
    }
    return tuple(fields), tuple(fields.values())


def config_columns(config, text):
    """(columns, data) for ``gpu host config``."""
    models = [{'vendor_id': m.vendor_id, 'product_id': m.product_id,
               'model': m.name, 'alias': m.alias,
               'device_type': m.device_type, 'addresses': list(m.addresses)}
              for m in config.models]
    fields = {
        'gpus': format_columns.ListDictColumn(models),
        'device_spec': format_columns.ListDictColumn(config.device_specs),
        'alias': format_columns.ListDictColumn(config.aliases),
        'kernel_args': LinesColumn(config.kernel_args),
        'vfio_pci_ids': format_columns.ListColumn(config.vfio_pci_ids),
        'modprobe': LinesColumn(config.modprobe),
        'notes': LinesColumn(config.notes),
        'placement': format_columns.ListDictColumn(
            [s.as_dict() for s in config_gen.PLACEMENT_SETTINGS]
            if config.models else []),
        'enabled_mdev_types': format_columns.ListColumn(
            config.vgpu.enabled_mdev_types if config.vgpu else []),
        'vgpu_types': format_columns.ListDictColumn(
            [t.as_dict() for t in config.vgpu.types] if config.vgpu else []),
        'vgpu_commands': LinesColumn(
            config.vgpu.commands if config.vgpu else []),
        'nova_conf': text,
    }
    return tuple(fields), tuple(fields.values())
