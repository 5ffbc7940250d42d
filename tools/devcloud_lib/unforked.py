"""Run nova-conductor, nova-scheduler or cinder-volume as one process.

    python -m devcloud_lib.unforked BINARY ARGS...

BINARY: nova-conductor, nova-scheduler or cinder-volume.

With [conductor]/[scheduler] workers = 1, nova still starts a master
process that forks the one worker: two interpreters of ~130 MB each. Here
the service runs in the process itself, as nova-compute always does.
cinder-volume forks one child per backend the same way (~110 MB more).
"""
import importlib
import sys

COMMANDS = {'nova-conductor': 'nova.cmd.conductor',
            'nova-scheduler': 'nova.cmd.scheduler',
            'cinder-volume': 'cinder.cmd.volume'}


def cinder_volume():
    command = importlib.import_module(COMMANDS['cinder-volume'])
    from cinder import service
    from oslo_service import service as oslo_service
    service.process_launcher = lambda: oslo_service.ServiceLauncher(
        command.CONF, restart_method='mutate')
    sys.argv = ['cinder-volume'] + sys.argv[2:]
    command.main()


def main():
    binary = sys.argv[1]
    if binary == 'cinder-volume':
        return cinder_volume()
    # nova's command module settles threading mode; import it first.
    command = importlib.import_module(COMMANDS[binary])
    from nova import service
    serve = service.serve
    service.serve = lambda server, workers=None, no_fork=False: serve(
        server, workers=1, no_fork=True)
    sys.argv = [binary] + sys.argv[2:]
    command.main()


if __name__ == '__main__':
    main()
