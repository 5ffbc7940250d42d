"""First-time installs: Debian packages for the database and message bus,
and the venv holding the pinned OpenStack releases."""
import hashlib
import os
import sys

from devcloud_lib import procs
from devcloud_lib import settings

# Debian package -> a file it installs that we run.
DEBIAN_PACKAGES = {
    'mariadb-server': '/usr/sbin/mariadbd',
    'rabbitmq-server': '/usr/lib/rabbitmq/bin/rabbitmq-server',
    # nova's libvirt driver converts and resizes disks with qemu-img when
    # a server is resized or migrated.
    'qemu-utils': '/usr/bin/qemu-img',
}


def ensure_debian_packages(say):
    missing = [pkg for pkg, path in DEBIAN_PACKAGES.items()
               if not os.path.exists(path)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise procs.Failure(
            f"Debian packages {' '.join(missing)} are missing; "
            f"install them as root: apt-get install -y "
            f"--no-install-recommends {' '.join(missing)}")
    say(f"installing Debian packages {' '.join(missing)}")
    # The packages' own service start is refused on this machine (no init
    # system, policy-rc.d); we only want their binaries anyway.
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    procs.run_step('install-apt', ['apt-get', 'update', '-q'], env=env)
    procs.run_step('install-apt', [
        'apt-get', 'install', '-y', '-q', '--no-install-recommends',
        '-o', 'Dpkg::Options::=--force-confdef',
        '-o', 'Dpkg::Options::=--force-confold'] + missing, env=env)


def _requirements_digest():
    with open(settings.REQUIREMENTS, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def ensure_venv(say):
    """Create or update the venv when requirements.txt changed."""
    marker = os.path.join(settings.VENV, '.devcloud-requirements')
    digest = _requirements_digest()
    try:
        with open(marker) as f:
            if f.read().strip() == digest:
                return
    except OSError:
        pass
    say('installing OpenStack into ' + settings.VENV + ' (about a minute)')
    if not os.path.exists(os.path.join(settings.VENV, 'bin', 'python')):
        procs.run_step('install-venv',
                       [sys.executable, '-m', 'venv', settings.VENV])
    procs.run_step('install-venv', [
        os.path.join(settings.VENV, 'bin', 'pip'), 'install', '-q',
        '--disable-pip-version-check', '-r', settings.REQUIREMENTS])
    with open(marker, 'w') as f:
        f.write(digest + '\n')
