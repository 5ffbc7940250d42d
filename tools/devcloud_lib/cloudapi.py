"""What devcloud does through the OpenStack APIs, inside the venv:

    python -m devcloud_lib.cloudapi catalog        users, projects, catalog
    python -m devcloud_lib.cloudapi limits         nova's registered limits
    python -m devcloud_lib.cloudapi image          the public tiny-raw image
    python -m devcloud_lib.cloudapi locate SERVER  print "<host> <uuid>"
    python -m devcloud_lib.cloudapi providers TIMEOUT HOST.json...
        wait until each compute's providers and inventories are in placement

One process registers everything: through the CLI it would be ~25 calls
at 1.5 s each.
"""
import json
import os
import sys
import time

import openstack

from devcloud_lib import settings

# name, type, port name, path of the endpoint URL
CATALOG = (
    ('keystone', 'identity', 'keystone', '/v3'),
    ('placement', 'placement', 'placement', ''),
    ('glance', 'image', 'glance', ''),
    ('nova', 'compute', 'nova', '/v2.1'),
    ('neutron', 'network', 'neutron', ''),
    # keystoneauth finds it for 'volumev3' and 'block-storage' alike.
    ('cinder', 'block-storage', 'cinder', '/v3'),
)
INTERFACES = ('public', 'internal', 'admin')
IMAGE_NAME = 'tiny-raw'


def connect():
    return openstack.connect(
        auth_url=settings.url('keystone', '/v3'), username='admin',
        password=settings.load_secrets()['admin'], project_name='admin',
        user_domain_name='Default', project_domain_name='Default',
        region_name=settings.REGION, identity_api_version='3')


def ensure_catalog(identity):
    os.makedirs(settings.DATA, exist_ok=True)
    for name, service_type, port_name, path in CATALOG:
        service = next(iter(identity.services(type=service_type)), None)
        if service is None:
            service = identity.create_service(name=name, type=service_type,
                                              is_enabled=True)
        wanted = settings.url(port_name, path)
        existing = {ep.interface: ep
                    for ep in identity.endpoints(service_id=service.id)}
        for interface in INTERFACES:
            endpoint = existing.get(interface)
            if endpoint is None:
                identity.create_endpoint(
                    service_id=service.id, interface=interface, url=wanted,
                    region_id=settings.REGION, is_enabled=True)
            elif endpoint.url != wanted:    # ports were overridden
                identity.update_endpoint(endpoint, url=wanted)
        if service_type == 'compute':
            public = next(ep for ep in identity.endpoints(
                service_id=service.id) if ep.interface == 'public')
            with open(settings.COMPUTE_ENDPOINT_FILE, 'w') as f:
                f.write(public.id + '\n')


def ensure_project(identity, name, description):
    return (identity.find_project(name, domain_id='default')
            or identity.create_project(name=name, domain_id='default',
                                       description=description))


def ensure_user(identity, name, password, project):
    user = identity.find_user(name, domain_id='default')
    if user is None:
        user = identity.create_user(name=name, password=password,
                                    domain_id='default',
                                    default_project_id=project.id)
    return user


def grant(identity, project, user, *role_names):
    for role_name in role_names:
        role = identity.find_role(role_name, ignore_missing=False)
        identity.assign_project_role_to_user(project, user, role)


def ensure_users(identity):
    secrets = settings.load_secrets()
    # keystone-manage bootstrap made the admin, member, reader and service
    # roles; the service role is what keystonemiddleware requires of the
    # service tokens nova sends to neutron.
    service = ensure_project(identity, 'service', 'OpenStack services')
    for name in settings.SERVICE_USERS:
        user = ensure_user(identity, name, secrets[name], service)
        grant(identity, service, user, 'admin', 'service')
    # nova reads unified limits as this user ([oslo_limit]): looking up
    # its endpoint and every project's limits needs a system reader.
    reader = identity.find_role('reader', ignore_missing=False)
    identity.assign_system_role_to_user(
        identity.find_user('nova', domain_id='default'), reader, 'all')
    demo = ensure_project(identity, 'demo', 'devcloud member project')
    member = ensure_user(identity, 'member', secrets['member'], demo)
    grant(identity, demo, member, 'member')


def ensure_registered_limits(identity):
    """Register nova's default limits that keystone does not have yet.

    Existing ones are left alone: keystone refuses to change a default
    that project limits refer to, and an operator may have changed it.
    """
    service = next(iter(identity.services(type='compute')))
    have = {rl.resource_name for rl in identity.registered_limits(
        service_id=service.id, region_id=settings.REGION)}
    wanted = settings.registered_limits(settings.load_nodes())
    for resource, default in sorted(wanted.items()):
        if resource not in have:
            identity.create_registered_limit(
                service_id=service.id, region_id=settings.REGION,
                resource_name=resource, default_limit=default)


def ensure_image(conn):
    if conn.image.find_image(IMAGE_NAME) is None:
        conn.image.create_image(
            name=IMAGE_NAME, disk_format='raw', container_format='bare',
            visibility='public', data=b'\0' * (1 << 20))


def locate(conn, name_or_id):
    server = conn.compute.find_server(name_or_id, ignore_missing=True,
                                      all_projects=True)
    if server is None:
        raise SystemExit(f'devcloud: no server {name_or_id!r}')
    server = conn.compute.get_server(server.id)
    print(server.compute_host or '-', server.id)


def missing_providers(placement, expected):
    """The first of {name: {class: total}} not yet in placement as
    expected, as one line, or None when all are."""
    found = {rp['name']: rp['uuid'] for rp in placement.get(
        '/resource_providers', microversion='1.14').json()[
            'resource_providers']}
    for name, classes in sorted(expected.items()):
        if name not in found:
            return f'resource provider {name} is not in placement'
        inventory = placement.get(
            f'/resource_providers/{found[name]}/inventories',
            microversion='1.14').json()['inventories']
        for rc, total in sorted(classes.items()):
            have = inventory.get(rc, {}).get('total')
            if have != total:
                return (f'resource provider {name} has {rc} total {have}, '
                        f'not {total}')
    return None


def wait_providers(conn, host_files, timeout):
    """Wait until every compute's providers are in placement.

    A compute's first report can fail (a deadlock in the database, a
    keystone hiccup); nova retries it only at the next periodic update,
    60 s later, and a boot in between finds no host.
    """
    expected = {}
    for path in host_files:
        with open(path) as f:
            expected.update(json.load(f)['providers'])
    deadline = time.monotonic() + timeout
    while True:
        missing = missing_providers(conn.placement, expected)
        if missing is None:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f'devcloud: {missing} after {timeout} s')
        time.sleep(1)


def main(argv):
    command = argv[0] if argv else ''
    conn = connect()
    if command == 'catalog':
        ensure_catalog(conn.identity)
        ensure_users(conn.identity)
    elif command == 'limits':
        ensure_registered_limits(conn.identity)
    elif command == 'image':
        ensure_image(conn)
    elif command == 'locate' and len(argv) == 2:
        locate(conn, argv[1])
    elif command == 'providers' and len(argv) > 2:
        wait_providers(conn, argv[2:], timeout=int(argv[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
