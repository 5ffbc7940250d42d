"""Render every configuration file of the local cloud under etc/.

Rendered on each `up`, so a changed port or node description takes effect
on the next start. Multi-valued options ([pci] alias, device_spec) are
written as repeated lines, which configparser cannot do, hence the tiny
writer below.
"""
import json
import os
import shutil

from devcloud_lib import settings

# Filters nova enables by default, plus the ones GPU passthrough needs.
SCHEDULER_FILTERS = (
    'ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
    'PciPassthroughFilter', 'NUMATopologyFilter')


def etc(*parts):
    return os.path.join(settings.ETC, *parts)


def _write_ini(path, sections):
    """sections: {section: {key: value or [values, repeated as lines]}}."""
    lines = ['# Rendered by tools/devcloud on each `up`: edits are lost.']
    for section, options in sections.items():
        lines.append(f'\n[{section}]')
        for key, value in options.items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool):
                    item = str(item).lower()
                lines.append(f'{key} = {item}')
    _write(path, '\n'.join(lines) + '\n')


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def db_url(database, secrets):
    return (f"mysql+pymysql://devcloud:{secrets['database']}@localhost/"
            f"{database}?unix_socket={settings.DB_SOCKET}&charset=utf8mb4")


def transport_url():
    # guest may only log in over loopback, which is all this cloud uses.
    port = settings.ports()['rabbitmq']
    return f'rabbit://guest:guest@{settings.HOST}:{port}/'


def service_auth(user, secrets):
    """A keystoneauth password section for service user USER."""
    return {
        'auth_type': 'password',
        'auth_url': settings.url('keystone', '/v3'),
        'username': user,
        'password': secrets[user],
        'user_domain_name': 'Default',
        'project_name': 'service',
        'project_domain_name': 'Default',
        'region_name': settings.REGION,
    }


def authtoken(user, secrets):
    section = service_auth(user, secrets)
    section.update({
        'www_authenticate_uri': settings.url('keystone', '/v3'),
        # what keystonemiddleware 13 demands of service tokens anyway
        'service_token_roles_required': True,
    })
    return section


def _common(debug):
    return {'debug': debug, 'use_stderr': True}


def oslo_limit(secrets):
    """How nova reads its limits from keystone: as service user nova,
    system-scoped (it has the reader role on the system), for the compute
    endpoint the catalog step recorded."""
    section = service_auth('nova', secrets)
    for key in ('project_name', 'project_domain_name'):
        del section[key]
    section['system_scope'] = 'all'
    try:
        with open(settings.COMPUTE_ENDPOINT_FILE) as f:
            section['endpoint_id'] = f.read().strip()
    except FileNotFoundError:   # before the first catalog step
        section.update(endpoint_service_type='compute',
                       endpoint_region_name=settings.REGION,
                       endpoint_interface='public')
    return section


def _no_notifications():
    # Nothing consumes notifications here: don't let queues fill up.
    return {'driver': 'noop'}


def keystone(secrets, debug):
    keys = os.path.join(settings.DATA, 'keystone')
    _write_ini(etc('keystone', 'keystone.conf'), {
        'DEFAULT': _common(debug),
        'database': {'connection': db_url('keystone', secrets)},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': os.path.join(keys, 'fernet')},
        'credential': {'key_repository': os.path.join(keys, 'credential')},
        'oslo_messaging_notifications': _no_notifications(),
    })


def placement(secrets, debug):
    _write_ini(etc('placement', 'placement.conf'), {
        'DEFAULT': _common(debug),
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': authtoken('placement', secrets),
        'placement_database': {'connection': db_url('placement', secrets)},
    })


