"""tools/devcloud: the project's local OpenStack cloud.

usage: tools/devcloud up       install (first time), start what is down, wait
       tools/devcloud down     stop every process of the cloud
       tools/devcloud status   list services; exit 0 only when all are up
       tools/devcloud env      shell exports: eval "$(tools/devcloud env)"
       tools/devcloud xml SERVER   domain XML nova generated for a server

State, config and logs live in .state/devcloud/ (or $DEVCLOUD_STATE).
"""
import fcntl
import hashlib
import os
import re
import shlex
import subprocess
import sys
import time

from devcloud_lib import databases
from devcloud_lib import install
from devcloud_lib import procs
from devcloud_lib import render
from devcloud_lib import services
from devcloud_lib import settings

START_TIMEOUT = 180     # seconds for any one service to become ready


def say(message):
    print(f'devcloud: {message}', file=sys.stderr, flush=True)


def venv_python(module, *args, capture=False):
    argv = [os.path.join(settings.VENV, 'bin', 'python'), '-m', module,
            *args]
    if capture:
        return subprocess.run(argv, env=services.venv_env(),
                              capture_output=True, text=True)
    procs.run_step(module.rsplit('.', 1)[-1] + '-' + args[0], argv,
                   env=services.venv_env())


def start_missing(group):
    """Start the services of group that are not running."""
    started = [s for s in group if s.pid() is None]
    for service in started:
        service.start()
    return started


def wait_ready(group, timeout=START_TIMEOUT):
    """Wait until each service of group is ready; fail naming its log."""
    waiting = list(group)
    deadline = time.monotonic() + timeout
    while waiting:
        consumers = (services.queue_consumers()
                     if any(s.queue for s in waiting) else {})
        for service in list(waiting):
            if service.pid() is None:
                raise procs.Failure(
                    f'{service.name} exited while starting; read '
                    f'{procs.log_path(service.name)}')
            if service.ready(consumers):
                waiting.remove(service)
        if waiting and time.monotonic() > deadline:
            raise procs.Failure(
                f'{waiting[0].name} not ready after {timeout} s; read '
                f'{procs.log_path(waiting[0].name)}')
        if waiting:
            time.sleep(0.5)


def wait_hosts_mapped(names, timeout=START_TIMEOUT):
    """Map every compute to the cell (what discover_hosts does) before a
    first boot could find 'No valid host'."""
    deadline = time.monotonic() + timeout
    while True:
        registered = set(databases.sql(
            'SELECT host FROM nova.compute_nodes WHERE deleted = 0').split())
        mapped = set(databases.sql(
            'SELECT host FROM nova_api.host_mappings').split())
        if set(names) <= mapped:
            return
        if time.monotonic() > deadline:
            missing = sorted(set(names) - mapped)[0]
            raise procs.Failure(
                f'compute {missing} is not mapped to the cell; read '
                f'{procs.log_path("nova-compute-" + missing)} and '
                f'{procs.log_path("nova-discover-hosts")}')
        if set(names) <= registered:
            procs.run_step('nova-discover-hosts', [
                os.path.join(settings.VENV, 'bin', 'nova-manage'),
                *services.nova_controller_args(),
                'cell_v2', 'discover_hosts'], env=services.venv_env())
        else:
            time.sleep(0.5)


def wait_providers(names, timeout=START_TIMEOUT):
    """Wait until placement holds every compute's root provider and one
    child per GPU with its inventory: a boot straight after `up` must not
    meet 'No valid host' because a compute's first report failed."""
    found = venv_python('devcloud_lib.cloudapi', 'providers', str(timeout),
                        *[render.etc('nova', f'host-{n}.json') for n in names],
                        capture=True)
    if found.returncode:
        line = (found.stderr.strip().splitlines() or ['placement check '
                                                      'failed'])[-1]
        line = line.replace('devcloud: ', '')
        node = next((n for n in sorted(names, key=len, reverse=True)
                     if f' {n}' in line), None)
        if node:
            line += f'; read {procs.log_path("nova-compute-" + node)}'
        raise procs.Failure(line)


