"""``openstack gpu capacity``."""

import dataclasses

from osc_lib.cli import format_columns
from osc_lib.command import command

from osc_gpu.rules import aliases
from osc_gpu.rules import capacity
from osc_gpu.rules import vgpu
from osc_gpu.rules import vgpu_capacity
from osc_gpu.v1 import base

_HEADERS = ('Host', 'Model', 'Resource Class', 'Aliases', 'Address',
            'vGPU Types', 'Total', 'Used', 'Free', 'Status')
VGPU_MODEL = 'vGPU'


def alias_classes(alias_map, alias):
    """The classes of ``alias``; ValueError listing the known aliases."""
    classes = alias_map.resource_classes(alias)
    if not classes:
        raise ValueError(
            "unknown GPU alias '%s': known aliases are %s (declare others "
            "under gpu_aliases in clouds.yaml)"
            % (alias, ', '.join(alias_map.names())))
    return classes


def _model(resource_class):
    name = aliases.model_name_of_resource_class(resource_class)
    # An alias's own resource_class says nothing of the model behind it.
    return '' if name == resource_class else name


def _status(disabled):
    return 'disabled' if disabled else 'enabled'


def _row(alias_map, cap):
    names = alias_map.aliases_of(cap.resource_class)
    return (cap.host, _model(cap.resource_class), cap.resource_class,
            format_columns.ListColumn(names), '',
            format_columns.ListColumn([]), cap.total, cap.used, cap.free,
            _status(cap.disabled))


def _vgpu_row(alias_map, gpu):
    """One physical GPU that offers vGPUs: its own row, by address."""
    return (gpu.host, VGPU_MODEL, gpu.resource_class,
            format_columns.ListColumn(alias_map.aliases_of(
                gpu.resource_class)), gpu.address,
            format_columns.ListColumn(gpu.type_traits), gpu.total, gpu.used,
            gpu.free, _status(gpu.disabled))


def rows(alias_map, inventory):
    """PCI devices summed per host and class, then one row per vGPU GPU,
    all sorted by host."""
    found = [_row(alias_map, c) for c in capacity.by_host(inventory.pci)]
    found += [_vgpu_row(alias_map, g) for g in inventory.vgpus]
    return sorted(found, key=lambda r: (r[0], r[4], r[2]))


class ListGpuCapacity(base.CloudCommandMixin, command.Lister):
    """List GPUs per host and model, and vGPUs per physical GPU

    Total, used and free, read from placement, where nova reports each
    PCI device when the computes run with [pci] report_in_placement =
    true (Zed or later), and each physical GPU that offers vGPUs
    ([devices] enabled_mdev_types): those get a row of their own (Model
    "vGPU"), with their address and the type traits they carry
    ('openstack gpu vgpu type set'). nova has no other API that lists
    them. Costs two placement requests however many hosts there are,
    plus a few per device on hosts with no free VCPU. Units placement
    holds reserved are not counted in Total. On a compute whose
    nova-compute service is disabled, Status is "disabled" and Free is
    0: nova schedules nothing there.

    Example::

        openstack gpu capacity
        openstack gpu capacity --alias P4 --host gpu-node-1 -f json
        openstack gpu capacity --type nvidia-12
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            '--alias', metavar='<alias>',
            help='Only GPUs this [pci] alias can claim (names from '
                 'gpu_aliases in clouds.yaml, or known models: P4, T4...)')
        parser.add_argument(
            '--host', metavar='<host>',
            help='Only GPUs on this hypervisor host')
        parser.add_argument(
            '--type', metavar='<vgpu-type>', dest='vgpu_type',
            help='Only GPUs tagged with this vGPU type (e.g. nvidia-11)')
        return parser

    def take_action(self, parsed_args):
        alias_map, classes = self._validated(parsed_args)
        gpu_cloud = self.gpu_cloud()
        try:
            inventory = gpu_cloud.gpu_inventory(host=parsed_args.host)
            if classes is not None:
                inventory = _of_classes(inventory, classes,
                                        "alias '%s'" % parsed_args.alias)
            if parsed_args.vgpu_type is not None:
                inventory = dataclasses.replace(
                    inventory, pci=[], vgpus=vgpu_capacity.of_type(
                        inventory.vgpus, parsed_args.vgpu_type))
        except ValueError as exc:
            base.fail(str(exc))
        return _HEADERS, rows(alias_map, inventory)

    def _validated(self, parsed_args):
        """The alias map and the alias's classes, before any request."""
        try:
            alias_map = aliases.AliasMap.from_cloud_config(
                self.app.cloud.config)
            classes = (alias_classes(alias_map, parsed_args.alias)
                       if parsed_args.alias is not None else None)
            if parsed_args.vgpu_type is not None:
                vgpu.check_type(parsed_args.vgpu_type)
        except ValueError as exc:   # InvalidAliasMap is one too
            base.fail(str(exc))
        return alias_map, classes


def _of_classes(inventory, classes, what):
    """The GPUs of ``classes`` (an alias's); ValueError if none."""
    wanted = set(classes)
    found = dataclasses.replace(
        inventory,
        pci=[c for c in inventory.pci if c.resource_class in wanted],
        vgpus=[g for g in inventory.vgpus if g.resource_class in wanted])
    if not found.pci and not found.vgpus:
        capacity.of_classes(inventory.pci, classes, what)   # raises
    return found