def glance(secrets, debug, venv_etc):
    images = os.path.join(settings.DATA, 'glance')
    shutil.copy(os.path.join(venv_etc, 'glance', 'glance-api-paste.ini'),
                etc('glance', 'glance-api-paste.ini'))
    _write_ini(etc('glance', 'glance-api.conf'), dict({
        'DEFAULT': dict(_common(debug), **{
            'enabled_backends': 'file:file',
            'worker_self_reference_url': settings.url('glance'),
        }),
        'database': {'connection': db_url('glance', secrets)},
        'keystone_authtoken': authtoken('glance', secrets),
        'paste_deploy': {'flavor': 'keystone',
                         'config_file': etc('glance', 'glance-api-paste.ini')},
        'glance_store': {'default_backend': 'file'},
        'oslo_concurrency': {'lock_path': os.path.join(images, 'locks')},
        'oslo_messaging_notifications': _no_notifications(),
    }, **{
        store: {'filesystem_store_datadir': os.path.join(images, folder)}
        for store, folder in (('file', 'images'),
                              ('os_glance_staging_store', 'staging'),
                              ('os_glance_tasks_store', 'tasks'))
    }))


def neutron(secrets, debug, venv_etc):
    state = os.path.join(settings.DATA, 'neutron')
    shutil.copy(os.path.join(venv_etc, 'neutron', 'api-paste.ini'),
                etc('neutron', 'api-paste.ini'))
    _write_ini(etc('neutron', 'neutron.conf'), {
        'DEFAULT': dict(_common(debug), **{
            'core_plugin': 'ml2',
            'service_plugins': '',
            'auth_strategy': 'keystone',
            'transport_url': transport_url(),
            'api_paste_config': etc('neutron', 'api-paste.ini'),
            'state_path': state,
            'rpc_workers': 0,
            # No agents run: nobody to notify, nothing to schedule.
            'notify_nova_on_port_status_changes': False,
            'notify_nova_on_port_data_changes': False,
            'dhcp_agent_notification': False,
        }),
        'database': {'connection': db_url('neutron', secrets)},
        'keystone_authtoken': authtoken('neutron', secrets),
        'nova': service_auth('nova', secrets),
        'oslo_concurrency': {'lock_path': os.path.join(state, 'locks')},
        'oslo_messaging_notifications': _no_notifications(),
    })
    _write_ini(etc('neutron', 'ml2_conf.ini'), {
        # vlan project networks let any user create a network; with no
        # mechanism driver no port is ever bound, so servers use --nic none.
        'ml2': {'type_drivers': 'flat,vlan', 'tenant_network_types': 'vlan',
                'mechanism_drivers': '', 'extension_drivers': ''},
        'ml2_type_flat': {'flat_networks': '*'},
        'ml2_type_vlan': {'network_vlan_ranges': 'physnet1:100:199'},
        'securitygroup': {'firewall_driver': 'noop'},
    })


def cinder(secrets, debug, venv_etc):
    state = os.path.join(settings.DATA, 'cinder')
    shutil.copy(os.path.join(venv_etc, 'cinder', 'api-paste.ini'),
                etc('cinder', 'api-paste.ini'))
    _write_ini(etc('cinder', 'cinder.conf'), {
        'DEFAULT': dict(_common(debug), **{
            'transport_url': transport_url(),
            'auth_strategy': 'keystone',
            'my_ip': settings.HOST,
            # the volume service is devcloud@devcloud
            'host': 'devcloud',
            'state_path': state,
            'api_paste_config': etc('cinder', 'api-paste.ini'),
            'glance_api_servers': settings.url('glance'),
            'enabled_backends': 'devcloud',
            'default_volume_type': '__DEFAULT__',
            # The scheduler holds requests until the first capacity report
            # or this many seconds (default 60).
            'scheduler_driver_init_wait_time': 10,
            # Plenty for parallel functional tests.
            'quota_volumes': 500,
            'quota_snapshots': 500,
            'quota_gigabytes': 10000,
        }),
        'database': {'connection': db_url('cinder', secrets)},
        'keystone_authtoken': authtoken('cinder', secrets),
        'nova': service_auth('cinder', secrets),
        'service_user': dict(service_auth('cinder', secrets),
                             send_service_user_token=True),
        'coordination': {
            'backend_url': 'file://' + os.path.join(state, 'coordination')},
        'oslo_concurrency': {'lock_path': os.path.join(state, 'locks')},
        'oslo_messaging_notifications': _no_notifications(),
        'devcloud': {
            'volume_driver': 'devcloud_lib.cinder_driver.FileVolumeDriver',
            'volume_backend_name': 'devcloud',
            'devcloud_volumes_dir': os.path.join(state, 'volumes'),
        },
    })


