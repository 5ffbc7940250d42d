"""One nova-compute running nova's real libvirt driver on fake libvirt.

    python -m devcloud_lib.compute HOST.json --config-file ... (nova's args)

HOST.json (rendered from nodes.json) describes the simulated host: name,
CPUs, memory, disk, PCI devices, and where to keep domain XML. nova's own
fakelibvirt (nova/tests/fixtures/libvirt.py, shipped in the wheel) stands
in for libvirt, so nova's real PCI claims and domain XML code run. The
patches below are the ones nova's functional libvirt tests apply, for the
things a fake host cannot provide (disks, cgroups, sysfs, privsep).
"""
import io
import json
import os
import re
import sys

# nova-compute runs in native threading mode; importing nova's compute
# command first settles that before the test fixtures drag in eventlet.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
from nova.cmd import compute as compute_cmd  # noqa: E402

import fixtures  # noqa: E402
from lxml import etree  # noqa: E402

from nova.tests import fixtures as nova_fixtures  # noqa: E402
from nova.tests.fixtures import libvirt as fakelibvirt  # noqa: E402
from nova import thread_pool_factory  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402
from nova.virt.libvirt import utils as libvirt_utils  # noqa: E402

VENDOR_NAMES = {'10de': 'NVIDIA Corporation'}


def fake_connection(host):
    """The one libvirt connection this compute sees: its host and GPUs.

    pci_devices are whole GPUs (dev_type PCI), mdev-capable GPUs
    (MDEV_TYPES: fakelibvirt's GRID M60-0B 10de:0ffe, offering nvidia-11
    x16 and nvidia-12 x8) and SR-IOV GPUs, a PF at function 0 and its VFs.
    """
    pci = fakelibvirt.HostPCIDevicesInfo(num_pci=0, num_pfs=0, num_vfs=0)
    for index, dev in enumerate(host['pci_devices']):
        kind = dev.get('dev_type', 'PCI')
        extra = {}
        if kind == 'MDEV_TYPES':
            extra = {'multiple_gpu_types': True}
        elif kind in ('PF', 'VF'):
            extra = {'vf_ratio': dev['vf_ratio']}
            if kind == 'VF':
                extra['parent'] = (dev['bus'], dev['slot'], 0)
        ids = {} if kind == 'MDEV_TYPES' else {
            'vend_id': dev['vendor_id'], 'prod_id': dev['product_id'],
            'vend_name': VENDOR_NAMES.get(dev['vendor_id'], 'Vendor'),
            'prod_name': dev.get('name', dev['model']),
            'driver_name': 'nvidia' if kind == 'PF' else 'vfio-pci'}
        pci.add_device(
            dev_type=kind, bus=dev['bus'], slot=dev['slot'],
            function=dev['function'], iommu_group=40 + index, numa_node=0,
            **ids, **extra)
    info = fakelibvirt.HostInfo(
        cpu_nodes=1, cpu_sockets=1, cpu_cores=host['vcpus'], cpu_threads=1,
        kB_mem=host['memory_mb'] * 1024)
    return fakelibvirt.Connection(
        'qemu:///system', host_info=info, pci_info=pci,
        mdev_info=fakelibvirt.HostMdevDevicesInfo(devices={}),
        hostname=host['hostname'])


class MediatedDevices:
    """Mediated devices (vGPUs) created for real through fakelibvirt.

    nova's LibvirtDriver._create_mdev creates an mdev with
    virNodeDeviceCreateXML, makes it persistent with
    virNodeDeviceDefineXML and sets it to autostart, as mdevctl would.
    fakelibvirt's two calls do nothing and return None, on which nova then
    fails; here they add the mdev to the host's pool (so nova lists and
    reuses it), lower the parent GPU's availableInstances (so placement's
    total stays what the GPU offers) and keep the defined mdev under
    xml/<node>/mdev/, as a real host keeps it across a restart.
    """

    def __init__(self, connection, folder):
        self.connection = connection
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    def restore(self):
        for entry in sorted(os.listdir(self.folder)):
            if entry.endswith('.xml'):
                with open(os.path.join(self.folder, entry)) as f:
                    self._add(f.read())

    def install(self):
        self.connection.nodeDeviceCreateXML = self.create
        self.connection.nodeDeviceDefineXML = self.define

    def create(self, xml, flags=0):
        return self._add(xml)

    def define(self, xml, flags=0):
        device = self._add(xml)
        path = os.path.join(self.folder, device.name() + '.xml')
        with open(path + '.tmp', 'w') as f:
            f.write(xml)
        os.replace(path + '.tmp', path)
        return device

    def _add(self, xml):
        tree = etree.fromstring(xml)
        parent = tree.findtext('parent')
        capability = tree.find("capability[@type='mdev']")
        mdev_type = capability.find('type').get('id')
        name = libvirt_utils.mdev_uuid2name(capability.findtext('uuid'))
        pool = self.connection.mdev_info.devices
        if name not in pool:        # created, then defined: one device
            pool[name] = fakelibvirt.FakeMdevDevice(name, mdev_type, parent)
            gpu = self.connection.pci_info.devices[parent]
            gpu.pci_device = re.sub(
                r"(<type id='%s'>.*?<availableInstances>)(\d+)" % mdev_type,
                lambda m: m.group(1) + str(int(m.group(2)) - 1),
                gpu.pci_device, flags=re.S)
        return MdevNodeDevice(self.connection, pool[name].XMLDesc(0))


