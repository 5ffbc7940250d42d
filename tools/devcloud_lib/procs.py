"""Start, find and stop the cloud's processes, by PID only.

Each service runs detached in its own session (so its process group id is
its pid), with stdin closed and stdout+stderr appended to log/<name>.log.
A pidfile records the pid and the process start time, so a recycled pid
never makes us believe, or kill, a process that is not ours.
"""
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from devcloud_lib import settings


class Failure(Exception):
    """Something the operator can act on: one line, with the log to read."""


def log_path(name):
    return os.path.join(settings.LOG, name + '.log')


def _pidfile(name):
    return os.path.join(settings.RUN, name + '.pid')


def _stat(pid):
    """(state, ppid, pgid, start time) of a live pid, or None."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[2]), fields[19]


def _running(pid, started=None):
    st = _stat(pid)
    return bool(st) and st[0] != 'Z' and (started is None or st[3] == started)


def start(name, argv, env=None):
    """Start argv detached; record its pid under run/NAME.pid."""
    os.makedirs(settings.RUN, exist_ok=True)
    os.makedirs(settings.LOG, exist_ok=True)
    with open(log_path(name), 'ab') as log:
        log.write(f"\n=== devcloud {time.strftime('%F %T')} start: "
                  f"{' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env=env, cwd=settings.STATE,
            start_new_session=True, close_fds=True)
    st = _stat(proc.pid)
    with open(_pidfile(name), 'w') as f:
        f.write(f'{proc.pid} {st[3] if st else ""}\n')
    return proc.pid


def pid_of(name):
    """The pid of service NAME if it is running, else None."""
    try:
        with open(_pidfile(name)) as f:
            pid, _, started = f.read().strip().partition(' ')
        pid = int(pid)
    except (OSError, ValueError):
        return None
    return pid if _running(pid, started or None) else None


def _family(pids):
    """The given pids, their process groups, and all their descendants.

    Some daemons leave their group (Erlang's helpers call setsid), so the
    process tree is walked as well as the groups.
    """
    table = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            st = _stat(int(entry))
            if st and st[0] != 'Z':
                table[int(entry)] = st
    family = set(pids) | {p for p, st in table.items() if st[2] in pids}
    grew = True
    while grew:
        children = {p for p, st in table.items() if st[1] in family}
        grew = not children <= family
        family |= children
    return family


def stop(names, timeout=10):
    """Stop services NAMES together: SIGTERM, then SIGKILL after timeout."""
    roots = {pid for pid in map(pid_of, names) if pid}
    targets = _family(roots) if roots else set()
    _signal(targets, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(map(_running, targets)):
        time.sleep(0.2)
    left = {pid for pid in targets if _running(pid)}
    _signal(left, signal.SIGKILL)
    for name in names:
        try:
            os.unlink(_pidfile(name))
        except FileNotFoundError:
            pass
    return left


def _signal(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def rss_kib(name):
    """Resident memory of a service and everything it spawned, in KiB."""
    pid = pid_of(name)
    total = 0
    for member in _family({pid}) if pid else ():
        try:
            with open(f'/proc/{member}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def port_open(port, host=settings.HOST):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def http_ready(url):
    """True once the server at url answers HTTP (any status below 500)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError as e:
        return e.code < 500
    except (OSError, ValueError):
        return False


def run_step(name, argv, env=None):
    """Run a one-shot command to completion, logging to log/NAME.log."""
    os.makedirs(settings.LOG, exist_ok=True)
    with open(log_path(name), 'ab') as log:
        log.write(f"\n=== devcloud {time.strftime('%F %T')} run: "
                  f"{' '.join(argv)}\n".encode())
        log.flush()
        rc = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=env,
                             cwd=settings.STATE)
    if rc:
        raise Failure(f'{name} failed (exit {rc}); read {log_path(name)}')


def run_steps_in_parallel(chains, on_done=lambda step: None):
    """Run several chains of steps at once; each chain runs in order.

    chains: {chain name: [(step name, argv), ...]}; on_done(step) is called
    after each step that succeeded. Raises the first failure once every
    chain has finished or stopped.
    """
    errors = []

    def run_chain(steps):
        try:
            for step_name, argv in steps:
                run_step(step_name, argv)
                on_done(step_name)
        except Failure as e:
            errors.append(e)

    threads = [threading.Thread(target=run_chain, args=(steps,))
               for steps in chains.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
