"""``openstack gpu server create``."""

import argparse
import base64

from osc_lib.cli import format_columns
from osc_lib.cli import parseractions
from osc_lib.command import command

from osc_gpu.cloud import servers
from osc_gpu.cloud import waiting
from osc_gpu.rules import echo
from osc_gpu.rules import faults
from osc_gpu.rules import gpu_request
from osc_gpu.rules import image_properties
from osc_gpu.rules import inputs
from osc_gpu.rules import preflight
from osc_gpu.v1 import base

_COLUMNS = ('id', 'name', 'status', 'flavor', 'image', 'host', 'gpus',
            'gpu_devices', 'hypervisor_hidden_by')
_QUIET_FORMATS = ('json', 'yaml', 'value', 'shell', 'csv')

_NIC_KEYS = {'net-id': 'uuid', 'port-id': 'port'}


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


def _check_options(parsed_args):
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


def _add_network_options(parser):
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


class CreateGpuServer(base.CloudCommandMixin, command.ShowOne):
    """Create a server with GPUs after checking it can work

    Before anything is created, checks that the flavor requests GPUs, that
    the hypervisor will be hidden from the guest (flavor or image), that
    the cloud's release supports it, and, where placement knows the GPUs,
    that a host has enough of them free. With --wait, a server the command
    cannot see to ACTIVE (a failed status read, --wait-timeout passed) is
    deleted again; one in ERROR is kept for its fault unless
    --delete-on-error.

    Example::

        openstack gpu server create ml-1 --flavor gpu.p4 \\
            --image ubuntu-24.04 --nic none --wait
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('name', metavar='<server-name>',
                            type=base.text('server name'),
                            help='New server name')
        parser.add_argument('--flavor', required=True, metavar='<flavor>',
                            type=base.text('flavor'),
                            help='GPU flavor (name or ID)')
        parser.add_argument('--image', required=True, metavar='<image>',
                            type=base.text('image'),
                            help='Image to boot (name or ID)')
        _add_network_options(parser)
        parser.add_argument('--property', dest='properties', default={},
                            action=parseractions.KeyValueAction,
                            metavar='<key=value>',
                            help='Server metadata (repeat for more)')
        parser.add_argument('--user-data', metavar='<file>',
                            type=_read_user_data,
                            help='User data file for the metadata service')
        parser.add_argument(
            '--prepare-image', action='store_true',
            help="Run 'gpu image prepare' on the image first if it does not "
                 'hide the hypervisor')
        parser.add_argument(
            '--visible-hypervisor', action='store_true',
            help='Boot even if the guest will see the hypervisor (GPUs '
                 'whose drivers do not mind, e.g. most AMD ones)')
        parser.add_argument('--dry-run', action='store_true',
                            help='Run the checks only; create nothing')
        parser.add_argument(
            '--or-show', action='store_true',
            help='Show the existing server of this name if it has the same '
                 'flavor, instead of creating a second one (re-run safe)')
        parser.add_argument('--wait', action='store_true',
                            help='Wait until the server is ACTIVE')
        parser.add_argument('--wait-timeout', type=base.seconds(), default=600,
                            metavar='<seconds>',
                            help='Give up waiting after this long '
                                 '(default 600)')
        parser.add_argument(
            '--delete-on-error', action='store_true',
            help='With --wait: delete the server if it ends in ERROR')
        return parser

    def take_action(self, parsed_args):
        _check_options(parsed_args)
        gpu_cloud = self.gpu_cloud()
        flavor = gpu_cloud.find_flavor(parsed_args.flavor)
        image = gpu_cloud.find_image(parsed_args.image)
        if parsed_args.or_show:
            existing = servers.existing_server(gpu_cloud, parsed_args.name,
                                               flavor)
            if existing is not None:
                return _row(gpu_cloud, existing, flavor, image,
                            self._hiding_of(gpu_cloud, flavor, image))
        checks = self._preflight(gpu_cloud, flavor, image, parsed_args)
        if parsed_args.dry_run:
            self._print_notes(checks)
            return _row(gpu_cloud, None, flavor, image, checks.hidden_by,
                        checks, name=parsed_args.name)
        if checks.needs_image_prepare:
            gpu_cloud.set_image_properties(
                image, {image_properties.HIDE_KEY: 'true'})
        attrs = self._server_attrs(parsed_args, gpu_cloud, flavor, image)
        server = servers.create_server(
            gpu_cloud, attrs,
            explain=lambda line: faults.explain(line, checks.requests))
        if parsed_args.wait:
            server = self._wait(gpu_cloud, server, checks, parsed_args)
        with servers.deleted_on_failure(gpu_cloud, server):
            row = _row(gpu_cloud, server, flavor, image, checks.hidden_by,
                       checks)
        self._print_notes(checks)
        return row

    @staticmethod
    def _hiding_of(gpu_cloud, flavor, image):
        """What hides the hypervisor for a server that already exists."""
        image_props = gpu_cloud.image_properties(
            image, (image_properties.HIDE_KEY,))
        hidden_by, _ = preflight.hiding_source(
            flavor.extra_specs, image_props, gpu_cloud.release())
        return hidden_by

    def _print_notes(self, checks):
        # Only on success: a refusal stays one line.
        for note in checks.notes:
            self.app.stderr.write('note: %s\n' % note)

    def _preflight(self, gpu_cloud, flavor, image, parsed_args):
        try:
            checks = preflight.Preflight(preflight.gpu_requests_of(
                flavor.name, flavor.extra_specs))
            image_props = gpu_cloud.image_properties(
                image, (image_properties.HIDE_KEY,))
            preflight.check_hiding(
                checks, flavor, image.name, image_props, gpu_cloud.release(),
                parsed_args.prepare_image, parsed_args.visible_hypervisor)
            preflight.check_capacity(checks, flavor.name,
                                     gpu_cloud.alias_map(),
                                     gpu_cloud.gpu_availability(),
                                     gpu_cloud.disabled_reasons)
            # Imported here: only a boot that passed the checks above
            # reads the project's GPU limits (keystone) and usage.
            from osc_gpu.cloud import quota
            quota.check_gpu_quota(gpu_cloud, checks, flavor)
        except preflight.PreflightError as exc:
            base.fail(str(exc))
        return checks

    @staticmethod
    def _server_attrs(parsed_args, gpu_cloud, flavor, image):
        attrs = {'name': parsed_args.name, 'flavor_id': flavor.id,
                 'image_id': image.id,
                 'networks': _nics(parsed_args, gpu_cloud)}
        # A mark of this request, so a server whose create answer was lost
        # can be told from a same-named one and removed.
        metadata = dict(parsed_args.properties, **servers.new_request_mark())
        optional = {'key_name': parsed_args.key_name,
                    'availability_zone': parsed_args.availability_zone,
                    'metadata': metadata,
                    'user_data': parsed_args.user_data,
                    'security_groups': [{'name': g} for g in
                                        parsed_args.security_groups]}
        attrs.update({k: v for k, v in optional.items() if v})
        return attrs

    def _wait(self, gpu_cloud, server, checks, parsed_args):
        show = (parsed_args.formatter not in _QUIET_FORMATS
                and self.app.stderr.isatty())
        with servers.deleted_on_failure(gpu_cloud, server):
            try:
                server = waiting.wait_for_status(
                    lambda: gpu_cloud.get_server(server.id), ('ACTIVE',),
                    ('ERROR',), parsed_args.wait_timeout,
                    on_poll=self._show_progress if show else None)
            except waiting.WaitTimeout as exc:
                base.fail("server '%s' not ACTIVE: %s" % (server.name, exc))
            finally:
                if show:
                    self.app.stderr.write('\n')
        if server.status == 'ERROR':
            self._report_error(gpu_cloud, server, checks, parsed_args)
        return server

    def _show_progress(self, server, elapsed):
        task = getattr(server, 'task_state', None)
        # Only on a terminal: \r rewrites the line, ESC[K clears the rest.
        self.app.stderr.write('\r%s %s%s %5.1fs\033[K' % (
            server.name, server.status, ' (%s)' % task if task else '',
            elapsed))
        self.app.stderr.flush()

    @staticmethod
    def _report_error(gpu_cloud, server, checks, parsed_args):
        fault = (server.fault or {}).get('message')
        line = "server '%s' went to ERROR: %s" % (
            server.name, faults.explain(fault, checks.requests))
        if parsed_args.delete_on_error:
            servers.delete_and_wait(gpu_cloud, server)
            line += '; the server was deleted (--delete-on-error)'
        else:
            line += "; delete it with 'openstack server delete %s'" % server.id
        base.fail(line)


def _row(gpu_cloud, server, flavor, image, hidden_by, checks=None,
         name=None):
    """The result row; ``server`` None for a dry run, ``checks`` None for a
    server that already existed (its GPUs then come from the flavor)."""
    if checks is not None:
        gpus = _gpus(checks)
    else:
        gpus = (flavor.extra_specs or {}).get(gpu_request.ALIAS_SPEC_KEY, '')
    if server is None:
        return _COLUMNS, (None, name, 'not created (dry run)', flavor.name,
                          image.name, None, gpus,
                          format_columns.ListColumn([]), hidden_by)
    devices = (gpu_cloud.allocated_gpu_devices(server.id)
               if server.status == 'ACTIVE' else [])
    return _COLUMNS, (server.id, server.name, server.status, flavor.name,
                      image.name, server.compute_host, gpus,
                      format_columns.ListColumn(devices), hidden_by)


def _gpus(checks):
    return gpu_request.render_alias_spec(checks.requests)


def _read_user_data(path):
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