class MdevNodeDevice(fakelibvirt.NodeDevice):
    def setAutostart(self, autostart):
        return 0


def init_events(host):
    """Host._init_events without the connection-event thread.

    LibvirtFixture disables libvirt events altogether, which in nova 34 also
    drops the delayed executor that server delete needs; so events stay on.
    But the connection-event thread loops forever in nova's default pool
    and would block a graceful stop; a fake connection never closes anyway.
    """
    host._delayed_executor = (
        thread_pool_factory.StaticallyDelayingCancellableTaskExecutorWrapper(
            delay=15, executor=thread_pool_factory.get_executor(
                thread_pool_factory.ExecutorType.DEFAULT)))
    host._event_handler.start()


def with_disk_files(disk_info_from_config):
    """Wrap LibvirtDriver._get_instance_disk_info_from_config so that each
    file-backed disk has at least an empty placeholder file.

    Disk creation is faked, but a hard reboot (how a stopped server starts
    again) and the resource tracker stat the disk files named in the XML.
    """
    def wrapper(driver, guest_config, block_device_info=None):
        for device in guest_config.devices:
            path = getattr(device, 'source_path', None)
            if (getattr(device, 'source_type', None) == 'file' and path
                    and not os.path.exists(path)):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, 'a').close()
        return disk_info_from_config(driver, guest_config, block_device_info)
    return wrapper


class FakeHost(fixtures.Fixture):
    """Everything nova's libvirt driver needs from a host, faked."""

    def __init__(self, host, connection):
        super().__init__()
        self.host = host
        self.connection = connection

    def _setUp(self):
        patch = lambda target, **kw: self.useFixture(  # noqa: E731
            fixtures.MockPatch(target, **kw))
        # Modules that import libvirt lazily find the fake one.
        sys.modules['libvirt'] = fakelibvirt
        self.useFixture(nova_fixtures.LibvirtImageBackendFixture())
        self.useFixture(nova_fixtures.CGroupsFixture())
        self.useFixture(nova_fixtures.LibvirtFixture())
        self.useFixture(nova_fixtures.OSBrickFixture())
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.host.Host._init_events', init_events))
        # Every connection nova opens is this host's one connection.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.openAuth',
            lambda uri, auth, flags=0: self.connection))
        # No real disks: image creation is skipped, sizes are declared.
        patch('nova.virt.libvirt.LibvirtDriver._create_image',
              return_value=(False, False))
        disk = self.host['disk_gb']
        patch('nova.virt.libvirt.LibvirtDriver._get_local_gb_info',
              return_value={'total': disk, 'used': 0, 'free': disk})
        patch('nova.virt.libvirt.driver.libvirt_utils.is_valid_hostname',
              return_value=True)
        patch('nova.virt.libvirt.driver.libvirt_utils.file_open',
              side_effect=lambda *a, **k: io.BytesIO(b''))
        patch('nova.privsep.utils.supports_direct_io', return_value=True)
        driver = libvirt_driver.LibvirtDriver
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_get_instance_disk_info_from_config',
            with_disk_files(driver._get_instance_disk_info_from_config)))
        patch('nova.virt.libvirt.host.Host.get_online_cpus',
              return_value=set(range(self.host['vcpus'])))
        patch('nova.virt.libvirt.host.Host._get_avail_memory_kb',
              return_value=self.host['memory_mb'] * 1024)


