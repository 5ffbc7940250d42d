"""What the benches share: the cloud's environment, timing the CLI, and
counting its requests through the functional tests' recording proxy.

Counting goes through a real proxy rather than ``--debug`` output, which
shows the token request differently from the others and costs time.
Timed runs never go through it.
"""

import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.functional import faultproxy  # noqa: E402

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


class CliFailed(Exception):
    pass


def cloud_env():
    """OS_* variables: the ones set, else the local cloud's admin."""
    env = dict(os.environ)
    if env.get('OS_CLOUD'):
        return env
    devcloud = os.path.join(ROOT, 'tools', 'devcloud')
    if not os.path.exists(devcloud) or subprocess.run(
            [devcloud, 'status'], capture_output=True).returncode != 0:
        raise SystemExit('the local cloud is not up: run tools/devcloud up '
                         '(or set OS_CLOUD to another cloud)')
    out = subprocess.run([devcloud, 'env'], check=True, capture_output=True,
                         text=True).stdout
    env.update(re.findall(r'^export (\w+)=(.*)$', out, re.M))
    return env


def connect(env):
    """An SDK connection for setting up and cleaning up (never timed)."""
    import openstack.config
    files = ([env['OS_CLIENT_CONFIG_FILE']]
             if env.get('OS_CLIENT_CONFIG_FILE') else None)
    config = openstack.config.OpenStackConfig(config_files=files)
    return openstack.connection.Connection(
        config=config.get_one(cloud=env['OS_CLOUD']))


def openstack_cli(argv, env):
    done = subprocess.run([OPENSTACK] + list(argv), env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise CliFailed('openstack %s failed: %s' % (
            ' '.join(argv), done.stderr.strip()[-2000:]))
    return done


def timed(commands, env):
    """Wall seconds of running ``commands`` (argv lists) one after another."""
    start = time.perf_counter()
    for argv in commands:
        openstack_cli(argv, env)
    return time.perf_counter() - start


class RequestCount:
    def __init__(self, requests):
        self.total = len(requests)
        self.writes = sum(1 for r in requests if r.is_write)
        self.lines = ['%s %s' % (r.method, r.url) for r in requests]

    def __str__(self):
        return '%d (%d write%s)' % (self.total, self.writes,
                                    '' if self.writes == 1 else 's')


def count_requests(commands, env):
    """Every request, keystone's included, that ``commands`` send."""
    with faultproxy.FaultProxy() as proxy:
        for argv in commands:
            openstack_cli(argv, proxy.env(env))
        return RequestCount(proxy.requests)


def median(values):
    return statistics.median(values)


def spread(values):
    """``min-max`` of the samples, to judge the median by."""
    return '%.2f-%.2f' % (min(values), max(values))


class Row:
    """One line of bench/run.py's table: ours against a baseline."""

    def __init__(self, bench, ours, baseline, unit='s', target=None,
                 requests=None, note=''):
        self.bench, self.ours, self.baseline = bench, ours, baseline
        self.unit, self.target, self.requests = unit, target, requests
        self.note = note

    @property
    def ratio(self):
        return self.ours / self.baseline if self.baseline else float('nan')

    @property
    def verdict(self):
        if self.target is None:
            return ''
        return 'ok' if self.ratio <= self.target else 'MISSED'


def print_rows(title, rows, out=sys.stdout):
    """Rows as one table: the figures, the ratio, and the target."""
    header = ('bench', 'ours', 'baseline', 'ratio', 'target', 'requests '
              '(ours / baseline)', 'note')
    table = [header] + [(
        r.bench, '%.*f %s' % (_digits(r.ours), r.ours, r.unit),
        '%.*f %s' % (_digits(r.baseline), r.baseline, r.unit),
        ('%.3fx' if r.ratio >= 0.1 else '%.2gx') % r.ratio,
        ('<= %gx %s' % (r.target, r.verdict)) if r.target else '',
        r.requests or '', r.note) for r in rows]
    widths = [max(len(str(line[i])) for line in table)
              for i in range(len(header))]
    print('\n' + title, file=out)
    for index, line in enumerate(table):
        print(' | '.join(str(cell).ljust(w)
                         for cell, w in zip(line, widths)).rstrip(), file=out)
        if index == 0:
            print('-+-'.join('-' * w for w in widths), file=out)


def _digits(value):
    return 3 if abs(value) < 10 else 2 if abs(value) < 100 else 1
