"""``openstack gpu host check|config``: the compute node side, offline.

Both commands read the local /sys and /proc (or a copy under --root) and
need no cloud: no clouds.yaml, no OS_* variables, no network.
"""

from osc_lib.command import command

from osc_gpu.rules import nova_pci
from osc_gpu.rules.echo import quoted_path, shown
from osc_gpu.v1 import base


def _root_argument(parser):
    parser.add_argument(
        '--root', metavar='<path>', default='/',
        help='Read sys/ and proc/ below this directory instead of / '
             '(a copy of a host, or a test fixture)')


def _vendor_argument(parser):
    parser.add_argument(
        '--vendor', metavar='<vendor-id>',
        help='Only GPUs of this PCI vendor, 4 hex digits, e.g. 10de '
             '(NVIDIA) or 1002 (AMD) (default: every vendor)')


def _vendor(value):
    if value is None:
        return None
    if not nova_pci.is_hex_id(value):
        base.fail(f'invalid --vendor {shown(value)}: '
                  + nova_pci.hex_id_rule('vendor_id', '10de'))
    return value.lower()


def _read_host(root):
    from osc_gpu.host import sysfs

    try:
        sysfs.check_root(root)
    except sysfs.RootError as exc:
        base.fail(str(exc))
    return sysfs.read_host(root)


def _read_nova_conf(path):
    from osc_gpu.host import nova_pci_conf

    if not path:
        base.fail(f'invalid --nova-conf {quoted_path(path)}: give the path '
                  'of a nova.conf, e.g. /etc/nova/nova.conf')
    try:
        return nova_pci_conf.read_nova_conf(path)
    except FileNotFoundError:
        base.fail(f'--nova-conf {quoted_path(path)} does not exist: give the '
                  'path of a nova.conf, e.g. /etc/nova/nova.conf')
    except (OSError, UnicodeDecodeError) as exc:
        base.fail(f'cannot read --nova-conf {quoted_path(path)}: '
                  f'{getattr(exc, "strerror", None) or exc} (run as a user '
                  'who can read it)')


