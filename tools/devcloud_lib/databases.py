"""One-time set-up of state: the MariaDB data folder, the databases and
their schemas, keystone's keys and bootstrap.

Each step leaves a marker under done/ once it succeeded, so a second `up`
skips it and a failed first `up` resumes where it stopped.
"""
import os
import subprocess

from devcloud_lib import procs
from devcloud_lib import render
from devcloud_lib import services
from devcloud_lib import settings

DATABASES = ('keystone', 'glance', 'placement', 'nova_api', 'nova',
             'nova_cell0', 'neutron', 'cinder')


def _marker(step):
    return os.path.join(settings.DONE, step)


def done(step):
    return os.path.exists(_marker(step))


def mark(step):
    os.makedirs(settings.DONE, exist_ok=True)
    open(_marker(step), 'w').close()


def init_datadir():
    """Create MariaDB's data folder; root logs in through the socket only."""
    datadir = os.path.join(settings.DATA, 'mariadb')
    if done('mariadb-datadir'):
        return
    procs.run_step('mariadb-install-db', [
        'mariadb-install-db', '--no-defaults', f'--datadir={datadir}',
        '--user=root', '--auth-root-authentication-method=socket',
        '--skip-test-db'])
    mark('mariadb-datadir')


def sql(statements):
    """Run SQL as MariaDB's root, over our private socket."""
    result = subprocess.run(
        ['mariadb', '--no-defaults', '-S', settings.DB_SOCKET, '-uroot',
         '-N', '-B', '-e', statements],
        capture_output=True, text=True)
    if result.returncode:
        raise procs.Failure(f'SQL failed: {result.stderr.strip()}')
    return result.stdout


def create_databases(secrets):
    # The marker names the list: a state folder made before a database
    # was added gets it on the next `up`.
    step = 'databases-' + '-'.join(DATABASES)
    if done(step):
        return
    password = secrets['database']
    sql(''.join(f'CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8mb4;'
                for db in DATABASES)
        + f"CREATE USER IF NOT EXISTS 'devcloud'@'localhost' "
          f"IDENTIFIED BY '{password}';"
          "GRANT ALL PRIVILEGES ON *.* TO 'devcloud'@'localhost';")
    mark(step)


def _venv_bin(name):
    return os.path.join(settings.VENV, 'bin', name)


def schema_chains(secrets):
    """{chain: [(step, argv)]}: the steps not yet done, chains independent."""
    keystone = ['--config-file', render.etc('keystone', 'keystone.conf')]
    nova = [_venv_bin('nova-manage')] + services.nova_controller_args()
    keystone_url = settings.url('keystone', '/v3')
    owner = ['--keystone-user', 'root', '--keystone-group', 'root']
    chains = {
        'keystone': [
            ('keystone-db-sync',
             [_venv_bin('keystone-manage')] + keystone + ['db_sync']),
            ('keystone-fernet-setup',
             [_venv_bin('keystone-manage')] + keystone + ['fernet_setup']
             + owner),
            ('keystone-credential-setup',
             [_venv_bin('keystone-manage')] + keystone
             + ['credential_setup'] + owner),
            ('keystone-bootstrap',
             [_venv_bin('keystone-manage')] + keystone + [
                 # one argument: a password may begin with '-'
                 'bootstrap', '--bootstrap-password=' + secrets['admin'],
                 '--bootstrap-region-id', settings.REGION,
                 '--bootstrap-admin-url', keystone_url,
                 '--bootstrap-internal-url', keystone_url,
                 '--bootstrap-public-url', keystone_url]),
        ],
        'glance': [
            ('glance-db-sync', [_venv_bin('glance-manage'), '--config-file',
                                render.etc('glance', 'glance-api.conf'),
                                'db_sync'])],
        'placement': [
            ('placement-db-sync', [_venv_bin('placement-manage'),
                                   '--config-file',
                                   render.etc('placement', 'placement.conf'),
                                   'db', 'sync'])],
        'nova': [
            ('nova-api-db-sync', nova + ['api_db', 'sync']),
            ('nova-map-cell0', nova + [
                'cell_v2', 'map_cell0', '--database_connection',
                render.db_url('nova_cell0', secrets)]),
            ('nova-create-cell1', nova + ['cell_v2', 'create_cell',
                                          '--name', 'cell1']),
            ('nova-db-sync', nova + ['db', 'sync']),
        ],
        'cinder': [
            ('cinder-db-sync', [_venv_bin('cinder-manage'), '--config-file',
                                render.etc('cinder', 'cinder.conf'),
                                'db', 'sync'])],
        'neutron': [
            ('neutron-db-sync', [
                _venv_bin('neutron-db-manage'),
                '--config-file', render.etc('neutron', 'neutron.conf'),
                '--config-file', render.etc('neutron', 'ml2_conf.ini'),
                'upgrade', 'heads'])],
    }
    return {name: [(step, argv) for step, argv in steps if not done(step)]
            for name, steps in chains.items()}


def sync_schemas(secrets, say):
    chains = {name: steps
              for name, steps in schema_chains(secrets).items() if steps}
    if chains:
        say('creating database schemas: ' + ', '.join(chains))
        procs.run_steps_in_parallel(chains, on_done=mark)
