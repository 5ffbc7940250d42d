"""``openstack gpu flavor create|list|show|delete``."""

from osc_lib.cli import format_columns
from osc_lib.cli import parseractions
from osc_lib.command import command

from osc_gpu.cloud import flavors
from osc_gpu.rules import aliases
from osc_gpu.rules import flavor_specs
from osc_gpu.rules import gpu_request
from osc_gpu.rules import hiding
from osc_gpu.rules import vgpu
from osc_gpu.v1 import base

_COLUMNS = ('id', 'name', 'gpus', 'vgpus', 'hide_hypervisor', 'numa_policy',
            'vcpus', 'ram', 'disk', 'ephemeral', 'swap', 'is_public',
            'description', 'properties')
_LIST_COLUMNS = ('id', 'name', 'gpus', 'vgpus', 'hide_hypervisor',
                 'numa_policy', 'vcpus', 'ram', 'disk', 'is_public')
_LIST_HEADERS = ('ID', 'Name', 'GPUs', 'vGPUs', 'Hide Hypervisor',
                 'NUMA Policy', 'VCPUs', 'RAM', 'Disk', 'Is Public')
# (option, default, metavar, help): ASCII digits within nova's bounds.
_SIZES = (
    ('--vcpus', 1, '<vcpus>', 'Number of vCPUs (default 1)'),
    ('--ram', 256, '<size-mb>', 'Memory size in MB (default 256M)'),
    ('--disk', 0, '<size-gb>', 'Disk size in GB (default 0G)'),
    ('--ephemeral', 0, '<size-gb>', 'Ephemeral disk size in GB (default 0G)'),
    ('--swap', 0, '<size-mb>', 'Swap space size in MB (default 0M)'),
)


def _vgpus(specs, classes):
    found = vgpu.vgpus_of(specs, classes)
    return str(found) if found else ''


def _flavor_row(flavor, columns, classes=()):
    specs = flavor.extra_specs or {}
    values = {
        'gpus': specs.get(gpu_request.ALIAS_SPEC_KEY, ''),
        'vgpus': _vgpus(specs, classes),
        'hide_hypervisor': hiding.flavor_hides(specs),
        'numa_policy': specs.get(flavor_specs.NUMA_KEY, ''),
        'properties': format_columns.DictColumn(specs),
    }
    return tuple(values[c] if c in values else getattr(flavor, c, None)
                 for c in columns)


