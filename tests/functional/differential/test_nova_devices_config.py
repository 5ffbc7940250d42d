"""``[devices]`` and ``[mdev_<type>]`` (vGPU) against nova.

Reading: for generated nova.conf files (the types listed in any spelling,
old and new names, groups in any case, addresses, mdev_class and
max_instances near misses, $ references), what ``gpu host check
--nova-conf`` accepts in the vGPU options (no problem in the file alone),
nova-compute starts with: oslo.config reads it and
``LibvirtDriver._get_supported_vgpu_types`` raises nothing. Where both
accept, the check resolves the same types, default type, type per GPU,
limits and classes as nova. Where the check refuses what nova takes, a
DELIBERATE_STRICTNESS entry says why.

Writing: for generated vGPU hosts, the [devices] / [mdev_<type>] lines
``gpu host config`` prints pass the check on that host, and nova resolves
them to exactly the types the generator meant for each GPU.
"""

import os
import tempfile

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from osc_gpu.host import config_gen
from osc_gpu.host import facts
from osc_gpu.host import inventory
from osc_gpu.host import nova_mdev_conf
from osc_gpu.host import nova_pci_conf
from osc_gpu.rules import nova_conf
from osc_gpu.rules import nova_devices as nd
from tests.functional.differential import verdicts


def read(data):
    """The check's reading of nova.conf bytes, through the file."""
    fd, path = tempfile.mkstemp(prefix='osc-gpu-', suffix='.conf')
    try:
        os.write(fd, data)
        os.close(fd)
        return nova_pci_conf.read_nova_conf(path)
    finally:
        os.unlink(path)


def lint(data):
    """``(conf, options, ok, first problem)`` of the check on the file."""
    conf = read(data)
    options = nova_mdev_conf.read_mdev_options(conf)
    if conf.errors:
        lineno, message = conf.errors[0]
        return conf, options, False, f'line {lineno}: {message}'
    problems = options.problems
    return conf, options, not problems, problems[0].line if problems else ''


# -- deliberate strictness, per case ({'data': bytes}) ------------------------

def _options(case):
    return nova_mdev_conf.read_mdev_options(read(case['data']))


def _group_values(case, key):
    """Values of ``key`` in the groups of the enabled types, as written."""
    conf = read(case['data'])
    options = nova_mdev_conf.read_mdev_options(conf)
    found = []
    for type_id in options.types:
        for section in (nd.group_name(type_id), nd.old_group_name(type_id)):
            found += [nova_conf.substitute(o.value)[0]
                      for o in conf.values(section, key)]
    return found


def _reference(case):
    conf = read(case['data'])
    return any(nova_conf.substitute(o.value)[1] for o in conf.options
               if o.section == nd.DEVICES
               or o.section.startswith((nd.GROUP, nd.OLD_GROUP)))


def _odd_address(case):
    return any(nd.address_rule(a) for value in _group_values(
        case, 'device_addresses') for a in nd.parse_list(value))


def _odd_count(case):
    for value in _group_values(case, 'max_instances'):
        text = value.strip()
        try:
            number = int(text) if text else None
        except ValueError:
            continue
        if number is not None and nd.count_value(text)[1]:
            return True
    return False


def _old_group_option(case):
    conf = read(case['data'])
    return any(o.section == nd.old_group_name(t) and o.key in (
        'mdev_class', 'max_instances')
        for t in _options(case).types for o in conf.options)


MATCHERS = {
    'nova-conf-reference': _reference,
    'mdev-address-form': _odd_address,
    'mdev-type-list': lambda c: '' in _options(c).types,
    'mdev-dropped-type': lambda c: any(
        t != d for t, d in _options(c).layout.dropped),
    'mdev-old-group-option': _old_group_option,
    'mdev-int-spelling': _odd_count,
}


# -- generated files ---------------------------------------------------------

TYPES = st.sampled_from(['nvidia-11', 'nvidia-12', 'Nv-13', 'mlx5_core', '',
                         ' ', 'a b', 'nvidia-11 ', '$x', 'x$$y'])