def rabbitmq():
    port = settings.ports()['rabbitmq']
    _write(etc('rabbitmq', 'rabbitmq.conf'),
           f'listeners.tcp.default = {settings.HOST}:{port}\n')
    _write(etc('rabbitmq', 'enabled_plugins'), '[].\n')
    # Replaces /etc/rabbitmq/rabbitmq-env.conf: nothing from /etc applies.
    _write(etc('rabbitmq', 'rabbitmq-env.conf'), '')


def pci_alias(model_name, model):
    return json.dumps({'name': model_name, 'vendor_id': model['vendor_id'],
                       'product_id': model['product_id'],
                       'device_type': 'type-PCI'})


def vf_alias(profile_name, profile):
    """nova's "model B" vGPU: VFs passed through, counted in their own
    resource class (the vGPU profile), which the alias names."""
    return json.dumps({'name': profile_name, 'device_type': 'type-VF',
                       'resource_class': profile['resource_class']})


def nova(secrets, debug, venv_etc, description):
    state = os.path.join(settings.DATA, 'nova')
    shutil.copy(os.path.join(venv_etc, 'nova', 'api-paste.ini'),
                etc('nova', 'api-paste.ini'))
    models = description['gpu_models']
    _write_ini(etc('nova', 'nova.conf'), {
        'DEFAULT': dict(_common(debug), **{
            'transport_url': transport_url(),
            'my_ip': settings.HOST,
            'state_path': state,
            'allow_resize_to_same_host': True,
        }),
        'placement': service_auth('placement', secrets),
        'neutron': service_auth('neutron', secrets),
        'glance': {'region_name': settings.REGION},
        # catalog_info keeps its default, volumev3::publicURL:
        # keystoneauth matches that alias to the block-storage service.
        'cinder': dict(service_auth('nova', secrets),
                       os_region_name=settings.REGION),
        'service_user': dict(service_auth('nova', secrets),
                             send_service_user_token=True),
        'conductor': {'workers': 1},
        # Periodic discovery picks up nodes added later; `up` also runs
        # discover_hosts itself so the first boot never waits for it.
        'scheduler': {'workers': 1, 'discover_hosts_in_cells_interval': 30},
        'filter_scheduler': {'enabled_filters': ','.join(SCHEDULER_FILTERS),
                             'pci_in_placement': True},
        'pci': {'alias': [pci_alias(name, model)
                          for name, model in models.items()]
                + [vf_alias(name, profile) for name, profile in
                   description.get('vf_profiles', {}).items()],
                'report_in_placement': True},
        # Quotas are keystone's unified limits, enforced by nova itself
        # (registered by `up`: settings.registered_limits). The legacy
        # values only matter to `nova-manage limits
        # migrate_to_unified_limits`.
        'quota': {'driver': 'nova.quota.UnifiedLimitsDriver',
                  'instances': 500, 'cores': 2000, 'ram': 4096000},
        'oslo_limit': oslo_limit(secrets),
        'vnc': {'enabled': False},
        'oslo_concurrency': {'lock_path': os.path.join(state, 'locks')},
        'oslo_messaging_notifications': _no_notifications(),
    })
    # What only the controller services (API, conductor, scheduler,
    # nova-manage) read: computes reach the database through the conductor,
    # and one that can see the API database tries to, logging errors.
    _write_ini(etc('nova', 'controller.conf'), {
        'api': {'auth_strategy': 'keystone'},
        'wsgi': {'api_paste_config': etc('nova', 'api-paste.ini')},
        'api_database': {'connection': db_url('nova_api', secrets)},
        'database': {'connection': db_url('nova', secrets)},
        'keystone_authtoken': authtoken('nova', secrets),
    })
    for node in description['nodes']:
        compute_node(node, description)


def node_dir(name, *parts):
    return os.path.join(settings.DATA, 'nodes', name, *parts)


def instances_dir():
    """The instances_path all computes share.

    Every compute has my_ip 127.0.0.1, so nova's libvirt driver takes the
    source and destination of a resize or cold migration for hosts that
    share instance storage (as with NFS) and copies the instance folder
    locally: it must be one folder for all, or the destination finds no
    disk. (Servers of an older state folder keep their folder under
    data/nodes/<node>/instances; nothing of theirs needs it: disks are
    placeholders, made again where nova looks for them.)
    """
    shared = os.path.join(settings.DATA, 'instances')
    os.makedirs(shared, exist_ok=True)
    return shared


