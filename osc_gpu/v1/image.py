"""``openstack gpu image prepare``."""

from osc_lib.cli import format_columns
from osc_lib.cli import parseractions
from osc_lib.command import command

from osc_gpu.rules import hiding
from osc_gpu.rules import image_properties as props
from osc_gpu.v1 import base

_COLUMNS = ('id', 'name', 'result', 'changes') + props.GPU_KEYS


class PrepareGpuImage(base.CloudCommandMixin, command.ShowOne):
    """Set the image properties a GPU guest needs (re-run safe)

    Sets img_hide_hypervisor_id=true, which NVIDIA guest drivers need, and
    on request the machine type, firmware, video model and OS type. All
    changes go to glance in one request; a second run changes nothing.

    Example::

        openstack gpu image prepare ubuntu-24.04 --machine-type q35 \\
            --firmware uefi --dry-run
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('image', metavar='<image>',
                            type=base.text('image'),
                            help='Image to prepare (name or ID)')
        base.add_hide_hypervisor_options(
            parser, 'img_hide_hypervisor_id=true, nova Pike or later',
            'Let the guest see the hypervisor (img_hide_hypervisor_id=false)')
        for prop in props.GPU_IMAGE_PROPERTIES[1:]:
            parser.add_argument(
                prop.option, dest=prop.key,
                metavar='<%s>' % prop.option.lstrip('-'),
                help='%s (%s)%s' % (
                    prop.description[0].upper() + prop.description[1:],
                    prop.key,
                    ': ' + ', '.join(prop.values) if prop.values else ''))
        parser.add_argument(
            '--property', metavar='<key=value>', dest='properties',
            action=parseractions.KeyValueAction, default={},
            help='Other image property to set (repeat for more)')
        parser.add_argument('--dry-run', action='store_true',
                            help='Show what would change; change nothing')
        return parser

    def take_action(self, parsed_args):
        options = {k: getattr(parsed_args, k) for k in props.GPU_KEYS[1:]}
        try:
            wanted = props.wanted_properties(
                parsed_args.hide_hypervisor, options, parsed_args.properties)
        except ValueError as exc:
            base.fail(str(exc))
        gpu_cloud = self.gpu_cloud()
        image = gpu_cloud.find_image(parsed_args.image)
        if parsed_args.hide_hypervisor:
            self._warn_if_release_ignores_hiding(gpu_cloud)
        current = gpu_cloud.image_properties(image, tuple(wanted))
        diff = props.changes(current, wanted)
        if not diff:
            result = 'unchanged'
        elif parsed_args.dry_run:
            result = 'would change'
        else:
            image = gpu_cloud.set_image_properties(
                image, {k: new for k, (_, new) in diff.items()}, current)
            current = gpu_cloud.image_properties(image, tuple(wanted))
            result = 'changed'
        if parsed_args.dry_run:
            current = dict(current, **{k: new for k, (_, new) in diff.items()})
        data = (image.id, image.name, result,
                format_columns.ListColumn(props.describe_changes(diff)))
        data += tuple(current.get(k, '') for k in props.GPU_KEYS)
        return _COLUMNS, data

    def _warn_if_release_ignores_hiding(self, gpu_cloud):
        release = gpu_cloud.release()
        if not hiding.image_property_honoured(release):
            place = hiding.BY_KEY[hiding.IMAGE_KEY]
            self.app.stderr.write(
                'warning: %s ignores %s (nova honours it from %s on): hide '
                'KVM in the libvirt domain XML instead with %s\n'
                % (release, place.key, place.since, hiding.KVM_HIDDEN_XML))
