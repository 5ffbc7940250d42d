"""What ``gpu server create`` prints: ``openstack server show``'s columns
(same names, same ``-f json`` shapes) and the GPU ones.

One server is one object, as ``openstack server create`` prints it. A
batch (``--max`` above 1) is a list of such objects, one per server, in
name order, whatever the format (OSC's own multi-create shows only the
first server nova names in its answer).
"""

from osc_lib import utils
from osc_lib.cli import format_columns

from osc_gpu.rules import boot_source
from osc_gpu.rules import gpu_request

COLUMNS = ('id', 'name', 'status', 'flavor', 'image', 'volumes_attached',
           'addresses', 'key_name', 'security_groups',
           'OS-EXT-SRV-ATTR:host', 'gpus', 'gpu_devices',
           'hypervisor_hidden_by')
DRY_RUN_STATUS = 'not created (dry run)'


class AddressesColumn(format_columns.DictColumn):
    """A server's addresses as OSC shows them: ``net=ip, ip`` in a table,
    ``{net: [ip...]}`` with ``-f json``."""

    def _addresses(self):
        return {net: [a['addr'] for a in entries if 'addr' in a]
                for net, entries in (self._value or {}).items()}

    def human_readable(self):
        return utils.format_dict_of_list(self._addresses()) or ''

    def machine_readable(self):
        return self._addresses()


class DevicesColumn(format_columns.ListColumn):
    """``gpu_devices``: null (``unknown`` in a table) when placement
    would not say (it is admin-only by default)."""

    def human_readable(self):
        return 'unknown' if self._value is None else super().human_readable()

    def machine_readable(self):
        return None if self._value is None else list(self._value)


class BatchRows(tuple):
    """The rows of a batch: printed as a list, one entry per server."""


def server_row(server, reads, gpus, devices, hidden_by):
    """The row of a server nova returned."""
    info = server.to_dict()
    flavor = info.get('flavor') or {}
    if flavor.get('original_name') is None:       # before 2.47
        flavor = '%s (%s)' % (reads.flavor.name, reads.flavor.id)
    else:
        flavor = format_columns.DictColumn(flavor)
    image = info.get('image') or {}
    if image and any(image.values()):
        image_id = image.get('id', '')
        image = ('%s (%s)' % (reads.disk.name, image_id)
                 if image_id == reads.disk.id else image_id)
    else:
        image = boot_source.IMAGE_STRING_FOR_BFV
    volumes = [{k: v for k, v in volume.items()
                if v is not None and k != 'location'}
               for volume in info.get('attached_volumes') or []]
    return (server.id, server.name, server.status, flavor, image,
            format_columns.ListDictColumn(volumes),
            AddressesColumn(server.addresses or {}), server.key_name,
            format_columns.ListDictColumn(server.security_groups or []),
            server.compute_host, gpus, DevicesColumn(devices), hidden_by)


def dry_run_row(name, reads, request, parsed_args, gpus, hidden_by):
    """What a server would look like, without a server."""
    flavor = dict(reads.flavor.to_dict(), original_name=reads.flavor.name)
    flavor.pop('links', None)
    return (None, name, DRY_RUN_STATUS, format_columns.DictColumn(flavor),
            reads.disk.shown_image(request.source.on_volume),
            format_columns.ListDictColumn([]), AddressesColumn({}),
            parsed_args.key_name, format_columns.ListDictColumn(
                [{'name': g} for g in parsed_args.security_groups]),
            None, gpus, DevicesColumn([]), hidden_by)


def gpus_of(requests=None, flavor=None):
    """The ``gpus`` column: the preflight's reading of the flavor, or the
    flavor's own spec for a server that already existed."""
    if requests is not None:
        return gpu_request.render_alias_spec(requests)
    return (flavor.extra_specs or {}).get(gpu_request.ALIAS_SPEC_KEY, '')


def result(rows, batch):
    """``(columns, data)`` for cliff: one row, or :class:`BatchRows`."""
    if batch:
        return COLUMNS, BatchRows(rows)
    return COLUMNS, rows[0]


def emit(command, parsed_args, column_names, data):
    """ShowOne's output for one server; for a batch, the list formats
    print a list and the table one table per server."""
    columns, selector = command._generate_columns_and_selector(
        parsed_args, column_names)
    rows = [list(command._compress_iterable(row, selector)) if selector
            else list(row) for row in data]
    formatter = command.formatter
    if parsed_args.formatter == 'table':
        for row in rows:
            formatter.emit_one(columns, row, command.app.stdout, parsed_args)
        return 0
    formatter.emit_list(columns, rows, command.app.stdout, parsed_args)
    return 0
