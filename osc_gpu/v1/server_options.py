"""``gpu server create``'s options that ``openstack server create`` has
too, with the same names, meanings and defaults, and the nova request
they make.

Everything that can be checked without the cloud is checked here, before
any request: the boot source, block devices, tags, hostname, counts. What
depends on the cloud's compute API version is checked once it is known.
"""

import argparse
import base64
import dataclasses

from osc_lib.cli import parseractions

from osc_gpu.rules import boot_source
from osc_gpu.rules import booleans
from osc_gpu.rules import echo
from osc_gpu.rules import inputs
from osc_gpu.rules import server_request
from osc_gpu.v1 import base

_NIC_KEYS = {'net-id': 'uuid', 'port-id': 'port'}


@dataclasses.dataclass
class BootRequest:
    """The options as checked offline."""

    source: boot_source.BootSource
    block_devices: list
    min_count: int
    max_count: int
    hints: dict
    needs: list          # keys of server_request.NEEDS the options use

    @property
    def batch(self):
        return self.max_count > 1


def add_boot_options(parser):
    """--image, --volume, --snapshot, --boot-from-volume, --block-device."""
    disk = parser.add_mutually_exclusive_group()
    disk.add_argument('--image', metavar='<image>', type=base.text('image'),
                      help='Boot disk from this image (name or ID)')
    disk.add_argument('--volume', metavar='<volume>',
                      type=base.text('volume'),
                      help='Boot from this volume (name or ID)')
    disk.add_argument('--snapshot', metavar='<snapshot>',
                      type=base.text('snapshot'),
                      help='Boot from a volume made from this volume '
                           'snapshot (name or ID)')
    parser.add_argument(
        '--boot-from-volume', metavar='<volume-size>',
        type=base.whole_number('--boot-from-volume'),
        help='With --image: boot from a new volume of this size (GB) made '
             'from the image; it outlives the server unless '
             '--delete-on-termination')
    parser.add_argument(
        '--delete-on-termination', action='store_true',
        help='Delete the --boot-from-volume volume with the server')
    parser.add_argument(
        '--block-device', metavar='<key=value,...>', dest='block_devices',
        action='append', default=[], type=_block_device,
        help='Another disk, as in openstack server create: keys %s (repeat '
             'for more)' % ', '.join(boot_source.BLOCK_DEVICE_KEYS))


def add_placement_options(parser):
    """--hint, --server-group, --min, --max."""
    parser.add_argument('--hint', metavar='<key=value>', dest='hints',
                        action=parseractions.KeyValueAppendAction,
                        default={}, help='Hint for the scheduler (repeat '
                                         'for more)')
    parser.add_argument('--server-group', metavar='<server-group>',
                        type=base.text('server group'),
                        help="Server group to create the server in (as "
                             "--hint group=<server-group-id>)")
    parser.add_argument('--min', metavar='<count>', dest='min_count',
                        type=base.whole_number('--min'), default=1,
                        help='Minimum number of servers to create (default '
                             '1)')
    parser.add_argument('--max', metavar='<count>', dest='max_count',
                        type=base.whole_number('--max'), default=1,
                        help='Maximum number of servers to create (default '
                             '1); several are named <name>-1, <name>-2...')


def add_metadata_options(parser):
    """--tag, --description, --hostname, the config drive."""
    parser.add_argument('--tag', metavar='<tag>', dest='tags',
                        action='append', default=[],
                        help='Tag for the server (repeat for more)')
    parser.add_argument('--description', metavar='<description>',
                        type=base.text('server description'),
                        help='Description of the server')
    parser.add_argument('--hostname', metavar='<hostname>',
                        help="Hostname for the metadata service (default: "
                             "from the server's name)")
    drive = parser.add_mutually_exclusive_group()
    drive.add_argument('--use-config-drive', action='store_true',
                       dest='config_drive', default=None,
                       help='Enable the config drive')
    drive.add_argument('--no-config-drive', action='store_false',
                       dest='config_drive', help='Disable the config drive')
    drive.add_argument('--config-drive', metavar='<true|false>',
                       dest='config_drive', type=_boolean('--config-drive'),
                       help='Same as --use-config-drive / --no-config-drive')