def compute_node(node, description):
    """A compute's own config file and the fake host it simulates.

    device_spec lives only here: it is multi-valued, so values in the shared
    nova.conf would add up with every node's.
    """
    name = node['name']
    models = description['gpu_models']
    profiles = description.get('vf_profiles', {})
    os.makedirs(node_dir(name, 'locks'), exist_ok=True)
    spec = dict(description.get('node_defaults', {}), **node)
    devices = host_devices(spec, models, profiles)
    mdev_types = {}
    for dev in devices:
        if dev['dev_type'] == 'MDEV_TYPES':
            mdev_types.setdefault(dev['mdev_type'], []).append(
                pci_address(dev))
    device_spec = [
        json.dumps({'vendor_id': models[m]['vendor_id'],
                    'product_id': models[m]['product_id']})
        for m in sorted(set(spec.get('gpus', [])))]
    # One spec per VF address: a spec matching the PF as well would make
    # nova refuse to start (it reports either a PF or its VFs).
    device_spec += [
        json.dumps({'vendor_id': dev['vendor_id'],
                    'product_id': dev['product_id'],
                    'address': pci_address(dev),
                    'resource_class': dev['resource_class'],
                    'managed': 'no'})
        for dev in devices if dev['dev_type'] == 'VF']
    conf = {
        'DEFAULT': {
            'host': name,
            'compute_driver': 'libvirt.LibvirtDriver',
            'state_path': node_dir(name),
            'instances_path': instances_dir(),
        },
        'libvirt': {'virt_type': 'kvm'},
        'pci': {'device_spec': device_spec},
        'oslo_concurrency': {'lock_path': node_dir(name, 'locks')},
    }
    if mdev_types:
        conf['devices'] = {'enabled_mdev_types': ','.join(mdev_types)}
        for mdev_type, addresses in mdev_types.items():
            conf[f'mdev_{mdev_type}'] = {
                'device_addresses': ','.join(addresses)}
    _write_ini(etc('nova', f'compute-{name}.conf'), conf)
    # What the fake-libvirt launcher builds the host from.
    _write(etc('nova', f'host-{name}.json'), json.dumps({
        'hostname': name,
        'vcpus': spec['vcpus'],
        'memory_mb': spec['memory_mb'],
        'disk_gb': spec['disk_gb'],
        'pci_devices': devices,
        'xml_dir': os.path.join(settings.XML, name),
        'providers': expected_providers(name, spec, devices),
    }, indent=1) + '\n')


def host_devices(spec, models, profiles):
    """The node's PCI devices on bus 0x81, one slot each, in this order:
    whole GPUs (``gpus``), mdev-capable GPUs (``vgpus``, one mdev type
    each), SR-IOV GPUs (``vf_gpus``: the PF at function 0, its VFs at
    functions 1..n)."""
    devices = []
    for m in spec.get('gpus', []):
        devices.append(dict(models[m], model=m, dev_type='PCI'))
    for mdev_type in spec.get('vgpus', []):
        # fakelibvirt's mdev-capable GPU: GRID M60-0B, 10de:0ffe
        devices.append({'dev_type': 'MDEV_TYPES', 'mdev_type': mdev_type,
                        'vendor_id': '10de', 'product_id': '0ffe',
                        'model': 'GRID M60-0B'})
    for gpu in spec.get('vf_gpus', []):
        profile = profiles[gpu['profile']]
        if not 1 <= gpu['vfs'] <= 6:
            raise SystemExit(f"devcloud: {spec['name']}: vfs must be 1-6 "
                             "(one slot: the PF at function 0)")
        ids = {k: profile[k] for k in ('vendor_id', 'product_id', 'name')}
        devices.append(dict(ids, model=gpu['profile'], dev_type='PF',
                            vf_ratio=gpu['vfs']))
        devices += [dict(ids, model=gpu['profile'], dev_type='VF',
                         vf_ratio=gpu['vfs'], function=f,
                         resource_class=profile['resource_class'])
                    for f in range(1, gpu['vfs'] + 1)]
    slot = -1
    for dev in devices:
        if dev.get('function', 0) == 0:
            slot += 1
        dev.update(bus=0x81, slot=slot, function=dev.get('function', 0))
    return devices


