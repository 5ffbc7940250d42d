"""The services of the local cloud: how each starts and how we know it is up.

Every service is one detached process (plus what it forks); see procs.py.
"""
import os
import subprocess

from devcloud_lib import procs
from devcloud_lib import render
from devcloud_lib import settings

RABBIT_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'


class Service:
    """name, argv and env to start it; port it serves (None for RPC-only
    services); ready() tells it answers."""

    def __init__(self, name, argv, env=None, port=None, ready=None,
                 queue=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.queue = queue      # RPC topic it consumes, for readiness
        self._ready = ready

    def start(self):
        return procs.start(self.name, self.argv, self.env)

    def pid(self):
        return procs.pid_of(self.name)

    def ready(self, consumers=None):
        if self._ready:
            return self._ready()
        if self.queue:
            return (consumers or {}).get(self.queue, 0) > 0
        return self.pid() is not None


def venv_env(**extra):
    """Environment for processes running from the venv: ours only, so an
    operator's OS_* variables never leak into a service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['PATH'] = os.path.join(settings.VENV, 'bin') + ':' + env.get(
        'PATH', '/usr/local/bin:/usr/bin:/bin')
    env['PYTHONPATH'] = settings.TOOLS_DIR
    env['PYTHONWARNINGS'] = 'ignore::DeprecationWarning'
    # nova runs in native threading mode; nova's test fixtures (used by the
    # fake-libvirt computes) must be imported without eventlet.
    env['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = '1'
    # Many threads per service: glibc's default of one malloc arena per
    # core*8 threads inflates RSS for no gain here.
    env['MALLOC_ARENA_MAX'] = '2'
    env.update(extra)
    return env


def rabbit_env():
    ports = settings.ports()
    base = os.path.join(settings.DATA, 'rabbitmq')
    conf = lambda name: render.etc('rabbitmq', name)  # noqa: E731
    env = dict(os.environ)
    env.update({
        'HOME': os.path.join(base, 'home'),   # holds the .erlang.cookie
        'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
        'RABBITMQ_LOG_BASE': os.path.join(settings.LOG, 'rabbitmq'),
        'RABBITMQ_NODENAME': 'devcloud@localhost',
        'RABBITMQ_CONFIG_FILE': conf('rabbitmq.conf'),
        'RABBITMQ_ADVANCED_CONFIG_FILE': conf('advanced.config'),
        'RABBITMQ_ENABLED_PLUGINS_FILE': conf('enabled_plugins'),
        'RABBITMQ_CONF_ENV_FILE': conf('rabbitmq-env.conf'),
        'RABBITMQ_PID_FILE': os.path.join(settings.RUN, 'rabbitmq.own.pid'),
        'RABBITMQ_DIST_PORT': str(ports['rabbitmq-dist']),
        'RABBITMQ_SERVER_START_ARGS':
            '-kernel inet_dist_use_interface {127,0,0,1}',
        # Our own epmd on a private port (started as service 'epmd'), so
        # rabbit never spawns a stray `epmd -daemon` of its own.
        'ERL_EPMD_PORT': str(ports['epmd']),
    })
    for folder in ('home', 'mnesia'):
        os.makedirs(os.path.join(base, folder), exist_ok=True)
    return env


def queue_consumers():
    """{queue name: consumer count} from our RabbitMQ, {} if unreachable."""
    try:
        out = subprocess.run(
            [RABBITMQCTL, '-q', 'list_queues', 'name', 'consumers'],
            env=rabbit_env(), capture_output=True, text=True, timeout=30,
            cwd=settings.STATE).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    consumers = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            consumers[parts[0]] = int(parts[1])
    return consumers


def _gunicorn(name, module, port, **env):
    argv = [os.path.join(settings.VENV, 'bin', 'gunicorn'),
            '--bind', f'{settings.HOST}:{port}',
            # One process with threads is plenty here and saves memory.
            '--workers', '1', '--worker-class', 'gthread', '--threads', '8',
            '--timeout', '300', '--graceful-timeout', '5',
            '--name', f'devcloud-{name}',
            'devcloud_lib.wsgi:application']
    return venv_env(DEVCLOUD_WSGI=module, **env), argv


def _api(name, module, port, path, **env):
    env, argv = _gunicorn(name, module, port, **env)
    return Service(name, argv, env, port,
                   ready=lambda: procs.http_ready(
                       f'http://{settings.HOST}:{port}{path}'))


def mariadb():
    port = settings.ports()['mariadb']
    argv = ['mariadbd', '--no-defaults',
            f"--datadir={os.path.join(settings.DATA, 'mariadb')}",
            f'--socket={settings.DB_SOCKET}', f'--port={port}',
            f'--bind-address={settings.HOST}', '--user=root',
            f"--pid-file={os.path.join(settings.RUN, 'mariadbd.own.pid')}",
            '--skip-name-resolve', '--max-connections=1000',
            '--character-set-server=utf8mb4',
            '--collation-server=utf8mb4_general_ci',
            # A throwaway dev database: trade durability for speed (schema
            # migrations are mostly fsyncs otherwise).
            '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0',
            '--skip-log-bin', '--innodb-buffer-pool-size=64M',
            # Small caches: the whole data set is a few tens of MB.
            '--aria-pagecache-buffer-size=8M', '--key-buffer-size=8M',
            '--innodb-log-buffer-size=4M', '--table-open-cache=1000']
    return Service('mariadb', argv, dict(os.environ), port,
                   ready=lambda: procs.port_open(port))


def epmd():
    port = settings.ports()['epmd']
    return Service('epmd', ['epmd', '-address', settings.HOST,
                            '-port', str(port)],
                   dict(os.environ), port, ready=lambda: procs.port_open(port))


def rabbitmq():
    port = settings.ports()['rabbitmq']
    return Service('rabbitmq', [RABBIT_SERVER], rabbit_env(), port,
                   ready=lambda: procs.port_open(port))


def keystone():
    return _api('keystone', 'keystone.wsgi.api', settings.ports()['keystone'],
                '/v3', OS_KEYSTONE_CONFIG_DIR=render.etc('keystone'))


def placement():
    return _api('placement', 'placement.wsgi.api',
                settings.ports()['placement'], '/',
                OS_PLACEMENT_CONFIG_DIR=render.etc('placement'))


def glance():
    return _api('glance', 'glance.wsgi.api', settings.ports()['glance'], '/',
                OS_GLANCE_CONFIG_DIR=render.etc('glance'))


def neutron():
    return _api('neutron', 'neutron.wsgi.api', settings.ports()['neutron'],
                '/', OS_NEUTRON_CONFIG_DIR=render.etc('neutron'),
                OS_NEUTRON_CONFIG_FILES='neutron.conf;ml2_conf.ini')


def nova_api():
    return _api('nova-api', 'nova.wsgi.osapi_compute',
                settings.ports()['nova'], '/',
                OS_NOVA_CONFIG_DIR=render.etc('nova'),
                OS_NOVA_CONFIG_FILES='api-paste.ini;nova.conf;controller.conf')


CINDER_VOLUME_HOST = 'devcloud@devcloud'     # [DEFAULT] host @ backend


def cinder_args():
    return ['--config-file', render.etc('cinder', 'cinder.conf')]


def cinder_api():
    return _api('cinder-api', 'cinder.wsgi.api', settings.ports()['cinder'],
                '/', DEVCLOUD_WSGI_ARGS=' '.join(cinder_args()))


def cinder_scheduler():
    return Service('cinder-scheduler',
                   [os.path.join(settings.VENV, 'bin', 'cinder-scheduler')]
                   + cinder_args(), venv_env(), queue='cinder-scheduler')


def cinder_volume():
    argv = [os.path.join(settings.VENV, 'bin', 'python'),
            '-m', 'devcloud_lib.unforked', 'cinder-volume'] + cinder_args()
    return Service('cinder-volume', argv, venv_env(),
                   queue='cinder-volume.' + CINDER_VOLUME_HOST)


def nova_controller_args():
    return ['--config-file', render.etc('nova', 'nova.conf'),
            '--config-file', render.etc('nova', 'controller.conf')]


def nova_service(binary, queue):
    argv = [os.path.join(settings.VENV, 'bin', 'python'),
            '-m', 'devcloud_lib.unforked', binary] + nova_controller_args()
    return Service(binary, argv, venv_env(), queue=queue)


def nova_compute(node_name):
    argv = [os.path.join(settings.VENV, 'bin', 'python'),
            '-m', 'devcloud_lib.compute',
            render.etc('nova', f'host-{node_name}.json'),
            '--config-file', render.etc('nova', 'nova.conf'),
            '--config-file', render.etc('nova', f'compute-{node_name}.conf')]
    return Service(f'nova-compute-{node_name}', argv, venv_env(),
                   queue=f'compute.{node_name}')


def compute_names(description):
    return [node['name'] for node in description['nodes']]


def all_services(description):
    """Every service, in start order."""
    return ([mariadb(), epmd(), rabbitmq(), keystone(), placement(),
             glance(), neutron(), nova_api(),
             nova_service('nova-conductor', 'conductor'),
             nova_service('nova-scheduler', 'scheduler'),
             cinder_api(), cinder_scheduler(), cinder_volume()]
            + [nova_compute(name) for name in compute_names(description)])


def known_names(description):
    """Names with a pidfile, including computes removed from the node file
    since they were started (so `down` still stops them)."""
    names = [s.name for s in all_services(description)]
    if os.path.isdir(settings.RUN):
        for entry in sorted(os.listdir(settings.RUN)):
            name = entry[:-len('.pid')]
            if (entry.endswith('.pid') and '.own.' not in entry
                    and name not in names):
                names.append(name)
    return names
