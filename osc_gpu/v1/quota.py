"""``openstack gpu quota set|show|list``: GPU limits in alias terms."""

from osc_lib.command import command

from osc_gpu.cloud import errors
from osc_gpu.cloud import identity
from osc_gpu.cloud import placement
from osc_gpu.cloud import quota
from osc_gpu.rules import aliases
from osc_gpu.rules import quotas
from osc_gpu.v1 import base

_SET_COLUMNS = ('project', 'resource', 'resource_name', 'limit', 'enforced')
_SHOW_HEADERS = ('Resource', 'Class', 'Limit', 'Source', 'In Use', 'Left',
                 'Free In Cloud')
_LIST_HEADERS = ('Project', 'Resource', 'Class', 'Limit')
SET_DESCRIPTION = 'set with openstack gpu quota set'


def _alias_map(app):
    try:
        return aliases.AliasMap.from_cloud_config(
            app.cloud.config if app.cloud else {})
    except aliases.InvalidAliasMap as exc:
        base.fail(str(exc))


def _resource_names(resource_class, alias_map):
    names = alias_map.aliases_of(resource_class)
    return '/'.join(names) if names else 'class:' + resource_class


def _add_project(parser, help_text):
    parser.add_argument('project', metavar='<project>', help=help_text)
    parser.add_argument('--project-domain', metavar='<project-domain>',
                        help='Domain the project belongs to')


