"""``openstack gpu server list`` and ``openstack gpu server show``."""

import os

from osc_lib.cli import format_columns
from osc_lib.command import command

from osc_gpu.cloud import fleet as cloud_fleet
from osc_gpu.rules import aliases
from osc_gpu.rules import booleans
from osc_gpu.rules import fleet
from osc_gpu.v1 import base
from osc_gpu.v1 import capacity as capacity_command

_LIST_HEADERS = ('ID', 'Name', 'Project ID', 'Status', 'Host', 'Flavor',
                 'GPUs', 'GPU Devices')
_SHOW_FIELDS = ('id', 'name', 'project_id', 'status', 'OS-EXT-SRV-ATTR:host',
                'OS-EXT-SRV-ATTR:hypervisor_hostname', 'flavor', 'image',
                'gpus', 'gpu_devices', 'guest_pci_devices',
                'hypervisor_hidden_by', 'fault')


class DeviceListColumn(format_columns.ListDictColumn):
    """Held devices: one line each in a table, objects with ``-f json``;
    'unknown' (null) when placement cannot tell."""

    def human_readable(self):
        if self._value is None:
            return 'unknown'
        return '\n'.join(' '.join(p for p in (
            d['host'], d['address'] or d['provider'], d['model']
            or d['resource_class'],
            'x%d' % d['units'] if d['units'] != 1 else '') if p)
            for d in self._value)

    def machine_readable(self):
        return None if self._value is None else [dict(d)
                                                 for d in self._value]


class GuestDeviceColumn(DeviceListColumn):
    """What the guest sees of the held devices."""

    def human_readable(self):
        if self._value is None:
            return 'unknown'
        return '\n'.join(_guest_line(d) for d in self._value)


def _guest_line(device):
    what = device['model'] or 'device'
    if device['vendor_id']:
        what += ' [%s:%s]' % (device['vendor_id'], device['product_id'])
    where = ('from host %s' % device['host_address']
             if device['host_address'] else '')
    find = ("; in the guest: %s" % device['find_in_guest']
            if device['find_in_guest'] else '')
    count = '%dx ' % device['count'] if device['count'] != 1 else ''
    return ('%s%s %s; guest PCI address set by libvirt, not reported by '
            'nova%s' % (count, what, where, find)).replace('  ', ' ')


def _devices(row_devices, alias_map):
    if row_devices is None:
        return DeviceListColumn(None)
    return DeviceListColumn([fleet.device_record(d, alias_map)
                             for d in row_devices])


def _list_row(row, alias_map):
    server = row.server
    return (server.id, server.name, server.project_id, server.status,
            server.host or server.hypervisor or None, server.flavor,
            row.gpus.text,
            _devices(row.devices, alias_map))


def _alias_map(config):
    try:
        return aliases.AliasMap.from_cloud_config(config)
    except aliases.InvalidAliasMap as exc:
        base.fail(str(exc))


def _declared_classes(alias_map):
    return {rc for classes in alias_map.declared.values() for rc in classes}


def _notes(app, notes):
    for note in notes:
        app.stderr.write('note: %s\n' % note)


class ListGpuServer(base.CloudCommandMixin, command.Lister):
    """List GPU servers and the GPUs each one holds

    One row per server whose flavor asks for GPUs (pci_passthrough:alias,
    resources:VGPU...) or that holds a device in placement, whoever made
    it. GPU Devices names each device placement gave the server: host and
    PCI address (from the device provider's name), resource class and
    model; 'unknown' where placement cannot tell. A server whose flavor
    asks for GPUs but holds none (ERROR, SHELVED_OFFLOADED) is listed with
    no devices. Requests do not grow with the servers: nova's list (paged),
    placement's device providers, and the allocations of each device in
    use. --project searches all projects, as 'openstack server list
    --project' does.

    Example::

        openstack gpu server list --all-projects
        openstack gpu server list --host gpu-node-1 --alias P4 -f json
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            '--host', metavar='<host>', type=base.text('host'),
            help='Only servers on this compute host')
        parser.add_argument(
            '--project', metavar='<project>', type=base.text('project'),
            help='Only servers of this project (name or ID; searches all '
                 'projects, admin only)')
        parser.add_argument(
            '--project-domain', metavar='<project-domain>',
            type=base.text('project domain'),
            help='Domain the project belongs to (name or ID)')
        parser.add_argument(
            '--alias', metavar='<alias>',
            help='Only servers that ask for or hold GPUs of this [pci] '
                 'alias (from gpu_aliases in clouds.yaml, or known models)')
        parser.add_argument(
            '--all-projects', action='store_true',
            default=booleans.is_true(os.environ.get('ALL_PROJECTS', '')),
            help='Include all projects (admin only; or the ALL_PROJECTS '
                 'environment variable)')
        return parser

    def take_action(self, parsed_args):
        alias_map = _alias_map(self.app.cloud.config)
        matches = None
        if parsed_args.alias is not None:
            try:
                classes = capacity_command.alias_classes(alias_map,
                                                         parsed_args.alias)
            except ValueError as exc:
                base.fail(str(exc))
            matches = fleet.alias_matcher(parsed_args.alias, classes,
                                          alias_map)
        gpu_cloud = self.gpu_cloud()
        project_id = (cloud_fleet.project_id_of(
            gpu_cloud, parsed_args.project, parsed_args.project_domain)
            if parsed_args.project else None)
        found = cloud_fleet.read_fleet(
            gpu_cloud, all_projects=parsed_args.all_projects,
            project_id=project_id, host=parsed_args.host)
        rows = found.rows(_declared_classes(alias_map))
        if matches is not None:
            rows = [r for r in rows if matches(r)]
        unknown = any(r.devices is None for r in rows) and (
            found.unknown_why or fleet.unknown_devices_note(rows))
        _notes(self.app, ([unknown] if unknown else []) + found.notes)
        return _LIST_HEADERS, [_list_row(r, alias_map) for r in rows]


class ShowGpuServer(base.CloudCommandMixin, command.ShowOne):
    """Show a server's GPUs: what it asks for, holds, and hides behind

    gpu_devices are the host devices placement gave the server (host, PCI
    address, resource class, model). Nova does not report the PCI
    addresses the guest sees (libvirt picks them); guest_pci_devices says
    what is known: the same vendor and product ids, and the lspci command
    that finds them in the guest. hypervisor_hidden_by names the flavor
    extra spec or image property that hides KVM from the guest, as the
    server was booted (compute microversion 2.98+; older clouds: the
    image as it is now).

    Example::

        openstack gpu server show ml-1
        openstack gpu server show ml-1 -c gpu_devices -f json
    """

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('server', metavar='<server>',
                            type=base.text('server'),
                            help='Server (name or ID)')
        return parser

    def take_action(self, parsed_args):
        alias_map = _alias_map(self.app.cloud.config)
        gpu_cloud = self.gpu_cloud()
        server, image, devices, notes = cloud_fleet.read_server(
            gpu_cloud, parsed_args.server)
        gpus = fleet.flavor_gpus(server.extra_specs, _declared_classes(
            alias_map) | {d.resource_class for d in devices or ()})
        guest = (None if devices is None else
                 [fleet.guest_record(d) for d in devices])
        _notes(self.app, notes)
        return _SHOW_FIELDS, (
            server.id, server.name, server.project_id, server.status,
            server.host or None, server.hypervisor or None, server.flavor,
            image or None, gpus.text, _devices(devices, alias_map),
            GuestDeviceColumn(guest),
            fleet.hidden_by(server, gpu_cloud.release()),
            server.fault or None)
