"""``openstack gpu server create``."""

from osc_lib.cli import parseractions
from osc_lib.command import command

from osc_gpu.cloud import boot_reads
from osc_gpu.cloud import errors
from osc_gpu.cloud import server_batch
from osc_gpu.cloud import servers
from osc_gpu.rules import faults
from osc_gpu.rules import gpu_request
from osc_gpu.rules import image_properties
from osc_gpu.rules import preflight
from osc_gpu.rules import vgpu_preflight
from osc_gpu.rules import server_request
from osc_gpu.v1 import base
from osc_gpu.v1 import server_options
from osc_gpu.v1 import server_result

_QUIET_FORMATS = ('json', 'yaml', 'value', 'shell', 'csv')


class CreateGpuServer(base.CloudCommandMixin, command.ShowOne):
    """Create a server with GPUs after checking it can work

    Before anything is created, checks that the flavor requests GPUs, that
    the hypervisor will be hidden from the guest (by the flavor, or by the
    image properties of the boot disk: image, volume or snapshot), that
    the cloud's release supports it, and, where placement knows the GPUs,
    that the hosts have room for --min servers. Boot, block device,
    network and scheduling options are openstack server create's. With
    --wait, a server the command cannot see to ACTIVE (a failed status
    read, --wait-timeout passed) is deleted again; one in ERROR is kept
    for its fault unless --delete-on-error, which also deletes a failed
    batch whole.

    Example::

        openstack gpu server create ml-1 --flavor gpu.p4 \\
            --image ubuntu-24.04 --nic none --wait
        openstack gpu server create ml --flavor gpu.p4 \\
            --image ubuntu-24.04 --boot-from-volume 40 --min 2 --max 2 \\
            --nic none --wait -f json
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('name', metavar='<server-name>',
                            type=base.text('server name'),
                            help='New server name (a batch: <name>-1, '
                                 '<name>-2...)')
        parser.add_argument('--flavor', required=True, metavar='<flavor>',
                            type=base.text('flavor'),
                            help='GPU flavor (name or ID)')
        server_options.add_boot_options(parser)
        server_options.add_network_options(parser)
        server_options.add_placement_options(parser)
        server_options.add_metadata_options(parser)
        parser.add_argument('--property', dest='properties', default={},
                            action=parseractions.KeyValueAction,
                            metavar='<key=value>',
                            help='Server metadata (repeat for more)')
        parser.add_argument('--user-data', metavar='<file>',
                            type=server_options.read_user_data,
                            help='User data file for the metadata service')
        parser.add_argument(
            '--prepare-image', action='store_true',
            help="Make the boot disk hide the hypervisor first if it does "
                 "not: 'gpu image prepare' on the image, or the image "
                 "property on the volume")
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
                            help='Wait until the servers are ACTIVE')
        parser.add_argument('--wait-timeout', type=base.seconds(), default=600,
                            metavar='<seconds>',
                            help='Give up waiting after this long '
                                 '(default 600)')
        parser.add_argument(
            '--delete-on-error', action='store_true',
            help='With --wait: delete a server that ends in ERROR; a batch '
                 'that fails is deleted whole')
        return parser

    def take_action(self, parsed_args):
        request = server_options.boot_request(parsed_args)
        if request.batch and parsed_args.formatter == 'shell':
            base.fail('-f shell shows one server: a batch (--max %d) needs '
                      '-f json, yaml, value or table' % request.max_count)
        gpu_cloud = self.gpu_cloud()
        reads = boot_reads.read_for_boot(gpu_cloud, parsed_args.flavor,
                                         request.source)
        server_options.check_for_cloud(parsed_args, request,
                                       reads.max_microversion)
        if parsed_args.or_show:
            existing = servers.existing_server(gpu_cloud, parsed_args.name,
                                               reads.flavor)
            if existing is not None:
                return self._existing(gpu_cloud, existing, reads, parsed_args)
        checks = self._preflight(gpu_cloud, reads, parsed_args,
                                 request.min_count)
        names = server_request.batch_names(
            parsed_args.name, _batch_size(request, checks), request.batch)
        if parsed_args.dry_run:
            self._print_notes(checks.notes)
            return server_result.result([server_result.dry_run_row(
                n, reads, request, parsed_args, _gpus(checks),
                checks.hidden_by) for n in names], request.batch)
        self._prepare_disk(gpu_cloud, reads, checks)
        attrs = server_options.server_attrs(parsed_args, gpu_cloud, reads,
                                            request)
        batch = server_batch.Batch(
            gpu_cloud, parsed_args.delete_on_error,
            explain=lambda line: faults.explain(line, checks.requests),
            batch=request.batch)
        batch.create([dict(attrs, name=n) for n in names], request.min_count)
        if parsed_args.wait:
            self._wait(batch, parsed_args)
            batch.confirm(reads.devices)
        else:
            batch.refresh()
        self._print_notes(checks.notes + batch.notes)
        return server_result.result([server_result.server_row(
            m.server, reads, _gpus(checks), m.devices, checks.hidden_by)
            for m in batch.members], request.batch)

    def produce_output(self, parsed_args, column_names, data):
        if isinstance(data, server_result.BatchRows):
            return server_result.emit(self, parsed_args, column_names, data)
        return super().produce_output(parsed_args, column_names, data)

    def _existing(self, gpu_cloud, server, reads, parsed_args):
        """The row of the server --or-show found."""
        hidden_by, _ = preflight.hiding_source(
            reads.flavor.extra_specs, reads.disk.properties or {},
            reads.release)
        devices = (gpu_cloud.allocated_gpu_devices(server.id, reads.devices)
                   if server.status == 'ACTIVE' else [])
        return server_result.result([server_result.server_row(
            server, reads, server_result.gpus_of(flavor=reads.flavor),
            devices, hidden_by)], False)

    def _print_notes(self, notes):
        # Only on success: a refusal stays one line.
        for note in notes:
            self.app.stderr.write('note: %s\n' % note)

    def _preflight(self, gpu_cloud, reads, parsed_args, servers=1):
        flavor, disk = reads.flavor, reads.disk
        try:
            checks = vgpu_preflight.vgpu_checks(
                flavor.name, flavor.extra_specs, gpu_cloud.vgpu_classes(),
                disk.properties, reads.release)
            if checks is not None:
                vgpu_preflight.check_vgpu_capacity(
                    checks, flavor.name, gpu_cloud.vgpu_availability())
                return checks
            checks = preflight.Preflight(preflight.gpu_requests_of(
                flavor.name, flavor.extra_specs))
            preflight.check_hiding(
                checks, flavor, disk.name, disk.properties, reads.release,
                parsed_args.prepare_image, parsed_args.visible_hypervisor,
                kind=disk.kind, via=disk.via)
            if reads.capacity_refused:
                preflight.check_aliases(flavor.name, gpu_cloud.alias_map(),
                                        checks.requests)
                checks.notes.append('GPU capacity not checked: %s'
                                    % reads.capacity_refused)
            else:
                preflight.check_capacity(checks, flavor.name,
                                         gpu_cloud.alias_map(),
                                         reads.availability,
                                         gpu_cloud.disabled_reasons, servers)
            # Imported here: only a boot that passed the checks above
            # reads the project's GPU limits (keystone) and usage.
            from osc_gpu.cloud import quota
            quota.check_gpu_quota(gpu_cloud, checks, flavor)
        except preflight.PreflightError as exc:
            base.fail(str(exc))
        return checks

    @staticmethod
    def _prepare_disk(gpu_cloud, reads, checks):
        """--prepare-image: the image property on the image (glance) or
        on the volume (cinder's os-set_image_metadata)."""
        if not checks.needs_image_prepare:
            return
        hide = {image_properties.HIDE_KEY: 'true'}
        if reads.image is not None:
            gpu_cloud.set_image_properties(reads.image, hide)
            return
        try:
            gpu_cloud.set_volume_image_properties(reads.volume, hide)
        except errors.CloudError as exc:
            base.fail("%s: set it with 'openstack volume set --image-property"
                      " %s=true %s' (or boot with a flavor that hides the "
                      "hypervisor)" % (exc, image_properties.HIDE_KEY,
                                       reads.disk.name))

    def _wait(self, batch, parsed_args):
        """Wait for the batch, showing progress on a terminal only."""
        show = (parsed_args.formatter not in _QUIET_FORMATS
                and self.app.stderr.isatty())
        try:
            batch.wait(parsed_args.wait_timeout,
                       self._show_progress if show else None)
        finally:
            if show:
                self.app.stderr.write('\n')

    def _show_progress(self, found, elapsed):
        # \r rewrites the line, ESC[K clears the rest.
        self.app.stderr.write('\r%s %5.1fs\033[K' % (
            ', '.join(_status_of(s) for s in found), elapsed))
        self.app.stderr.flush()


def _status_of(server):
    task = getattr(server, 'task_state', None)
    return '%s %s%s' % (server.name, server.status,
                        ' (%s)' % task if task else '')


def _batch_size(request, checks):
    """How many servers to create: --max, or fewer when the hosts have
    room for fewer (at least --min: the preflight refused otherwise)."""
    if checks.room is None or checks.room >= request.max_count:
        return request.max_count
    count = max(request.min_count, checks.room)
    checks.notes.append('creating %d of --max %d servers: the hosts have '
                        'room for %d' % (count, request.max_count,
                                         checks.room))
    return count


def _gpus(checks):
    return gpu_request.render_alias_spec(checks.requests)
