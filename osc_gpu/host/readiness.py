"""Is this host ready to pass its GPUs through to nova servers?

Pure: each check reads ``HostFacts`` / ``GpuEntry`` and returns
``Finding`` objects. A ``problem`` makes the host not ready; a ``warning``
is advice. Every finding names the bad thing and says how to fix it.
"""

import dataclasses

from osc_gpu.host import facts
from osc_gpu.host import inventory
from osc_gpu.host import vgpu
from osc_gpu.rules.nova_pci import PROBLEM, WARNING  # noqa: F401 (re-export)

GRUB = ('to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub '
        '(or grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot')
MODPROBE_CONF = '/etc/modprobe.d/vfio.conf'


@dataclasses.dataclass(frozen=True)
class Finding:
    severity: str
    check: str          # iommu, vfio-pci, gpu, gpu-driver, iommu-group, ...
    subject: str        # what it is about: a PCI address, an option, ...
    message: str
    fix: str = ''

    @property
    def line(self):
        return f'{self.message}: {self.fix}' if self.fix else self.message

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class HostReport:
    gpus: list
    findings: list
    iommu: dict
    vfio: object
    # address -> the device_spec line saying "managed": "no" for that GPU
    unmanaged: dict = dataclasses.field(default_factory=dict)

    @property
    def problems(self):
        return [f for f in self.findings if f.severity == PROBLEM]

    @property
    def warnings(self):
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ready(self):
        return not self.problems

    def with_findings(self, findings):
        return dataclasses.replace(self, findings=self.findings + findings)


def iommu_flag(cpu_vendor):
    return {'intel': 'intel_iommu=on', 'amd': 'amd_iommu=on'}.get(
        cpu_vendor, 'intel_iommu=on (Intel) or amd_iommu=on (AMD)')


def kernel_iommu_args(cpu_vendor):
    """What the kernel command line needs for passthrough on this CPU."""
    if cpu_vendor == 'amd':
        return ['amd_iommu=on', 'iommu=pt']
    return ['intel_iommu=on', 'iommu=pt']


def iommu_summary(host):
    args = [a for a in host.cmdline_args
            if a.split('=')[0] in ('intel_iommu', 'amd_iommu', 'iommu')
            or a.startswith('vfio-pci.')]
    return {'active': bool(host.iommu_groups),
            'groups': len(host.iommu_groups),
            'units': list(host.iommu_units),
            'kernel_args': args}


def check_iommu(host):
    args = host.cmdline_args
    firmware = {'intel': 'VT-d', 'amd': 'AMD-Vi (IOMMU)'}.get(
        host.cpu_vendor, 'VT-d / AMD-Vi')
    off = [a for a in args
           if a in ('intel_iommu=off', 'amd_iommu=off', 'iommu=off')]
    if off:
        return [Finding(PROBLEM, 'iommu', 'kernel command line', (
            f'the kernel command line turns the IOMMU off with '
            f'{" ".join(off)}'), 'remove it and add '
            f"'{' '.join(kernel_iommu_args(host.cpu_vendor))}' {GRUB}")]
    flag = iommu_flag(host.cpu_vendor)
    has_flag = 'intel_iommu=on' in args or 'amd_iommu=on' in args
    wanted = ' '.join(kernel_iommu_args(host.cpu_vendor))
    findings = []
    if not host.iommu_groups:
        if has_flag or host.cpu_vendor == 'amd':
            # AMD turns its IOMMU on by itself once the firmware has one.
            findings.append(Finding(PROBLEM, 'iommu', 'iommu', (
                'IOMMU is not active: /sys/kernel/iommu_groups is empty'
                + (f' although the kernel has {flag}' if has_flag else '')),
                f'enable {firmware} in the BIOS/UEFI setup and reboot'))
        else:
            findings.append(Finding(PROBLEM, 'iommu', 'iommu', (
                'IOMMU is not active: /sys/kernel/iommu_groups is empty and '
                f'the kernel command line lacks {flag}'),
                f'enable {firmware} in the BIOS/UEFI setup, add '
                f"'{wanted}' {GRUB}"))
        return findings
    if host.cpu_vendor != 'amd' and not has_flag:
        findings.append(Finding(WARNING, 'iommu', 'kernel command line', (
            f'the kernel command line lacks {flag}: the IOMMU is on only '
            'because of this kernel\'s build default'),
            f"add '{flag}' {GRUB}"))
    if 'iommu=pt' not in args:
        findings.append(Finding(WARNING, 'iommu', 'kernel command line', (
            'the kernel command line lacks iommu=pt: host devices pay for '
            'IOMMU translation'), f"add 'iommu=pt' {GRUB}"))
    return findings


def check_vfio(host):
    release = host.kernel_release or 'this kernel'
    if not host.vfio.available:
        return [Finding(PROBLEM, 'vfio-pci', 'vfio-pci', (
            f'the vfio-pci kernel module is not available for {release} '
            '(no /sys/bus/pci/drivers/vfio-pci, not in modules.dep or '
            'modules.builtin)'), 'install the kernel\'s extra modules '
            f'(e.g. linux-modules-extra-{release} on Ubuntu) and run '
            "'modprobe vfio-pci'")]
    if not host.vfio.loaded:
        return [Finding(WARNING, 'vfio-pci', 'vfio-pci', (
            f'vfio-pci is available ({host.vfio.source}) but not loaded'),
            'load it at boot: echo vfio-pci > '
            '/etc/modules-load.d/vfio-pci.conf')]
    return []