TYPE_LISTS = st.lists(TYPES, max_size=4).map(', '.join) | st.sampled_from(
    ['nvidia-11,', ',', ' , ', 'nvidia-11,,nvidia-12', '"nvidia-11"',
     '[nvidia-11]'])
ADDRESSES = st.sampled_from(
    ['0000:84:00.0', '0000:85:00.0', '0000:41:00.4', '0000:AF:00.0',
     '0000:84:00x0', '84:00.0', '', 'net', 'mtty', '0000:84:00.\u0663',
     '0000:84:00.8', ' 0000:85:00.0 ', '$addr'])
ADDRESS_LISTS = st.lists(ADDRESSES, max_size=3).map(','.join)
CLASSES = st.sampled_from(['VGPU', 'CUSTOM_NVIDIA_11', 'custom_x', '',
                           'CUSTOM_', 'CUSTOM_A-B', 'CUSTOM_' + 'X' * 249,
                           'VGPU ', '${x}'])
COUNTS = st.sampled_from(['1', '24', '0', '-1', '+5', '1_0', '\u0665',
                          '0x5', '', 'x', '4294967296', '9' * 30, '2 '])
SECTIONS = st.sampled_from(['mdev_', 'MDEV_', 'vgpu_', 'Mdev_'])


@st.composite
def group(draw, type_ids):
    type_id = draw(st.sampled_from(type_ids + ['nvidia-99']))
    lines = [f'[{draw(SECTIONS)}{type_id}]']
    for key in draw(st.lists(st.sampled_from(
            ['device_addresses', 'mdev_class', 'max_instances',
             'device_address']), max_size=3)):
        value = draw({'mdev_class': CLASSES, 'max_instances': COUNTS}.get(
            key, ADDRESS_LISTS))
        lines.append(f'{key} = {value}')
    return lines


@st.composite
def devices_files(draw):
    types = draw(TYPE_LISTS)
    lines = []
    if draw(st.integers(0, 9)):
        key = draw(st.sampled_from([nd.ENABLED] * 4 + [nd.OLD_ENABLED]))
        lines += [draw(st.sampled_from(['[devices]', '[DEVICES]'])),
                  f'{key} = {types}']
    if not draw(st.integers(0, 4)):
        lines.append(f'{nd.OLD_ENABLED} = {draw(TYPE_LISTS)}')
    type_ids = [t.strip() for t in types.split(',')] or ['nvidia-11']
    for _ in range(draw(st.integers(0, 4))):
        lines += draw(group(type_ids))
    return ('\n'.join(lines) + '\n').encode('utf-8')


def _ours_resolved(options):
    layout = options.layout
    return {'types': list(layout.types), 'default': layout.default,
            'by_address': layout.by_address, 'limits': layout.limits,
            'classes': layout.classes}


@settings(verdicts.DIFFERENTIAL, max_examples=1000)
@given(data=devices_files())
@example(data=b'[devices]\nenabled_mdev_types = nvidia-11, nvidia-12\n')
@example(data=b'[devices]\nenabled_mdev_types = a\n[mdev_a]\n'
              b'device_addresses = 0000:AF:00.0\n')
@example(data=b'[devices]\nenabled_mdev_types = a,,b\n')
@example(data=b'[devices]\nenabled_mdev_types = a\n[vgpu_a]\n'
              b'mdev_class = CUSTOM_A\n')
@example(data=b'[devices]\nenabled_mdev_types = a\n[mdev_a]\n'
              b'max_instances = +5\n')
@example(data=b'[devices]\nenabled_mdev_types = a, a\n[mdev_a]\n'
              b'device_addresses = 0000:84:00.0\n')
@example(data=b'[devices]\nenabled_mdev_types = a\n[mdev_a]\n'
              b'device_addresses = net\n')
