"""Run nova-conductor or nova-scheduler as one process.

    python -m devcloud_lib.unforked nova-conductor|nova-scheduler ARGS...

With [conductor]/[scheduler] workers = 1, nova still starts a master
process that forks the one worker: two interpreters of ~130 MB each. Here
the service runs in the process itself, as nova-compute always does.
"""
import importlib
import sys

COMMANDS = {'nova-conductor': 'nova.cmd.conductor',
            'nova-scheduler': 'nova.cmd.scheduler'}


def main():
    binary = sys.argv[1]
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