def vfio_ids(entry):
    """Ids vfio-pci.ids needs to claim this GPU and its own functions."""
    ids = [entry.device.ids]
    ids += [f.ids for f in entry.grouped_functions]
    return list(dict.fromkeys(ids))


def _hand_over_fix(device, ids, lead='bind it to vfio-pci'):
    driver, address = device.driver, device.address
    if driver is None:
        return (f"{lead}: add 'vfio-pci.ids={','.join(ids)}' to "
                'GRUB_CMDLINE_LINUX, then reboot; or for now: echo vfio-pci '
                f'> /sys/bus/pci/devices/{address}/driver_override && echo '
                f'{address} > /sys/bus/pci/drivers_probe')
    return (f"{lead}: add 'vfio-pci.ids={','.join(ids)}' to "
            f"GRUB_CMDLINE_LINUX and 'softdep {driver} pre: vfio-pci' to "
            f'{MODPROBE_CONF}, then reboot; or for now: echo vfio-pci > '
            f'/sys/bus/pci/devices/{address}/driver_override && echo '
            f'{address} > /sys/bus/pci/drivers/{driver}/unbind && echo '
            f'{address} > /sys/bus/pci/drivers_probe')


def _driver_state(device):
    if device.driver is None:
        return 'bound to no driver'
    if device.driver in facts.VFIO_ALLOWED_DRIVERS:
        return f'bound to {device.driver}'
    return f'held by host driver {device.driver}'


def gpu_status(entry, unmanaged=None):
    """Short state of a GPU for the report.

    ``unmanaged`` names the device_spec line saying "managed": "no" for it.
    """
    device = entry.device
    driver = device.driver
    if entry.role == inventory.HOST_CONSOLE:
        return (f'host console ({inventory.console_reason(device)}), not '
                'for passthrough')
    if entry.role == inventory.VGPU:
        return vgpu.describe(entry.vgpu)
    if entry.role == inventory.SRIOV_PF:
        count = len(device.virtfns)
        return (f'SR-IOV PF with {count} VF{"s" if count > 1 else ""} '
                'enabled: its VFs are passed through, not the PF')
    if device.vgpu_variant:
        return f"ready: on NVIDIA's vGPU variant driver ({driver})"
    if driver in facts.VFIO_DRIVERS:
        return f'ready: bound to {driver}'
    if unmanaged:
        return f'{_driver_state(device)}, and device_spec says "managed": ' \
            '"no"'
    if driver is None:
        return 'free: no driver (libvirt binds vfio-pci when a server starts)'
    if device.is_vfio_ready:
        return f'ready: bound to {driver}'
    return (f'on host driver {driver}; libvirt moves it to vfio-pci when a '
            'server starts')


def check_gpu_driver(entry, unmanaged=None):
    """A GPU on its host driver works: libvirt (managed='yes', nova's
    default) hands it to vfio-pci when a server starts. Not when its
    device_spec says "managed": "no" (``unmanaged`` names that line)."""
    device = entry.device
    if unmanaged and not device.is_vfio_bound:
        return [Finding(PROBLEM, 'gpu-driver', device.address, (
            f'GPU {entry.label} is {_driver_state(device)} but {unmanaged} '
            'says "managed": "no", so libvirt will not bind it to vfio-pci '
            'when a server starts'), _hand_over_fix(
                device, vfio_ids(entry),
                'bind it to vfio-pci (or drop "managed": "no")'))]
    if device.is_vfio_ready:
        return []
    return [Finding(WARNING, 'gpu-driver', device.address, (
        f'GPU {entry.label} is on host driver {device.driver}: libvirt '
        'unbinds it and binds vfio-pci when a server starts, which fails '
        f'while {device.driver} is using it'), _hand_over_fix(
            device, vfio_ids(entry),
            'binding it to vfio-pci at boot is more robust'))]