def _add_request_options(parser):
    """--gpu or --vgpu (one of them), and --vgpu-class."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        '--gpu', metavar='<alias:count>', action='append', dest='gpus',
        help='GPUs to pass through, by [pci] alias name and count, e.g. '
             'P4:2 (repeat, or give a comma list as nova writes it)')
    which.add_argument(
        '--vgpu', metavar='[<type>:]<count>', action='append', dest='vgpus',
        help='vGPUs by mdev type and count, e.g. nvidia-11:1, or a count '
             'for any type; each from another physical GPU')
    parser.add_argument(
        '--vgpu-class', metavar='<resource-class>',
        help="With --vgpu: the type's [mdev_<type>] mdev_class, e.g. "
             'CUSTOM_NVIDIA_11 (default: from clouds.yaml gpu_vgpu_types, '
             'else VGPU)')


class CreateGpuFlavor(base.CloudCommandMixin, command.ShowOne):
    """Create a flavor that passes through GPUs or vGPUs, in one validated step

    The flavor and its extra specs are created together: if any part
    fails, the flavor is removed again. Extra specs are written at compute
    microversion 2.86 or later where the cloud offers it, so nova checks
    them too. --vgpu TYPE:COUNT asks for vGPUs (resources:VGPU) on a GPU
    tagged with the type ('openstack gpu vgpu type set'); more than one
    vGPU are asked for one per physical GPU, as NVIDIA requires
    (resources1:VGPU=1, resources2:VGPU=1... and group_policy=isolate).

    Example::

        openstack gpu flavor create gpu.p4 --gpu P4:2 \\
            --vcpus 8 --ram 16384 --disk 40 --or-show
        openstack gpu flavor create vgpu.12 --vgpu nvidia-12:1 --or-show
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('name', metavar='<flavor-name>',
                            type=base.text('flavor name'),
                            help='New flavor name')
        _add_request_options(parser)
        parser.add_argument('--id', metavar='<id>',
                            type=base.text('flavor ID'),
                            help='Unique flavor ID (default: generated)')
        for option, default, metavar, help_text in _SIZES:
            parser.add_argument(option, type=base.whole_number(option),
                                default=default, metavar=metavar,
                                help=help_text)
        public = parser.add_mutually_exclusive_group()
        public.add_argument('--public', dest='public', action='store_true',
                            default=True,
                            help='Flavor is available to other projects '
                                 '(default)')
        public.add_argument('--private', dest='public', action='store_false',
                            help='Flavor is not available to other projects')
        parser.add_argument(
            '--project', metavar='<project>', action='append', default=[],
            type=base.text('project'),
            help='Allow <project> (name or ID) to use the private flavor '
                 '(repeat for several projects)')
        parser.add_argument('--project-domain', metavar='<project-domain>',
                            type=base.text('project domain'),
                            help='Domain the projects belong to')
        parser.add_argument('--description', metavar='<description>',
                            type=base.text('flavor description'),
                            help='Description for the flavor')
        parser.add_argument(
            '--property', metavar='<key=value>', dest='properties',
            action=parseractions.KeyValueAction, default={},
            help='Other extra spec to set on the flavor (repeat for more)')
        base.add_hide_hypervisor_options(
            parser, 'hw:hide_hypervisor_id, or the key this release knows',
            'Do not hide the hypervisor')
        parser.add_argument(
            '--numa-policy', choices=flavor_specs.NUMA_POLICIES,
            metavar='<policy>',
            help='PCI NUMA affinity policy (hw:pci_numa_affinity_policy): '
                 + ', '.join(flavor_specs.NUMA_POLICIES))
        parser.add_argument(
            '--or-show', action='store_true',
            help='Show an existing flavor of this name if it is the one '
                 'asked for (sizes, access, description, extra specs), '
                 'instead of failing; refuse naming what differs otherwise '
                 '(re-run safe)')
        return parser

    def take_action(self, parsed_args):
        requests, attrs = self._validated(parsed_args)
        if parsed_args.vgpus:
            request = self._vgpu_request(parsed_args)
        else:
            self._check_aliases(requests)
        gpu_cloud = self.gpu_cloud()
        try:
            if parsed_args.vgpus:
                specs, notes = flavor_specs.vgpu_flavor_specs(
                    request, parsed_args.hide_hypervisor,
                    parsed_args.properties, gpu_cloud.release())
            else:
                specs, notes = flavor_specs.gpu_flavor_specs(
                    requests, parsed_args.hide_hypervisor,
                    parsed_args.numa_policy, parsed_args.properties,
                    gpu_cloud.release())
        except ValueError as exc:
            base.fail(str(exc))
        for note in notes:
            self.app.stderr.write('warning: %s\n' % note)
        projects = {gpu_cloud.find_project_id(p, parsed_args.project_domain):
                    p for p in parsed_args.project}
        flavor, _created = flavors.create_gpu_flavor(
            gpu_cloud, attrs, specs, projects, or_show=parsed_args.or_show)
        return _COLUMNS, _flavor_row(flavor, _COLUMNS,
                                     vgpu.classes_in(specs))

    def _vgpu_request(self, parsed_args):
        """The --vgpu request, its class from --vgpu-class or clouds.yaml;
        checked before any request, as --gpu is."""
        try:
            if len(parsed_args.vgpus) > 1:
                raise ValueError('give --vgpu once: one type and count per '
                                 'flavor (e.g. --vgpu nvidia-11:2)')
            if parsed_args.numa_policy:
                raise ValueError('--numa-policy applies to PCI passthrough '
                                 "(--gpu); nova places vGPUs without it")
            request = vgpu.parse_vgpu_request(parsed_args.vgpus[0],
                                              parsed_args.vgpu_class)
            if parsed_args.vgpu_class is None and request.type:
                rc = vgpu.declared_class(
                    vgpu.declared_types(self.app.cloud.config), request.type)
                if rc:
                    request = vgpu.parse_vgpu_request(parsed_args.vgpus[0],
                                                      rc)
            flavor_specs.check_vgpu_properties(request,
                                               parsed_args.properties)
        except ValueError as exc:
            base.fail(str(exc))
        return request

    def _check_aliases(self, requests):
        """Refuse an alias the cloud does not have, where clouds.yaml says
        which it has; else warn that it cannot be checked."""
        try:
            alias_map = aliases.AliasMap.from_cloud_config(
                self.app.cloud.config)
            notes = alias_map.check_aliases([r.alias for r in requests])
        except ValueError as exc:   # UnknownAlias, InvalidAliasMap
            base.fail(str(exc))
        for note in notes:
            self.app.stderr.write('warning: %s\n' % note)

    @staticmethod
    def _validated(parsed_args):
        """Every check that needs no cloud, before any request is made."""
        try:
            requests = (gpu_request.parse_gpu_requests(parsed_args.gpus)
                        if parsed_args.gpus else ())
            for key, value in parsed_args.properties.items():
                flavor_specs.check_property(key, value)
        except ValueError as exc:
            base.fail(str(exc))
        if parsed_args.vgpu_class is not None and not parsed_args.vgpus:
            base.fail('--vgpu-class only applies to --vgpu flavors: add '
                      '--vgpu [TYPE:]COUNT or drop --vgpu-class')
        if parsed_args.project and parsed_args.public:
            base.fail('--project only applies to --private flavors: add '
                      '--private or drop --project')
        attrs = {'name': parsed_args.name, 'vcpus': parsed_args.vcpus,
                 'ram': parsed_args.ram, 'disk': parsed_args.disk,
                 'ephemeral': parsed_args.ephemeral,
                 'swap': parsed_args.swap,
                 'is_public': parsed_args.public}
        if parsed_args.id:
            attrs['id'] = parsed_args.id
        if parsed_args.description:
            attrs['description'] = parsed_args.description
        return requests, attrs


