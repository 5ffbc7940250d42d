"""Generate nova.conf's vGPU lines (``[devices]``, ``[mdev_<type>]``).

Pure: builds a ``VgpuConfig`` from the vGPU GPUs of the inventory (see
``osc_gpu.host.vgpu``) and renders it. nova uses one mdev type per GPU;
the type of each GPU is the one given with ``--vgpu-type``, else the type
of the mdevs it already has, else the first type it offers. Every type
gets ``device_addresses`` (never a default type nova would give GPUs added
later), and types on SR-IOV VFs get ``max_instances``: the VFs listed are
at most as many per GPU as NVIDIA's description says a GPU holds
(``max_instance=N``), so no VF offers a vGPU its GPU cannot make.
"""

import dataclasses
import textwrap

from osc_gpu.host import inventory
from osc_gpu.host import vgpu
from osc_gpu.rules import nova_devices
from osc_gpu.rules.echo import shown

HOST_PLACEHOLDER = '<host>'


class VgpuConfigError(ValueError):
    """A --vgpu-type the host cannot honour; the message says why."""


@dataclasses.dataclass(frozen=True)
class MdevTypeConfig:
    type_id: str
    name: str                # e.g. 'GRID M60-0B'
    addresses: tuple         # device_addresses: GPUs or VFs
    gpus: tuple              # the physical GPUs, as labels
    max_instances: int | None = None

    @property
    def trait(self):
        return nova_devices.trait_name(self.type_id)

    def as_dict(self):
        return {'type': self.type_id, 'name': self.name,
                'device_addresses': list(self.addresses),
                'max_instances': self.max_instances, 'trait': self.trait,
                'gpus': list(self.gpus)}


@dataclasses.dataclass(frozen=True)
class VgpuConfig:
    types: list              # MdevTypeConfig, in enabled_mdev_types order
    host: str                # the compute's name, for the commands
    others: list             # other types the GPUs offer: (id, name)
    notes: list

    @property
    def enabled_mdev_types(self):
        return [t.type_id for t in self.types]

    @property
    def commands(self):
        """``openstack gpu vgpu type set`` for each provider nova makes."""
        return [nova_devices.type_command(self.host, address, t.type_id)
                for t in self.types for address in t.addresses]


def parse_vgpu_types(values):
    """['nvidia-11', '0000:85:00.0=nvidia-12'] -> (type for every GPU,
    {address: type}); refuse empty or repeated items."""
    every, by_gpu = None, {}
    for value in values or ():
        address, sep, type_id = value.rpartition('=')
        address, type_id = address.strip().lower(), type_id.strip()
        if not type_id or (sep and not address):
            raise VgpuConfigError(
                f'invalid --vgpu-type {shown(value)}: expected TYPE or '
                'GPU_ADDRESS=TYPE, e.g. --vgpu-type nvidia-11 or '
                '--vgpu-type 0000:84:00.0=nvidia-12')
        if not sep:
            if every not in (None, type_id):
                raise VgpuConfigError(
                    f'--vgpu-type {shown(every)} and {shown(type_id)} both '
                    'name the type of every GPU: give one, and '
                    'GPU_ADDRESS=TYPE for the others')
            every = type_id
        elif by_gpu.setdefault(address, type_id) != type_id:
            raise VgpuConfigError(
                f'--vgpu-type gives {shown(address)} two types, '
                f'{shown(by_gpu[address])} and {shown(type_id)}: nova uses '
                'one type per GPU')
    return every, by_gpu


def _offered_list(shared, limit=6):
    ids = shared.type_ids
    more = f' and {len(ids) - limit} more' if len(ids) > limit else ''
    return ', '.join(ids[:limit]) + more


def _choose(shared, every, by_gpu):
    """The type for one vGPU GPU."""
    wanted = by_gpu.get(shared.address, every)
    if wanted is not None:
        if not shared.offers(wanted):
            raise VgpuConfigError(
                f'invalid --vgpu-type {shown(wanted)}: GPU {shared.label} '
                f'does not offer it; it offers {_offered_list(shared)}')
        return wanted
    created = list(shared.created)
    return created[0] if len(created) == 1 else shared.type_ids[0]


def _check_addresses(by_gpu, shared):
    known = {s.address: s for s in shared}
    for address in by_gpu:
        if address not in known:
            here = ', '.join(known) or 'none'
            value = f'{address}={by_gpu[address]}'
            raise VgpuConfigError(
                f'invalid --vgpu-type {shown(value)}: no GPU at '
                f'{shown(address)} offers mdev types; GPUs that do: {here}')


def _parents(shared, type_id, notes):
    """The devices of one GPU that get the type, as nova lists them."""
    if shared.mode == vgpu.MDEV:
        return (shared.address,), None
    parents = tuple(p for p in shared.parents
                    if any(t.type_id == type_id and t.parent == p
                           for t in shared.all_types))
    holds = shared.type(type_id).max_instance
    if holds is None:
        notes.append(f'{type_id} does not say how many vGPUs GPU '
                     f'{shared.label} holds (no max_instance= in its '
                     'description): all its VFs are listed; lower '
                     'max_instances to what NVIDIA documents for the type')
        return parents, len(parents)
    return parents[:holds], len(parents[:holds])