def up():
    began = time.monotonic()
    description = settings.load_nodes()
    install.ensure_debian_packages(say)
    install.ensure_venv(say)
    secrets = settings.load_secrets()
    debug = bool(os.environ.get('DEVCLOUD_DEBUG'))
    render.render_all(secrets, description, debug=debug)
    db, epmd, rabbit, keystone, placement, glance, neutron, nova_api, \
        conductor, scheduler, cinder_api, cinder_scheduler, cinder_volume, \
        *computes = services.all_services(description)
    cinder = [cinder_api, cinder_scheduler, cinder_volume]

    # The database and the message bus first; rabbit boots while the
    # schemas are created.
    databases.init_datadir()
    start_missing([db, epmd])
    wait_ready([db, epmd])
    start_missing([rabbit])
    databases.create_databases(secrets)
    databases.sync_schemas(secrets, say)

    # nova must not start before the catalog lists placement (its services
    # would cache the missing endpoint) nor before keystone has nova's
    # registered limits (the unified limits driver would refuse every
    # boot). Once both are there, start all at once.
    catalog_step = 'catalog-v2-' + hashlib.sha1(
        str(sorted(settings.ports().items())).encode()).hexdigest()[:8]
    limits_step = 'limits-' + hashlib.sha1(str(sorted(
        settings.registered_limits(description).items())).encode()
    ).hexdigest()[:8]
    ready = databases.done(catalog_step) and databases.done(limits_step)
    nova = [conductor, scheduler, nova_api]
    start_missing([keystone, placement, glance, neutron] + nova * ready)
    if not ready:
        wait_ready([keystone])
        for step, command in ((catalog_step, 'catalog'),
                              (limits_step, 'limits')):
            if not databases.done(step):
                venv_python('devcloud_lib.cloudapi', command)
                databases.mark(step)
        # nova.conf names the compute endpoint the catalog step recorded
        render.render_all(secrets, description, debug=debug)
        start_missing(nova)

    # A compute pings the conductor at start and waits 10 s per lost ping.
    # cinder starts with the computes, so it does not slow the conductor
    # down on two cores.
    wait_ready([rabbit, conductor])
    start_missing(computes + cinder)
    wait_ready([placement, glance, neutron, nova_api, scheduler] + computes
               + cinder)
    if not databases.done('image'):
        venv_python('devcloud_lib.cloudapi', 'image')
        databases.mark('image')
    wait_hosts_mapped(services.compute_names(description))
    wait_providers(services.compute_names(description))
    say(f'up in {time.monotonic() - began:.0f} s; '
        f'eval "$({sys.argv[0]} env)" to use it')
    return 0


def down():
    description = settings.load_nodes()
    names = services.known_names(description)
    infra = ['rabbitmq', 'epmd', 'mariadb']
    openstack = [n for n in names if n not in infra]
    # OpenStack services together, then the bus, then the database.
    left = procs.stop(openstack, timeout=15)
    left |= procs.stop(['rabbitmq'], timeout=20)
    left |= procs.stop(['epmd', 'mariadb'], timeout=30)
    if left:
        say(f"killed pids {' '.join(map(str, sorted(left)))} after timeout")
    say('down')
    return 0


def status():
    description = settings.load_nodes()
    rows, all_up, total_kib = [], True, 0
    for service in services.all_services(description):
        pid = service.pid()
        up = pid is not None and (service.port is None
                                  or procs.port_open(service.port))
        all_up &= up
        rss = procs.rss_kib(service.name) if pid else 0
        total_kib += rss
        rows.append((service.name, str(pid or '-'), str(service.port or '-'),
                     str(rss // 1024) if pid else '-', 'up' if up else 'down'))
    rows.append(('total', '', '', str(total_kib // 1024), ''))
    width = max(len(r[0]) for r in rows)
    print(f"{'SERVICE':<{width}}  {'PID':>7}  {'PORT':>5}  {'RSS MiB':>7}  "
          f"STATE")
    for name, pid, port, rss, state in rows:
        print(f'{name:<{width}}  {pid:>7}  {port:>5}  {rss:>7}  {state}')
    return 0 if all_up else 1


def env():
    print(f'export OS_CLIENT_CONFIG_FILE={shlex.quote(settings.CLOUDS_YAML)}')
    print('export OS_CLOUD=devcloud')
    return 0


UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                  r'[0-9a-f]{12}$')


def xml(server):
    """Print the domain XML nova generated for SERVER (name or id)."""
    def saved(uuid, hosts):
        for host in hosts:
            path = os.path.join(settings.XML, host, uuid + '.xml')
            if os.path.exists(path):
                return path
    hosts = sorted(os.listdir(settings.XML)) if os.path.isdir(
        settings.XML) else []
    path = saved(server, hosts) if UUID.match(server) else None
    if path is None:
        found = venv_python('devcloud_lib.cloudapi', 'locate', server,
                            capture=True)
        if found.returncode:
            say((found.stderr.strip().splitlines() or ['lookup failed'])[-1]
                .replace('devcloud: ', ''))
            return 1
        host, uuid = found.stdout.split()
        path = saved(uuid, [host] + hosts)
        if path is None:
            say(f'no domain XML saved for server {server} ({uuid}) on '
                f'host {host}: it was never defined, or was deleted')
            return 1
    with open(path) as f:
        sys.stdout.write(f.read())
    return 0


def exclusive(command):
    """Run command holding the state folder's lock: two `up`s (or an `up`
    and a `down`) at once would start services twice."""
    def locked():
        os.makedirs(settings.STATE, exist_ok=True)
        with open(os.path.join(settings.STATE, '.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return command()
    return locked


def main(argv):
    commands = {'up': exclusive(up), 'down': exclusive(down),
                'status': status, 'env': env}
    try:
        if len(argv) == 1 and argv[0] in commands:
            return commands[argv[0]]()
        if len(argv) == 2 and argv[0] == 'xml':
            return xml(argv[1])
    except procs.Failure as e:
        say(str(e))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug of ours: still one line, still exit 1
        say(f'{argv[0]} failed: {type(e).__name__}: {e}')
        return 1
    print(__doc__.strip(), file=sys.stderr)
    return 2