class ListGpuFlavor(base.CloudCommandMixin, command.Lister):
    """List flavors that request GPUs or vGPUs

    vGPU flavors are those with resources:VGPU (numbered groups
    included) or a custom class that clouds.yaml gpu_vgpu_types names.

    Example::

        openstack gpu flavor list -f json
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('--alias', metavar='<alias>',
                            help='Only flavors requesting this alias')
        return parser

    def take_action(self, parsed_args):
        classes = _declared_classes(self.app)
        rows = []
        for flavor in self.gpu_cloud().flavors():
            specs = flavor.extra_specs or {}
            if gpu_request.ALIAS_SPEC_KEY not in specs and \
                    vgpu.vgpus_of(specs, classes) is None:
                continue
            if parsed_args.alias and not _requests_alias(specs,
                                                         parsed_args.alias):
                continue
            rows.append(_flavor_row(flavor, _LIST_COLUMNS, classes))
        # A cloud may return a flavor without a name: sort it first.
        rows.sort(key=lambda row: row[1] or '')
        return _LIST_HEADERS, rows


def _declared_classes(app):
    """The custom vGPU classes clouds.yaml declares (gpu_vgpu_types)."""
    try:
        return set(vgpu.declared_types(app.cloud.config if app.cloud
                                       else {}).values())
    except ValueError as exc:
        base.fail(str(exc))


def _requests_alias(specs, alias):
    try:
        requests = gpu_request.requests_from_extra_specs(specs)
    except ValueError:
        return False
    return any(r.alias == alias for r in requests)


class ShowGpuFlavor(base.CloudCommandMixin, command.ShowOne):
    """Show a flavor with its GPU or vGPU request

    Example::

        openstack gpu flavor show gpu.p4 -c gpus -f value
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('flavor', metavar='<flavor>',
                            type=base.text('flavor'),
                            help='Flavor to show (name or ID)')
        return parser

    def take_action(self, parsed_args):
        classes = _declared_classes(self.app)
        flavor = self.gpu_cloud().find_flavor(parsed_args.flavor)
        return _COLUMNS, _flavor_row(flavor, _COLUMNS, classes)


class DeleteGpuFlavor(base.CloudCommandMixin, command.Command):
    """Delete GPU flavors (refuses flavors that request no GPU or vGPU)

    Example::

        openstack gpu flavor delete gpu.p4
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('flavors', metavar='<flavor>', nargs='+',
                            type=base.text('flavor'),
                            help='Flavor(s) to delete (name or ID)')
        return parser

    def take_action(self, parsed_args):
        classes = _declared_classes(self.app)
        gpu_cloud = self.gpu_cloud()
        failures = []
        for name in parsed_args.flavors:
            try:
                flavor = gpu_cloud.find_flavor(name)
                specs = flavor.extra_specs or {}
                if gpu_request.ALIAS_SPEC_KEY not in specs and \
                        vgpu.vgpus_of(specs, classes) is None:
                    base.fail("flavor '%s' requests no GPU: delete it with "
                              "'openstack flavor delete %s'" % (name, name))
                gpu_cloud.delete_flavor(flavor)
            except Exception as exc:
                failures.append(str(exc))
        if failures:
            base.fail('%d of %d flavors not deleted: %s' % (
                len(failures), len(parsed_args.flavors), '; '.join(failures)))