def pci_address(dev):
    return f"0000:{dev['bus']:02x}:{dev['slot']:02x}.{dev['function']}"


def resource_class(vendor_id, product_id):
    """The class nova gives a PCI device it reports to placement."""
    return f'CUSTOM_PCI_{vendor_id}_{product_id}'.upper()


# What fakelibvirt's mdev-capable GPU offers of each type.
MDEV_INSTANCES = {'nvidia-11': 16, 'nvidia-12': 8}


def expected_providers(hostname, spec, devices):
    """{provider name: {resource class: total}} this compute must have in
    placement before `up` returns: the root (named after the fake libvirt
    host name) and one child per GPU."""
    # (MEMORY_MB is left out: fakelibvirt's getInfo reports the host's
    # memory in KiB where libvirt says MiB, so nova reports 1024 times it.)
    providers = {hostname: {'VCPU': spec['vcpus']}}
    for dev in devices:
        if dev['dev_type'] == 'PCI':
            providers[f'{hostname}_{pci_address(dev)}'] = {
                resource_class(dev['vendor_id'], dev['product_id']): 1}
        elif dev['dev_type'] == 'MDEV_TYPES':
            # named after the libvirt node device; fakelibvirt's GPU
            # offers 16 nvidia-11 or 8 nvidia-12
            nodedev = 'pci_' + pci_address(dev).replace(':', '_').replace(
                '.', '_')
            providers[f'{hostname}_{nodedev}'] = {
                'VGPU': MDEV_INSTANCES[dev['mdev_type']]}
        elif dev['dev_type'] == 'PF':
            # the PF's provider counts its VFs
            providers[f'{hostname}_{pci_address(dev)}'] = {
                profile_class: dev['vf_ratio']
                for profile_class in {d['resource_class'] for d in devices
                                      if d['dev_type'] == 'VF'
                                      and d['slot'] == dev['slot']}}
    return providers


def clouds_yaml(secrets, description):
    """clouds.yaml for the admin and the member user (YAML by hand: the
    orchestrator runs on a bare python3 without PyYAML).

    ``gpu_aliases`` tells osc-gpu which PCI ids each nova alias stands for,
    as an operator would declare their cloud's [pci] alias entries.
    """
    aliases = ''.join(
        f'      {name}: "{model["vendor_id"]}:{model["product_id"]}"\n'
        for name, model in description['gpu_models'].items()) + ''.join(
        f'      {name}: {profile["resource_class"]}\n'
        for name, profile in description.get('vf_profiles', {}).items())

    def cloud(name, user, project):
        return (f'  {name}:\n'
                f'    region_name: {settings.REGION}\n'
                f'    identity_api_version: 3\n'
                f'    auth:\n'
                f"      auth_url: {settings.url('keystone', '/v3')}\n"
                f'      username: {user}\n'
                f'      password: {secrets[user]}\n'
                f'      project_name: {project}\n'
                f'      user_domain_name: Default\n'
                f'      project_domain_name: Default\n'
                f'    gpu_aliases:\n{aliases}')
    _write(settings.CLOUDS_YAML, 'clouds:\n'
           + cloud('devcloud', 'admin', 'admin')
           + cloud('devcloud-member', 'member', 'demo'))
    os.chmod(settings.CLOUDS_YAML, 0o600)


def render_all(secrets, description, debug=False):
    venv_etc = os.path.join(settings.VENV, 'etc')
    for folder in ('keystone', 'placement', 'glance', 'neutron', 'nova',
                   'cinder'):
        os.makedirs(etc(folder), exist_ok=True)
    rabbitmq()
    keystone(secrets, debug)
    placement(secrets, debug)
    glance(secrets, debug, venv_etc)
    neutron(secrets, debug, venv_etc)
    nova(secrets, debug, venv_etc, description)
    cinder(secrets, debug, venv_etc)
    clouds_yaml(secrets, description)