def build_vgpu_config(host, shared, every=None, by_gpu=None):
    """The vGPU settings for ``shared`` (vgpu.VgpuGpu with mdev types)."""
    by_gpu = by_gpu or {}
    usable = [s for s in shared if s.mode in (vgpu.MDEV, vgpu.SRIOV_MDEV)]
    _check_addresses(by_gpu, usable)
    chosen, notes = {}, []
    for shared_gpu in usable:
        type_id = _choose(shared_gpu, every, by_gpu)
        in_use = [t for t in shared_gpu.created if t != type_id]
        if in_use and shared_gpu.mode == vgpu.MDEV:
            notes.append(f'GPU {shared_gpu.label} has mdevs of {in_use[0]}: '
                         f'it offers no {type_id} until they are gone')
        parents, count = _parents(shared_gpu, type_id, notes)
        addresses, gpus, counts = chosen.get(type_id, ((), (), ()))
        chosen[type_id] = (addresses + parents, gpus + (shared_gpu.label,),
                           counts + (count,))
    types = []
    for type_id, (addresses, gpus, counts) in chosen.items():
        name = next(s.type(type_id).name for s in usable
                    if s.offers(type_id))
        # A limit only where every GPU of the type is on VFs: it caps the
        # type host-wide, and a GPU without SR-IOV reports its own count.
        limit = None if None in counts else sum(counts)
        types.append(MdevTypeConfig(type_id, name, addresses, gpus, limit))
    others = {}
    for shared_gpu in usable:
        for mdev_type in shared_gpu.types:
            if mdev_type.type_id not in chosen:
                others.setdefault(mdev_type.type_id, mdev_type.name)
    if not host.hostname:
        notes.append(f'host name unknown (no /proc/sys/kernel/hostname): '
                     f'replace {HOST_PLACEHOLDER} with the name nova knows '
                     'this compute by')
    return VgpuConfig(types, host.hostname or HOST_PLACEHOLDER,
                      list(others.items()), notes)


def for_host(host, all_gpus, values):
    """The vGPU settings of the inventory ``all_gpus`` with the
    --vgpu-type ``values``, or None when no GPU offers mdev types."""
    shared = [e.vgpu for e in inventory.vgpu_gpus(all_gpus)]
    every, by_gpu = parse_vgpu_types(values)
    config = build_vgpu_config(host, shared, every, by_gpu)
    if not config.types and values:
        raise VgpuConfigError('no GPU of this host offers mdev types: '
                              '--vgpu-type has nothing to configure')
    return config if config.types else None


def nothing_shared(all_gpus):
    """Why a host with GPUs meant for vGPUs has nothing to configure yet,
    or None."""
    for entry in inventory.vgpu_gpus(all_gpus):
        if entry.vgpu.mode == vgpu.VFS_OFF:
            return (f'nothing to configure: GPU {entry.label} is for vGPUs '
                    'but offers none yet (its SR-IOV VFs are off): enable '
                    f'them with /usr/lib/nvidia/sriov-manage -e '
                    f"{entry.address} and run this again ('openstack gpu host"
                    " check' says more)")
    return None


def _comment(text, indent='#   '):
    return textwrap.wrap(text, 76, initial_indent='# ',
                         subsequent_indent=indent)


def render_vgpu(config):
    """The [devices] and [mdev_<type>] lines, and the commands to tag each
    GPU's provider, as comments."""
    lines = ['', '# vGPU: nova-compute on this host only; one mdev type per '
             'GPU (or SR-IOV VF).']
    for mdev_type in config.types:
        count = (f', at most {mdev_type.max_instances} vGPUs'
                 if mdev_type.max_instances else '')
        lines += _comment(f'{mdev_type.type_id} ({mdev_type.name}) on '
                          f'{", ".join(mdev_type.gpus)}{count}')
    if config.others:
        lines += _comment('other types these GPUs offer (choose with '
                          '--vgpu-type): ' + ', '.join(
                              f'{i} ({n})' if n else i
                              for i, n in config.others))
    for note in config.notes:
        lines += _comment('Note: ' + note)
    lines += ['[devices]', 'enabled_mdev_types = '
              + ', '.join(config.enabled_mdev_types)]
    for mdev_type in config.types:
        lines += ['', f'[mdev_{mdev_type.type_id}]', 'device_addresses = '
                  + ','.join(mdev_type.addresses)]
        if mdev_type.max_instances:
            lines += _comment('max_instances: nova 2024.1 Caracal and later '
                              '(remove it on older releases)')
            lines.append(f'max_instances = {mdev_type.max_instances}')
    first = config.types[0]
    lines += [''] + _comment(
        "Then tag each GPU's placement provider with the trait of its type "
        f'({first.trait} for {first.type_id}), which flavors ask for with '
        f'resources:VGPU=1 and trait:{first.trait}=required:', '# ')
    lines += [f'#   {command}' for command in config.commands]
    return lines
