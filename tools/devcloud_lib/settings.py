"""Where the local cloud lives: paths, ports, node description, secrets.

Everything here is plain standard library: it is imported both by the
orchestrator (any python3, before the venv exists) and by the helpers that
run inside the venv.
"""
import json
import os
import secrets

LIB_DIR = os.path.dirname(os.path.abspath(__file__))
TOOLS_DIR = os.path.dirname(LIB_DIR)
REPO_DIR = os.path.dirname(TOOLS_DIR)

STATE = os.path.abspath(os.environ.get('DEVCLOUD_STATE')
                        or os.path.join(REPO_DIR, '.state', 'devcloud'))
VENV = os.path.join(STATE, 'venv')
RUN = os.path.join(STATE, 'run')        # pidfiles
LOG = os.path.join(STATE, 'log')        # one log per service or step
ETC = os.path.join(STATE, 'etc')        # rendered configuration
DATA = os.path.join(STATE, 'data')      # databases, images, node state
XML = os.path.join(STATE, 'xml')        # domain XML saved per node
DONE = os.path.join(STATE, 'done')      # markers of one-time steps
CLOUDS_YAML = os.path.join(STATE, 'clouds.yaml')
SECRETS_FILE = os.path.join(STATE, 'secrets.json')
# The compute endpoint's id, written by the catalog step: nova's
# [oslo_limit] endpoint_id.
COMPUTE_ENDPOINT_FILE = os.path.join(DATA, 'compute-endpoint-id')
DB_SOCKET = os.path.join(RUN, 'mariadb.sock')

REQUIREMENTS = os.path.join(LIB_DIR, 'requirements.txt')
NODES_FILE = os.environ.get('DEVCLOUD_NODES') or os.path.join(
    LIB_DIR, 'nodes.json')

HOST = '127.0.0.1'
REGION = 'RegionOne'

# The one place the ports are chosen. Override any of them with
# DEVCLOUD_PORTS="keystone=15000,nova=18774" (names as below).
DEFAULT_PORTS = {
    'keystone': 5000,
    'glance': 9292,
    'nova': 8774,
    'placement': 8778,
    'neutron': 9696,
    'cinder': 8776,
    'mariadb': 3306,
    'rabbitmq': 5672,
    # Erlang's port mapper and distribution port: private ones, so the
    # epmd we start is ours alone and never shared with a system RabbitMQ.
    'epmd': 4371,
    'rabbitmq-dist': 25673,
}


def ports():
    chosen = dict(DEFAULT_PORTS)
    for item in filter(None, os.environ.get('DEVCLOUD_PORTS', '').split(',')):
        name, _, value = item.partition('=')
        name = name.strip()
        if name not in chosen or not value.strip().isdigit():
            raise SystemExit(
                f"devcloud: bad DEVCLOUD_PORTS entry {item!r}: use "
                f"NAME=PORT with NAME one of {', '.join(sorted(chosen))}")
        chosen[name] = int(value)
    return chosen


def url(service, path=''):
    return f'http://{HOST}:{ports()[service]}{path}'


def load_nodes():
    """The compute nodes and GPU models, from the node description file."""
    with open(NODES_FILE) as f:
        description = json.load(f)
    models = description['gpu_models']
    for node in description['nodes']:
        for model in node.get('gpus', []):
            if model not in models:
                raise SystemExit(
                    f"devcloud: node {node['name']!r} in {NODES_FILE} uses "
                    f"GPU model {model!r}, not one of {', '.join(models)}")
    return description


# Service users that get the admin and service roles in project 'service'.
SERVICE_USERS = ('nova', 'neutron', 'glance', 'placement', 'cinder')


def registered_limits(description):
    """{resource: default} keystone holds for nova (unified limits).

    The legacy [quota] values the cloud had, and -1 (unlimited) for every
    resource class a GPU can be counted in: enough for parallel tests;
    projects get lower limits with `openstack limit create`.
    """
    limits = {
        'servers': 500, 'class:VCPU': 2000, 'class:PCPU': 2000,
        'class:MEMORY_MB': 4096000, 'class:DISK_GB': -1, 'class:VGPU': -1,
        'server_metadata_items': 128, 'server_injected_files': 5,
        'server_injected_file_content_bytes': 10240,
        'server_injected_file_path_bytes': 255,
        'server_key_pairs': 100, 'server_groups': 10,
        'server_group_members': 10,
    }
    for model in description['gpu_models'].values():
        limits['class:CUSTOM_PCI_%s_%s' % (
            model['vendor_id'].upper(), model['product_id'].upper())] = -1
    for profile in description.get('vf_profiles', {}).values():
        limits['class:' + profile['resource_class']] = -1
    return limits


def load_secrets():
    """Passwords, generated once and kept in the state folder; a user
    added since (an older state folder has no 'cinder') gets one too."""
    values = {}
    if os.path.exists(SECRETS_FILE):
        with open(SECRETS_FILE) as f:
            values = json.load(f)
    names = ('admin', 'member', 'database') + SERVICE_USERS
    missing = [name for name in names if name not in values]
    if not missing:
        return values
    values.update({name: secrets.token_urlsafe(18) for name in missing})
    os.makedirs(STATE, exist_ok=True)
    tmp = SECRETS_FILE + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump(values, f, indent=1)
    os.replace(tmp, SECRETS_FILE)
    return values
