"""``openstack gpu capacity``."""

from osc_lib.cli import format_columns
from osc_lib.command import command

from osc_gpu.rules import aliases
from osc_gpu.rules import capacity
from osc_gpu.v1 import base

_HEADERS = ('Host', 'Model', 'Resource Class', 'Aliases', 'Total', 'Used',
            'Free', 'Status')


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


def _row(alias_map, cap):
    names = alias_map.aliases_of(cap.resource_class)
    return (cap.host, _model(cap.resource_class), cap.resource_class,
            format_columns.ListColumn(names), cap.total, cap.used, cap.free,
            'disabled' if cap.disabled else 'enabled')


class ListGpuCapacity(base.CloudCommandMixin, command.Lister):
    """List GPUs per host and model: total, used and free

    Read from placement, where nova reports each PCI device when the
    computes run with [pci] report_in_placement = true (Zed or later);
    nova has no other API that lists PCI devices. Costs two placement
    requests however many hosts there are, plus two per device and one
    more on hosts with no free VCPU. Devices placement holds reserved
    are not counted in Total. On a compute whose nova-compute service is
    disabled, Status is "disabled" and Free is 0: nova schedules nothing
    there.

    Example::

        openstack gpu capacity
        openstack gpu capacity --alias P4 --host gpu-node-1 -f json
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
        return parser

    def take_action(self, parsed_args):
        alias_map, classes = self._validated(parsed_args)
        gpu_cloud = self.gpu_cloud()
        try:
            caps = gpu_cloud.gpu_capacity(host=parsed_args.host)
            if classes is not None:
                caps = capacity.of_classes(
                    caps, classes, "alias '%s'" % parsed_args.alias)
        except ValueError as exc:
            base.fail(str(exc))
        return _HEADERS, [_row(alias_map, c) for c in capacity.by_host(caps)]

    def _validated(self, parsed_args):
        """The alias map and the alias's classes, before any request."""
        try:
            alias_map = aliases.AliasMap.from_cloud_config(
                self.app.cloud.config)
            classes = (alias_classes(alias_map, parsed_args.alias)
                       if parsed_args.alias is not None else None)
        except ValueError as exc:   # InvalidAliasMap is one too
            base.fail(str(exc))
        return alias_map, classes