def add_network_options(parser):
    """--nic, --network, --key-name, --security-group, --availability-zone."""
    parser.add_argument(
        '--nic', dest='nics', action='append', default=[],
        metavar='<nic>',
        help='Network interface: none, auto, net-id=<uuid> or '
             'port-id=<uuid> (repeat for more); none boots without '
             'networking')
    parser.add_argument('--network', dest='networks', action='append',
                        default=[], metavar='<network>',
                        type=base.text('network'),
                        help='Attach to this network (name or ID)')
    parser.add_argument('--key-name', metavar='<key-name>',
                        type=base.text('key pair name'),
                        help='Keypair to inject into the server')
    parser.add_argument('--security-group', dest='security_groups',
                        action='append', default=[],
                        metavar='<security-group>',
                        type=base.text('security group'),
                        help='Security group (repeat for more)')
    parser.add_argument('--availability-zone', metavar='<zone>',
                        type=base.text('availability zone'),
                        help='Availability zone to boot in')


def boot_request(parsed_args):
    """The checked :class:`BootRequest`; one line and exit 1 otherwise."""
    _check_network_options(parsed_args)
    try:
        source = boot_source.boot_source(
            parsed_args.image, parsed_args.volume, parsed_args.snapshot,
            parsed_args.boot_from_volume, parsed_args.delete_on_termination)
        server_request.check_counts(parsed_args.min_count,
                                    parsed_args.max_count)
    except ValueError as exc:
        base.fail(str(exc))
    problem = server_request.tags_problem(parsed_args.tags) or (
        parsed_args.hostname is not None and
        server_request.hostname_problem(parsed_args.hostname))
    if problem:
        base.fail(problem)
    _check_batch(parsed_args)
    return BootRequest(source, parsed_args.block_devices,
                       parsed_args.min_count, parsed_args.max_count,
                       _hints(parsed_args.hints), _needs(parsed_args))


def check_for_cloud(parsed_args, request, max_microversion):
    """What the cloud's compute API version decides."""
    try:
        server_request.check_microversions(request.needs, max_microversion)
    except ValueError as exc:
        base.fail(str(exc))
    if parsed_args.hostname is not None:
        problem = server_request.hostname_problem(parsed_args.hostname,
                                                  max_microversion)
        if problem:
            base.fail(problem)


def server_attrs(parsed_args, gpu_cloud, reads, request):
    """The SDK's ``create_server`` arguments, all but the name."""
    source_id = reads.disk.id
    mappings = [boot_source.root_mapping(request.source, source_id)]
    mappings += [_resolved(gpu_cloud, d) for d in request.block_devices]
    hints = dict(request.hints)
    if parsed_args.server_group:
        hints['group'] = gpu_cloud.find_server_group_id(
            parsed_args.server_group)
    attrs = {'flavor_id': reads.flavor.id,
             'image_id': '' if request.source.on_volume else source_id,
             'block_device_mapping': mappings,
             'networks': _nics(parsed_args, gpu_cloud)}
    optional = {'key_name': parsed_args.key_name,
                'availability_zone': parsed_args.availability_zone,
                'metadata': parsed_args.properties,
                'user_data': parsed_args.user_data,
                'security_groups': [{'name': g} for g in
                                    parsed_args.security_groups],
                'scheduler_hints': hints,
                'tags': parsed_args.tags,
                'description': parsed_args.description,
                'hostname': parsed_args.hostname,
                # nova takes no False: OSC leaves it out then too.
                'config_drive': parsed_args.config_drive or None}
    attrs.update({k: v for k, v in optional.items() if v})
    return attrs