class SetGpuQuota(base.CloudCommandMixin, command.ShowOne):
    """Set how many GPUs a project may hold (a unified limit nova enforces)

    Stores the keystone limit class:<RESOURCE_CLASS> of the compute service
    for the alias, vGPU type or class given, registering a default of -1
    (unlimited) first if the class has none, as keystone requires. Refuses
    when nova would not enforce it (not on unified limits, or a release that
    does not count alias GPUs) unless --allow-unenforced.

    Example::

        openstack gpu quota set ml-team --alias P4 --limit 2
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        _add_project(parser, 'Project to limit (name or ID)')
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument('--alias', metavar='<alias>',
                           help='GPUs of this [pci] alias (e.g. P4)')
        which.add_argument('--vgpu', metavar='<type>',
                           help='vGPUs of this type (class VGPU, or its '
                                'class under gpu_vgpu_types in clouds.yaml)')
        which.add_argument('--class', dest='resource_class',
                           metavar='<resource-class>',
                           help='A placement resource class, e.g. '
                                'CUSTOM_PCI_10DE_1BB3 or VGPU')
        parser.add_argument('--limit', required=True, metavar='<count>',
                            help='GPUs the project may hold at once; -1 or '
                                 'unlimited for no limit')
        parser.add_argument(
            '--allow-unenforced', action='store_true',
            help='Store the limit even when nova will not enforce it (to '
                 'stage limits before switching nova to unified limits)')
        return parser

    def _validated(self, parsed_args):
        kind, name = next((k, v) for k, v in (
            ('alias', parsed_args.alias), ('vgpu', parsed_args.vgpu),
            ('class', parsed_args.resource_class)) if v)
        config = (self.app.cloud.config if self.app.cloud else None) or {}
        vgpu_types = config.get(quotas.VGPU_TYPES_KEY) or {}
        try:
            resource = quotas.gpu_resource(kind, name, _alias_map(self.app),
                                           vgpu_types)
            return resource, quotas.parse_limit(parsed_args.limit)
        except quotas.InvalidQuota as exc:
            base.fail(str(exc))

    def take_action(self, parsed_args):
        resource, value = self._validated(parsed_args)
        gpu_cloud = self.gpu_cloud()
        project_id = gpu_cloud.find_project_id(parsed_args.project,
                                               parsed_args.project_domain)
        limits = quota.gpu_limits(gpu_cloud, project_id)
        gaps = quotas.enforcement_gaps(gpu_cloud.release(), [resource],
                                       limits.nova_uses_unified_limits)
        if gaps and not parsed_args.allow_unenforced:
            base.fail('%s; pass --allow-unenforced to store the limit anyway'
                      % gaps[0])
        for gap in gaps:
            self.app.stderr.write('warning: %s\n' % gap)
        _, registered = identity.set_project_limit(
            gpu_cloud, limits.scope, project_id, resource.limit_name, value,
            SET_DESCRIPTION)
        if registered:
            self.app.stderr.write(
                'note: registered a default of -1 (unlimited) for %s first: '
                'keystone needs one before project limits\n'
                % resource.limit_name)
        return _SET_COLUMNS, (parsed_args.project, resource.key,
                              resource.limit_name,
                              quotas.show_limit(value), not gaps)


class ShowGpuQuota(base.CloudCommandMixin, command.Lister):
    """Show a project's GPU limits, what it uses and what is free

    Limits come from keystone (the project's own, else the default), usage
    from placement as nova counts it, and the last column is what is free
    in the whole cloud, so "Left" and "Free In Cloud" together say whether
    a boot can work.

    Example::

        openstack gpu quota show ml-team
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        _add_project(parser, 'Project to show (name or ID)')
        return parser

    def take_action(self, parsed_args):
        alias_map = _alias_map(self.app)
        gpu_cloud = self.gpu_cloud()
        project_id = gpu_cloud.find_project_id(parsed_args.project,
                                               parsed_args.project_domain)
        limits = quota.gpu_limits(gpu_cloud, project_id)
        used = quota.usages(gpu_cloud, project_id)
        free = _free_by_class(gpu_cloud)
        classes = set(limits.classes(project_id))
        classes.update(rc for rc in used if quotas.is_gpu_class(rc))
        classes.update(rc for name in alias_map.declared
                       for rc in alias_map.resource_classes(name))
        rows = []
        for rc in sorted(classes):
            limit, source = limits.effective(project_id, rc)
            in_use = used.get(rc, 0)
            left = (None if limit is None or limit == quotas.UNLIMITED
                    else max(limit - in_use, 0))
            rows.append((_resource_names(rc, alias_map), rc,
                         quotas.show_limit(limit), source, in_use,
                         'unlimited' if left is None else left,
                         free.get(rc) if free is not None else None))
        for gap in quotas.enforcement_gaps(
                gpu_cloud.release(), [quotas.GpuResource('alias', a, rc)
                                      for rc in classes
                                      for a in alias_map.aliases_of(rc)],
                limits.nova_uses_unified_limits):
            self.app.stderr.write('note: %s\n' % gap)
        return _SHOW_HEADERS, rows


def _free_by_class(gpu_cloud):
    """``{class: free}`` in the whole cloud, or None without PCI data."""
    try:
        capacities = gpu_cloud.gpu_capacity()
    except placement.PciNotInPlacement:
        return None
    except errors.CloudError as exc:
        if exc.status_code != 403:
            raise
        return None     # placement's device list is for admins only
    free = {}
    for cap in capacities:
        free[cap.resource_class] = free.get(cap.resource_class, 0) + cap.free
    return free


class ListGpuQuota(base.CloudCommandMixin, command.Lister):
    """List GPU limits: the defaults, then each project's own

    Example::

        openstack gpu quota list
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('--project', metavar='<project>',
                            help='Only this project (name or ID)')
        parser.add_argument('--project-domain', metavar='<project-domain>',
                            help='Domain the project belongs to')
        return parser

    def take_action(self, parsed_args):
        alias_map = _alias_map(self.app)
        gpu_cloud = self.gpu_cloud()
        project_id = None
        if parsed_args.project:
            project_id = gpu_cloud.find_project_id(
                parsed_args.project, parsed_args.project_domain)
        limits = quota.gpu_limits(gpu_cloud, project_id)
        rows = [('(default)', _resource_names(rc, alias_map), rc,
                 quotas.show_limit(value))
                for rc, value in sorted(limits.defaults.items())]
        names = identity.project_names(gpu_cloud)
        rows += sorted((names.get(pid, pid), _resource_names(rc, alias_map),
                        rc, quotas.show_limit(value))
                       for (pid, rc), value in limits.project.items())
        return _LIST_HEADERS, rows