def test_what_the_check_accepts_in_the_vgpu_options_nova_starts_with(
        nova_judge, data):
    nova = nova_judge('nova_devices_config', {'hex': data.hex()})
    _, options, ok, message = lint(data)
    verdicts.check(nova, ok, message, {'data': data}, MATCHERS)
    if ok and nova.ok:
        theirs = {k: nova.data[k] for k in ('types', 'default', 'by_address',
                                            'limits', 'classes')}
        assert _ours_resolved(options) == theirs, data


# -- gpu host config's vGPU lines --------------------------------------------

TYPE_POOL = [('nvidia-11', 16), ('nvidia-12', 8), ('nvidia-18', 4),
             ('i915-GVTg_V5_4', 2), ('mlx5_core', 16)]


@st.composite
def vgpu_hosts(draw):
    devices, mdev_types = {}, {}
    for slot in range(draw(st.integers(1, 4))):
        pf = f'0000:{0x81 + slot:02x}:00.0'
        offered = draw(st.lists(st.sampled_from(TYPE_POOL), min_size=1,
                                max_size=4, unique=True))
        vfs = draw(st.sampled_from([0, 0, 2, 4]))
        devices[pf] = facts.PciDevice(
            pf, '10de', '25b6', 0x030200, driver='nvidia',
            iommu_group=str(slot * 10), sriov_totalvfs=16 if vfs else None,
            virtfns=tuple(f'{pf[:-1]}{4 + n}' for n in range(vfs)))
        parents = devices[pf].virtfns or (pf,)
        for n, parent in enumerate(devices[pf].virtfns):
            devices[parent] = facts.PciDevice(
                parent, '10de', '25b6', 0x030200, driver='nvidia',
                iommu_group=str(slot * 10 + n + 1), physfn=pf)
        for parent in parents:
            mdev_types[parent] = tuple(facts.MdevType(
                parent, type_id, type_id.upper(), 1 if vfs else count,
                'vfio-pci', f'max_instance={count}' if draw(st.booleans())
                else '') for type_id, count in offered)
    groups = {}
    for device in devices.values():
        groups[device.iommu_group] = (device.address,)
    return facts.HostFacts(devices, groups, cmdline='intel_iommu=on',
                           cpu_vendor='intel', mdev_types=mdev_types,
                           modules=frozenset({'nvidia_vgpu_vfio'}),
                           mdevctl='/usr/sbin/mdevctl', hostname='c1')


@st.composite
def vgpu_type_options(draw, host):
    shared = inventory.vgpu_gpus(inventory.list_gpus(host))
    values = []
    for entry in draw(st.lists(st.sampled_from(shared), unique=True,
                               max_size=len(shared))):
        values.append(f'{entry.address}='
                      f'{draw(st.sampled_from(entry.vgpu.type_ids))}')
    return values


@settings(verdicts.DIFFERENTIAL, max_examples=200)
@given(data=st.data())
def test_gpu_host_config_vgpu_lines_pass_the_check_and_nova(nova_judge,
                                                            data):
    host = data.draw(vgpu_hosts())
    gpus = inventory.list_gpus(host)
    values = data.draw(vgpu_type_options(host))
    config = config_gen.build_host_config(host, gpus, vgpu_types=values)
    text = config_gen.render_nova_conf(config)
    conf = read(text.encode('utf-8'))
    _, findings = nova_mdev_conf.check_mdev_conf(conf, host)
    problems = [f.line for f in findings if f.severity == 'problem']
    assert not problems, f'gpu host check refuses its own output: {problems}'
    nova = nova_judge('nova_devices_config', {'hex': text.encode().hex()})
    assert nova.ok, f'nova-compute would not start on:\n{text}\n{nova.why}'
    meant = {a: t.type_id for t in config.vgpu.types for a in t.addresses}
    assert nova.data['by_address'] == meant
    assert nova.data['default'] is None
    assert nova.data['limits'] == {t.type_id: t.max_instances
                                   for t in config.vgpu.types
                                   if t.max_instances}