def _resolved(gpu_cloud, mapping):
    """A --block-device mapping with its volume, snapshot or image name
    looked up, as OSC does."""
    mapping = dict(mapping)
    lookup = {'volume': gpu_cloud.find_volume,
              'snapshot': gpu_cloud.find_snapshot,
              'image': gpu_cloud.find_image_for_boot}.get(
        mapping['source_type'])
    if lookup is not None:
        mapping['uuid'] = lookup(mapping['uuid']).id
    return mapping


def _hints(hints):
    """OSC's scheduler hints: one value as a string, several as a list."""
    return {k: v[0] if len(v) == 1 else v for k, v in hints.items()}


def _needs(parsed_args):
    needs = [option for option, used in (
        ('--description', parsed_args.description is not None),
        ('--tag', parsed_args.tags),
        ('--hostname', parsed_args.hostname is not None),
        ('--nic none/auto', set(parsed_args.nics) & {'none', 'auto'}))
        if used]
    for key in ('tag', 'volume_type'):
        if any(key in d for d in parsed_args.block_devices):
            needs.append('--block-device %s' % key)
    return needs


def _check_batch(parsed_args):
    """What nova refuses for several servers in one request."""
    if parsed_args.max_count < 2:
        return
    if parsed_args.hostname is not None:
        base.fail('--hostname names one server: nova refuses it for '
                  '--max %d (leave it out: each server gets its name)'
                  % parsed_args.max_count)
    if any(n.startswith('port-id=') for n in parsed_args.nics):
        base.fail('a --nic port-id=<uuid> port can go to one server only: '
                  'nova refuses it for --max %d (use --nic net-id=<uuid>)'
                  % parsed_args.max_count)
    if parsed_args.or_show:
        base.fail('--or-show matches one server by its name: it cannot be '
                  'used with --max %d' % parsed_args.max_count)


def _check_network_options(parsed_args):
    """What argparse cannot check alone: --nic and --property."""
    specs = parsed_args.nics
    if ('none' in specs or 'auto' in specs) and (
            len(specs) > 1 or parsed_args.networks):
        base.fail("--nic none/auto cannot be combined with other --nic or "
                  "--network options")
    for spec in specs:
        key, sep, value = spec.partition('=')
        if spec not in ('none', 'auto') and (
                key not in _NIC_KEYS or not inputs.is_uuid_like(value)):
            base.fail('invalid --nic %s: use none, auto, net-id=<uuid> or '
                      'port-id=<uuid>' % echo.quoted(spec))
    try:
        for key, value in parsed_args.properties.items():
            inputs.check_text('metadata key', key)
            inputs.check_text('metadata value', value)
    except ValueError as exc:
        base.fail('--property: %s' % exc)


def _nics(parsed_args, gpu_cloud):
    """nova's ``networks`` value from --nic and --network."""
    specs = list(parsed_args.nics)
    if specs in (['none'], ['auto']):
        return specs[0]
    networks = [{'uuid': gpu_cloud.find_network_id(n)}
                for n in parsed_args.networks]
    for spec in specs:
        key, _, value = spec.partition('=')
        networks.append({_NIC_KEYS[key]: value})
    return networks or 'auto'


def _block_device(text):
    try:
        return boot_source.parse_block_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _boolean(option):
    def parse(text):
        value = text.strip().lower()
        if value not in booleans.BOOLEAN_STRINGS:
            raise argparse.ArgumentTypeError(
                'invalid %s %s: use true or false' % (option,
                                                      echo.quoted(text)))
        return booleans.is_true(value)
    return parse


def read_user_data(path):
    """``type=`` for --user-data: the file, base64-encoded."""
    try:
        with open(path, 'rb') as f:
            encoded = base64.b64encode(f.read()).decode('ascii')
        return inputs.check_user_data(encoded, path)
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            'cannot read user data file %s: %s' % (echo.quoted(path),
                                                   exc.strerror))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))