class CheckHost(command.ShowOne):
    """Check that this compute host is ready for GPU passthrough and vGPUs

    Lists the GPUs (PCI display controllers and processing accelerators,
    read from sysfs) with their driver, NUMA node, IOMMU group and the
    nova device_type they will get, then checks the IOMMU, the vfio-pci
    module, the drivers holding the GPUs and their IOMMU group neighbours.
    GPUs shared as vGPUs are listed with their mdev types, SR-IOV VFs or
    NVIDIA's variant driver, NVIDIA's vGPU manager and mdevctl. With
    --nova-conf it also checks the [pci] alias and device_spec options and
    the vGPU options ([devices] enabled_mdev_types, [mdev_<type>]) against
    nova's rules and against these GPUs. Every problem comes with its fix.
    Exits 0 when the host is ready, 1 when not. Needs no cloud
    credentials.

    Example::

        openstack gpu host check
        openstack gpu host check --nova-conf /etc/nova/nova.conf -f json
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        _root_argument(parser)
        _vendor_argument(parser)
        parser.add_argument(
            '--nova-conf', metavar='<file>',
            help='Also check the [pci] and vGPU options of this nova.conf, '
                 'e.g. /etc/nova/nova.conf')
        return parser

    def take_action(self, parsed_args):
        from osc_gpu.host import inventory
        from osc_gpu.host import libvirt_managed
        from osc_gpu.host import nova_mdev_conf
        from osc_gpu.host import nova_pci_conf
        from osc_gpu.host import readiness
        from osc_gpu.v1 import host_report as report

        vendor = _vendor(parsed_args.vendor)
        host = _read_host(parsed_args.root)
        conf = (_read_nova_conf(parsed_args.nova_conf)
                if parsed_args.nova_conf is not None else None)
        unmanaged = (libvirt_managed.unmanaged_devices(conf, host.gpus())
                     if conf is not None else {})
        result = readiness.check_host(host, vendor, unmanaged)
        summary = None
        if conf is not None:
            gpus = inventory.passthrough_gpus(result.gpus)
            summary, findings = nova_pci_conf.check_nova_conf(conf, host, gpus)
            vgpu_summary, more = nova_mdev_conf.check_mdev_conf(conf, host)
            summary = dict(summary, **vgpu_summary)
            result = result.with_findings(findings + more)
        self._problems = len(result.problems)
        return report.check_columns(result, host, summary)

    def run(self, parsed_args):
        super().run(parsed_args)
        if self._problems:
            self.app.stderr.write(
                f'host is not ready for GPU passthrough: {self._problems} '
                f'problem{"s" if self._problems > 1 else ""}, each listed '
                'with its fix\n')
            return 1
        return 0


class ShowHostConfig(command.ShowOne):
    """Print the nova.conf [pci] and vGPU lines and kernel flags for this host

    Builds one [pci] device_spec (compute) and one [pci] alias (controller
    and computes) per GPU model found in sysfs, with the device_type nova
    will see, the two PCI in Placement settings, plus the kernel command
    line (IOMMU flags by CPU vendor, vfio-pci.ids) and modprobe lines, as a
    nova.conf fragment on stdout (-f json/yaml give the same data
    structured). GPUs that offer mdev types get [devices]
    enabled_mdev_types and one [mdev_<type>] section per type (one type
    per GPU, max_instances on SR-IOV VFs), with the 'openstack gpu vgpu
    type set' commands that tag each GPU's placement provider; VFs on
    NVIDIA's vGPU variant driver are passed through as type-VF. The host's
    console (boot VGA, BMC display) is left out. Writes no system file:
    only --output writes, whole or not at all, and never over an existing
    file unless --force. Needs no cloud credentials.

    Example::

        openstack gpu host config --alias-name P4=gpu-p4 \\
            --numa-policy preferred --output /tmp/nova-pci.conf
        openstack gpu host config --vgpu-type nvidia-11 \\
            --vgpu-type 0000:85:00.0=nvidia-12
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        _root_argument(parser)
        _vendor_argument(parser)
        parser.add_argument(
            '--alias-name', metavar='<model>=<name>', action='append',
            default=[], dest='alias_names',
            help='Alias name for a GPU model, the model given by its '
                 'suggested alias, name or ids, e.g. P4=gpu-p4 or '
                 '10de:1bb3=gpu-p4 (repeat for more models; one name per '
                 'model)')
        parser.add_argument(
            '--numa-policy', metavar='<policy>',
            help='numa_policy of every alias: '
                 + ', '.join(nova_pci.NUMA_POLICIES)
                 + ' (default: none, nova uses legacy)')
        parser.add_argument(
            '--vgpu-type', metavar='[<gpu-address>=]<type>', action='append',
            default=[], dest='vgpu_types',
            help='mdev type of the GPUs that offer vGPUs, e.g. nvidia-11, or '
                 'of one GPU, e.g. 0000:85:00.0=nvidia-12 (repeat for more '
                 'GPUs; default: the type of the mdevs a GPU has, else the '
                 'first type it offers)')
        parser.add_argument(
            '--output', metavar='<file>',
            help='Write the nova.conf fragment to this new file instead of '
                 'stdout')
        parser.add_argument(
            '--force', action='store_true',
            help='With --output, replace the file if it exists (never a '
                 'directory)')
        return parser

    def take_action(self, parsed_args):
        from osc_gpu.host import config_gen
        from osc_gpu.host import inventory
        from osc_gpu.v1 import host_report as report

        vendor = _vendor(parsed_args.vendor)
        try:
            alias_names = config_gen.parse_alias_names(parsed_args.alias_names)
            host = _read_host(parsed_args.root)
            gpus = [e for e in inventory.list_gpus(host)
                    if vendor is None or e.device.vendor_id == vendor]
            config = config_gen.build_host_config(
                host, gpus, alias_names, parsed_args.numa_policy,
                parsed_args.vgpu_types)
        except config_gen.ConfigError as exc:
            base.fail(str(exc))
        text = config_gen.render_nova_conf(config)
        if parsed_args.output is not None:
            self._write(parsed_args.output, text, parsed_args.force)
        self._text = None if parsed_args.output is not None else text
        return report.config_columns(config, text)

    def _write(self, path, text, force):
        from osc_gpu.v1 import output

        try:
            output.write_file(path, text, force)
        except output.OutputError as exc:
            base.fail(str(exc))
        self.app.stderr.write(
            f'wrote {path if path.isprintable() else quoted_path(path)}\n')

    def produce_output(self, parsed_args, column_names, data):
        # The default (table) output is the ready-to-paste nova.conf text.
        if parsed_args.formatter == 'table' and not parsed_args.columns:
            if self._text is not None:
                self.app.stdout.write(self._text)
            return 0
        return super().produce_output(parsed_args, column_names, data)