def check_iommu_group(entry, passthrough_addresses):
    device = entry.device
    if device.iommu_group is None:
        return [Finding(PROBLEM, 'iommu-group', device.address, (
            f'GPU {entry.label} is in no IOMMU group although the IOMMU is '
            'active'), 'check dmesg for DMAR/AMD-Vi errors about this slot')]
    findings = []
    for peer in entry.peers:
        if peer.address in passthrough_addresses:
            if peer.address < device.address:
                continue  # reported once, from the first GPU of the pair
            findings.append(Finding(WARNING, 'iommu-group', device.address, (
                f'GPUs {device.address} and {peer.address} share IOMMU group '
                f'{device.iommu_group}: nova may give them to two servers, '
                'and the second one fails to start'),
                'request them together (alias count 2) or move one GPU to '
                'a slot with its own group (check ACS in the BIOS)'))
        elif peer.is_vfio_ready or peer.is_bridge:
            continue  # the kernel accepts these in a VFIO group
        elif peer in entry.functions:
            findings.append(Finding(PROBLEM, 'iommu-group', peer.address, (
                f'{inventory.describe(peer)}, a function of GPU '
                f'{entry.label}, is held by {peer.driver}; it shares IOMMU '
                f'group {device.iommu_group} and must be bound to vfio-pci '
                'too (nova passes only the GPU function)'),
                _hand_over_fix(peer, vfio_ids(entry))))
        else:
            findings.append(Finding(PROBLEM, 'iommu-group', device.address, (
                f'GPU {entry.label} shares IOMMU group {device.iommu_group} '
                f'with {inventory.describe(peer)} held by {peer.driver}, '
                'which is not passed through'),
                'move the GPU to a slot with its own IOMMU group (check the '
                f'ACS setting in the BIOS), or bind {peer.address} to '
                'vfio-pci as well'))
    return findings


def check_gpus_present(entries, gpus, vendor_id):
    if gpus:
        return []
    if vendor_id and entries:
        others = ', '.join(f'{e.device.ids} at {e.address}' for e in entries)
        return [Finding(PROBLEM, 'gpu', 'gpu', (
            f'no GPU with vendor {vendor_id} on this host (GPUs here: '
            f'{others})'), 'drop --vendor or give the vendor of a GPU above')]
    consoles = [e.label for e in entries
                if e.role == inventory.HOST_CONSOLE]
    besides = (f' besides the host console {", ".join(consoles)}'
               if consoles else '')
    return [Finding(PROBLEM, 'gpu', 'gpu', (
        'no GPU to pass through: no PCI display controller (class 03xx) or '
        f'processing accelerator (class 12xx){besides}'),
        'check that the card is seated, powered and enabled in the BIOS')]


SYSFS_FIX = ('Linux never writes that there: check the copy given as --root '
             '(keep its files and symlinks as they are), or the kernel log of '
             'this host')


def check_sysfs(host):
    """What the reader left out: one problem each, the value escaped."""
    return [Finding(PROBLEM, 'sysfs', e.path, e.message, SYSFS_FIX)
            for e in host.errors]


def check_vgpus(host, shared):
    """vGPU advice: what stops vGPUs from starting only on some releases,
    and GPUs meant for vGPUs that offer none yet."""
    findings = []
    uses_mdevs = [s for s in shared if s.mode in (vgpu.MDEV,
                                                  vgpu.SRIOV_MDEV)]
    if uses_mdevs and host.mdevctl is None:
        findings.append(Finding(WARNING, 'vgpu', 'mdevctl', (
            'mdevctl is not installed (not in /usr/sbin, /usr/bin, /sbin or '
            '/bin): nova 2024.2 Dalmatian and later create vGPUs through '
            "libvirt, which fails with \"Cannot find 'mdevctl' in path\""),
            'install it (apt install mdevctl, or dnf install mdevctl)'))
    for off in (s for s in shared if s.mode == vgpu.VFS_OFF):
        findings.append(Finding(WARNING, 'vgpu', off.address, (
            f'GPU {off.label} has SR-IOV but no VF is enabled, so it offers '
            'no vGPU'), f'/usr/lib/nvidia/sriov-manage -e {off.address}, '
            'after every boot (e.g. systemctl enable '
            f'nvidia-sriov-manage@{off.address}.service, see nova\'s '
            'virtual-gpu guide)'))
    return findings


def _needs_vfio(gpus, shared):
    """vfio-pci matters to whole-GPU and VF passthrough, or to a host that
    shares no GPU as vGPUs (then the report is about passthrough)."""
    return not shared or any(not e.device.vgpu_variant for e in gpus)


def check_host(host, vendor_id=None, unmanaged=None):
    """Run every host check; return a ``HostReport``.

    ``unmanaged``: {address: nova.conf line} of the GPUs whose device_spec
    says "managed": "no" (``libvirt_managed.unmanaged_devices``).
    """
    unmanaged = unmanaged or {}
    all_gpus = inventory.list_gpus(host)
    entries = [e for e in all_gpus
               if vendor_id is None or e.device.vendor_id == vendor_id]
    gpus = inventory.passthrough_gpus(entries)
    shared = [e.vgpu for e in inventory.vgpu_gpus(entries)]
    findings = check_sysfs(host)
    if not host.errors:  # else the GPU may be what could not be read
        findings += check_gpus_present(
            all_gpus, gpus + inventory.vgpu_gpus(entries), vendor_id)
    findings += check_iommu(host)
    if _needs_vfio(gpus, shared):
        findings += check_vfio(host)
    findings += check_vgpus(host, shared)
    addresses = {e.address for e in gpus}
    for entry in gpus:
        findings += check_gpu_driver(entry, unmanaged.get(entry.address))
        if host.iommu_groups:
            findings += check_iommu_group(entry, addresses)
    return HostReport(gpus=entries, findings=findings,
                      iommu=iommu_summary(host), vfio=host.vfio,
                      unmanaged=unmanaged)
