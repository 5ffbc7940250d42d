"""``openstack gpu vgpu type set|unset|list``: GPUs tagged with their type."""

from osc_lib.cli import format_columns
from osc_lib.command import command

from osc_gpu.cloud import vgpu as cloud_vgpu
from osc_gpu.rules import echo
from osc_gpu.rules import inputs
from osc_gpu.rules import vgpu
from osc_gpu.rules import vgpu_capacity
from osc_gpu.v1 import base

_COLUMNS = ('host', 'address', 'type', 'trait', 'provider', 'provider_uuid',
            'traits', 'changed')
_LIST_HEADERS = ('Host', 'Address', 'Types', 'Resource Class', 'Total',
                 'Used', 'Free', 'Status')


def _validated(parsed_args):
    """``(host, address, trait)``, checked before any request."""
    try:
        host = inputs.check_text('host', parsed_args.host)
        address = vgpu_capacity.parse_gpu_address(parsed_args.address)
        trait = vgpu.type_trait(parsed_args.type)
        name = vgpu_capacity.provider_name(host, address)
    except ValueError as exc:
        base.fail(str(exc))
    if len(name) > vgpu_capacity.NAME_MAX:
        base.fail("host name %s is too long: the GPU's provider would be "
                  "named with %d characters, over placement's %d"
                  % (echo.quoted(host, 20), len(name),
                     vgpu_capacity.NAME_MAX))
    return host, address, trait


class _TypeCommand(base.CloudCommandMixin, command.ShowOne):

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            '--host', required=True, metavar='<host>',
            help='Compute node of the GPU (hypervisor host name)')
        parser.add_argument(
            '--address', required=True, metavar='<pci-address>',
            help='PCI address of the physical GPU (or SR-IOV VF) that '
                 'offers the vGPUs, e.g. 0000:81:00.0')
        parser.add_argument(
            'type', metavar='<type>',
            help='mdev type, as [devices] enabled_mdev_types names it '
                 '(e.g. nvidia-11)')
        return parser

    def change(self, parsed_args, add=(), remove=()):
        host, address, trait = _validated(parsed_args)
        conn = self.gpu_cloud().conn
        provider = cloud_vgpu.find_gpu(conn, host, address)
        before, after = cloud_vgpu.change_traits(
            conn, provider, add=[trait] if add else [],
            remove=[trait] if remove else [])
        return provider, before, after, trait, (host, address)

    @staticmethod
    def row(parsed_args, where, provider, trait, before, after):
        return _COLUMNS, (where[0], where[1], parsed_args.type, trait,
                          provider['name'], provider['uuid'],
                          format_columns.ListColumn(after), before != after)


class SetVgpuType(_TypeCommand):
    """Tag a physical GPU with the vGPU type nova runs on it

    Adds the type's trait (nvidia-11 -> CUSTOM_NVIDIA_11) to the GPU's
    placement provider, which nova names <host>_pci_<address> and never
    tags itself, so that flavors made with 'openstack gpu flavor create
    --vgpu TYPE:COUNT' land on it. Every other trait of the provider is
    kept (read-modify-write with the provider generation, retried when
    another client wrote meanwhile); nothing is written when the GPU has
    the trait already. The trait is created when placement lacks it.

    Example::

        openstack gpu vgpu type set --host gpu-node-3 \\
            --address 0000:81:01.0 nvidia-12
    """

    def take_action(self, parsed_args):
        provider, before, after, trait, where = self.change(parsed_args,
                                                            add=True)
        others = [t for t in after if t.startswith(vgpu.CUSTOM_PREFIX)
                  and t != trait]
        if others:
            self.app.stderr.write(
                "warning: %s %s also carries %s: nova runs one type per GPU; "
                "if that is an old type, remove it with 'openstack gpu vgpu "
                "type unset --host %s --address %s %s'\n"
                % (where[0], where[1], ', '.join(others), where[0], where[1],
                   vgpu.type_of_trait(others[0])))
        return self.row(parsed_args, where, provider, trait, before, after)


class UnsetVgpuType(_TypeCommand):
    """Remove a vGPU type's trait from a physical GPU

    Every other trait of the GPU's provider is kept; nothing is written
    when the GPU does not carry the trait. The trait itself stays in
    placement (other GPUs may carry it).

    Example::

        openstack gpu vgpu type unset --host gpu-node-3 \\
            --address 0000:81:01.0 nvidia-12
    """

    def take_action(self, parsed_args):
        provider, before, after, trait, where = self.change(parsed_args,
                                                            remove=True)
        return self.row(parsed_args, where, provider, trait, before, after)


class ListVgpuType(base.CloudCommandMixin, command.Lister):
    """List the physical GPUs that offer vGPUs, with their type traits

    One row per GPU (or SR-IOV VF) nova reports to placement for vGPUs,
    with the CUSTOM_* traits it carries (its type, once tagged with
    'openstack gpu vgpu type set'), its resource class and how many vGPUs
    it has, uses and has free. Costs a constant number of placement
    requests however many hosts there are.

    Example::

        openstack gpu vgpu type list --host gpu-node-3
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('--host', metavar='<host>',
                            type=base.text('host'),
                            help='Only GPUs on this hypervisor host')
        return parser

    def take_action(self, parsed_args):
        try:
            gpus = self.gpu_cloud().vgpu_gpus(host=parsed_args.host)
        except ValueError as exc:
            base.fail(str(exc))
        return _LIST_HEADERS, [
            (g.host, g.address, format_columns.ListColumn(g.type_traits),
             g.resource_class, g.total, g.used, g.free,
             'disabled' if g.disabled else 'enabled')
            for g in sorted(gpus, key=lambda g: (g.host, g.address,
                                                 g.resource_class))]