class SavedDomains:
    """Keep each domain's XML on disk, as libvirt itself would.

    fakelibvirt holds domains in memory only: without this a restarted
    compute would report servers ACTIVE with nothing behind them. The XML
    is also what `tools/devcloud xml` shows.
    """

    def __init__(self, connection, folder):
        self.connection = connection
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    def _path(self, uuid, suffix='.xml'):
        return os.path.join(self.folder, uuid + suffix)

    def restore(self):
        """Re-define saved domains, restarting those that were running."""
        for entry in sorted(os.listdir(self.folder)):
            if entry.endswith('.xml'):
                with open(os.path.join(self.folder, entry)) as f:
                    dom = self.connection.defineXML(f.read())
                if os.path.exists(self._path(dom.UUIDString(), '.running')):
                    dom.createWithFlags(0)

    def install(self):
        conn = self.connection
        define, create, undefine = conn.defineXML, conn.createXML, \
            conn._undefine

        def define_xml(xml):
            dom = define(xml)
            self._save(dom.UUIDString(), xml, running=False)
            return dom

        def create_xml(xml, flags):
            dom = create(xml, flags)
            self._save(dom.UUIDString(), xml, running=True)
            return dom

        def forget(dom):
            undefine(dom)
            for suffix in ('.xml', '.running'):
                self._remove(dom.UUIDString(), suffix)

        conn.defineXML, conn.createXML, conn._undefine = (
            define_xml, create_xml, forget)

        start, stop = (fakelibvirt.Domain.createWithFlags,
                       fakelibvirt.Domain.destroy)
        saved = self

        def create_with_flags(dom, flags):
            start(dom, flags)
            if os.path.exists(saved._path(dom.UUIDString())):
                open(saved._path(dom.UUIDString(), '.running'), 'w').close()

        def destroy(dom):
            stop(dom)
            saved._remove(dom.UUIDString(), '.running')

        fakelibvirt.Domain.createWithFlags = create_with_flags
        fakelibvirt.Domain.destroy = destroy

        attach, detach = (fakelibvirt.Domain.attachDeviceFlags,
                          fakelibvirt.Domain.detachDeviceFlags)

        def attach_device_flags(dom, xml, flags):
            attach(dom, xml, flags)
            saved._edit_disks(dom.UUIDString(), xml, add=True)

        def detach_device_flags(dom, xml, flags):
            alias = saved._disk_alias(dom, xml)
            detach(dom, xml, flags)
            saved._edit_disks(dom.UUIDString(), xml, add=False)
            if alias and flags & fakelibvirt.VIR_DOMAIN_AFFECT_LIVE:
                # Real libvirt tells nova the guest let the disk go; without
                # this nova waits [libvirt] device_detach_timeout (20 s).
                event = fakelibvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED
                callback = dom._connection._event_callbacks.get(event)
                if callback:
                    callback[0](dom._connection, dom, alias, callback[1])

        fakelibvirt.Domain.attachDeviceFlags = attach_device_flags
        fakelibvirt.Domain.detachDeviceFlags = detach_device_flags

    @staticmethod
    def _disk_alias(dom, xml):
        """The alias of the disk xml names (by target dev), or None."""
        if not xml.startswith('<disk'):
            return None
        element = etree.fromstring(xml)
        alias = element.find('./alias')
        if alias is not None:
            return alias.get('name')
        target = element.find('./target')
        dev = target.get('dev') if target is not None else None
        for disk in dom._def['devices']['disks']:
            if disk.get('target_dev') == dev:
                return disk.get('alias')
        return None

    def _edit_disks(self, uuid, xml, add):
        """Add the <disk> xml to, or remove it (by target dev) from, the
        saved domain XML: nova attaches and detaches volumes without
        defining the domain again."""
        path = self._path(uuid)
        if not xml.startswith('<disk') or not os.path.exists(path):
            return
        disk = etree.fromstring(xml)
        target = disk.find('./target').get('dev')
        tree = etree.parse(path)
        devices = tree.getroot().find('./devices')
        for old in devices.findall('./disk'):
            if old.find('./target').get('dev') == target:
                devices.remove(old)
        if add:
            disk.tail = '\n    '
            devices.append(disk)
        tmp = self._path(uuid, '.xml.tmp')
        tree.write(tmp)
        os.replace(tmp, path)

    def _save(self, uuid, xml, running):
        tmp = self._path(uuid, '.xml.tmp')
        with open(tmp, 'w') as f:
            f.write(xml)
        os.replace(tmp, self._path(uuid))
        if running:
            open(self._path(uuid, '.running'), 'w').close()

    def _remove(self, uuid, suffix):
        try:
            os.unlink(self._path(uuid, suffix))
        except FileNotFoundError:
            pass


def main():
    with open(sys.argv[1]) as f:
        host = json.load(f)
    connection = fake_connection(host)
    FakeHost(host, connection).setUp()
    mdevs = MediatedDevices(connection, os.path.join(host['xml_dir'], 'mdev'))
    mdevs.restore()
    mdevs.install()
    saved = SavedDomains(connection, host['xml_dir'])
    saved.restore()
    saved.install()
    sys.argv = ['nova-compute'] + sys.argv[2:]
    try:
        compute_cmd.main()
    except BaseException:
        # nova logged it; leave now, or its non-daemon threads would keep
        # a dead compute looking alive.
        import traceback
        traceback.print_exc()
        os._exit(1)


if __name__ == '__main__':
    main()
