"""How `openstack gpu capacity` scales: time and requests, 10 vs 1,000 hosts.

Against the local cloud (``tools/devcloud``), or the cloud OS_CLOUD names:
creates synthetic compute hosts straight in placement (a root provider with
VCPU/MEMORY_MB and 4 child GPU providers each, as nova's
``[pci] report_in_placement`` lays them out), times the command, counts the
requests it sends, and compares with a plain OSC command. Every provider it
made is deleted at the end, even on failure or Ctrl-C: nova asks placement
for at most 1,000 candidates, so left-over hosts would crowd real ones out.
While they exist, their roots carry COMPUTE_STATUS_DISABLED, which nova's
scheduler always excludes, so boots by others meanwhile still find the
real hosts; the capacity command does not filter on it and reads them all.

    .venv/bin/python bench/bench_capacity.py [--hosts 1000] [--small 10]
    .venv/bin/python bench/bench_capacity.py --cleanup   # after a crash

Not part of the test suite.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid

import openstack
from openstack import exceptions as sdk_exceptions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from osc_gpu import placement  # noqa: E402

PREFIX = 'bench-cap-'
GPU_CLASS = 'CUSTOM_PCI_10DE_1BB3'      # Tesla P4, as nova derives it
TRAITS = ['COMPUTE_MANAGED_PCI_DEVICE', 'OWNER_NOVA']
ROOT_TRAITS = ['COMPUTE_STATUS_DISABLED']
OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
# Every 10th synthetic host gets one server-like consumer holding a GPU.
USED_EVERY = 10


def placement_call(conn, method, path, microversion, body=None):
    response = conn.placement.request(
        path, method, json=body, microversion=microversion,
        headers={'Accept': 'application/json'})
    sdk_exceptions.raise_from_response(response)
    return response.json() if response.content else None


class SyntheticHosts:
    """GPU hosts made in placement, remembered so they can be removed."""

    def __init__(self, conn, workers):
        self.conn = conn
        self.workers = workers
        self.run = PREFIX + uuid.uuid4().hex[:6] + '-'
        self.count = 0
        # Filled as each thing is made (list.append is atomic), so a
        # failure half-way through a host still leaves nothing behind.
        self.roots, self.devices, self.consumers = [], [], []

    def _pool(self, function, items):
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(function, items))

    def _provider(self, name, inventories, traits, parent=None):
        rp = self.conn.placement.create_resource_provider(
            name=name, parent_provider_id=parent)
        (self.devices if parent else self.roots).append(rp.id)
        rp = self.conn.placement.set_resource_provider_inventories(
            rp, inventories, rp.generation)
        placement_call(self.conn, 'PUT',
                       '/resource_providers/%s/traits' % rp.id, '1.6',
                       {'traits': traits,
                        'resource_provider_generation': rp.generation})
        return rp

    def _host(self, index):
        name = '%sh%04d' % (self.run, index)
        root = self._provider(name, {
            'VCPU': {'total': 64, 'max_unit': 64},
            'MEMORY_MB': {'total': 262144, 'max_unit': 262144}},
            ROOT_TRAITS)
        gpus = []
        for slot in range(4):
            gpu = self._provider('%s_0000:%02x:00.0' % (name, 0x81 + slot),
                                 {GPU_CLASS: {'total': 1, 'max_unit': 1}},
                                 TRAITS, parent=root.id)
            gpus.append(gpu.id)
        if index % USED_EVERY == 0:
            consumer = str(uuid.uuid4())
            self.consumers.append(consumer)
            placement_call(self.conn, 'PUT', '/allocations/%s' % consumer,
                           '1.28', {
                               'allocations': {
                                   root.id: {'resources': {'VCPU': 1}},
                                   gpus[0]: {'resources': {GPU_CLASS: 1}}},
                               'project_id': self.conn.current_project_id,
                               'user_id': self.conn.current_user_id,
                               'consumer_generation': None})

    def grow_to(self, count):
        self._pool(self._host, range(self.count, count))
        self.count = count

    @property
    def used(self):
        return len(self.consumers)

    def delete(self):
        """Remove everything made; returns how many removals failed."""
        failed = self._pool(self._quietly(
            lambda c: delete_allocation(self.conn, c)), self.consumers)
        # Children first: placement refuses to delete a provider with
        # children.
        for batch in (self.devices, self.roots):
            failed += self._pool(self._quietly(
                lambda u: self.conn.placement.delete_resource_provider(
                    u, ignore_missing=True)), batch)
        return sum(failed)

    @staticmethod
    def _quietly(remove):
        # One failed removal must not stop the others.
        def attempt(item):
            try:
                remove(item)
                return 0
            except Exception as exc:
                print('could not remove %s: %s' % (item, exc),
                      file=sys.stderr)
                return 1
        return attempt


def delete_allocation(conn, consumer):
    response = conn.placement.delete('/allocations/%s' % consumer,
                                     microversion='1.28')
    if response.status_code not in (204, 404):
        sdk_exceptions.raise_from_response(response)


def cleanup_leftovers(conn, workers):
    """Remove every ``bench-cap-`` provider and its consumers."""
    providers = placement_call(conn, 'GET', '/resource_providers',
                               '1.14')['resource_providers']
    ours = [p for p in providers if p['name'].startswith(PREFIX)]
    consumers = set()
    for rp in ours:
        consumers.update(placement_call(
            conn, 'GET', '/resource_providers/%s/allocations' % rp['uuid'],
            '1.14')['allocations'])
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda c: delete_allocation(conn, c), consumers))
        children = [p['uuid'] for p in ours if p['parent_provider_uuid']]
        roots = [p['uuid'] for p in ours if not p['parent_provider_uuid']]
        for batch in (children, roots):
            list(pool.map(lambda u: conn.placement.delete_resource_provider(
                u, ignore_missing=True), batch))
    return len(ours)


def openstack_cli(argv, env):
    done = subprocess.run([OPENSTACK] + argv, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit('openstack %s failed: %s' % (
            ' '.join(argv), done.stderr.strip()[-2000:]))
    return done


def timed(argv, env, repeat):
    """Median wall time of ``openstack ARGV`` and its last stdout."""
    times, out = [], ''
    for _ in range(repeat):
        start = time.perf_counter()
        out = openstack_cli(argv, env).stdout
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def count_requests(argv, env, placement_url):
    """(all requests, placement requests) one run of ``argv`` sends.

    With --debug keystoneauth logs one "REQ: curl" line per request, but
    the token request as "Making authentication request". Run apart from
    the timed runs: debug logging of big bodies costs time.
    """
    log = openstack_cli(['--debug'] + argv, env).stderr
    urls = re.findall(r'REQ: curl .*? -X \w+ "?(\S+?)"? ', log)
    tokens = log.count('Making authentication request')
    return len(urls) + tokens, sum(u.startswith(placement_url) for u in urls)


def check_rows(rows, hosts):
    ours = [r for r in rows if r['Host'].startswith(hosts.run)]
    expected = (hosts.count, 4 * hosts.count, hosts.used)
    got = (len(ours), sum(r['Total'] for r in ours),
           sum(r['Used'] for r in ours))
    if got != expected:
        raise SystemExit('wrong numbers: (hosts, total, used) = %s, '
                         'expected %s' % (got, expected))


def baseline_command(env):
    """The closest plain OSC command: osc-placement's provider list, if
    installed; else ``flavor list``, the cost of any OSC command."""
    probe = subprocess.run([OPENSTACK, 'resource', 'provider', 'list',
                            '--help'], env=env, capture_output=True)
    if probe.returncode == 0:
        return ['resource', 'provider', 'list', '-f', 'json']
    return ['flavor', 'list', '-f', 'json']


def measure(conn, hosts, env, repeat, baseline):
    started = time.perf_counter()
    caps = placement.pci_capacity(conn)
    library = time.perf_counter() - started
    seconds, out = timed(['gpu', 'capacity', '-f', 'json'], env, repeat)
    check_rows(json.loads(out), hosts)
    all_requests, to_placement = count_requests(
        ['gpu', 'capacity', '-f', 'json'], env,
        conn.placement.get_endpoint().rstrip('/'))
    base_seconds, _ = timed(baseline, env, repeat)
    return {'hosts': hosts.count, 'devices': len(caps),
            'library': library, 'command': seconds,
            'requests': all_requests, 'placement': to_placement,
            'baseline': base_seconds, 'ratio': seconds / base_seconds}


def print_table(results, baseline):
    print('\nopenstack gpu capacity -f json, median of the timed runs; '
          'baseline: openstack %s' % ' '.join(baseline))
    header = ('synthetic hosts', 'GPU providers', 'library s', 'command s',
              'requests', 'placement req', 'baseline s', 'ratio')
    print(' | '.join(header))
    for r in results:
        print(' | '.join([
            '%15d' % r['hosts'], '%13d' % r['devices'],
            '%9.2f' % r['library'], '%9.2f' % r['command'],
            '%8d' % r['requests'], '%13d' % r['placement'],
            '%10.2f' % r['baseline'], '%5.2fx' % r['ratio']]))


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--small', type=int, default=10)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--workers', type=int, default=8)
    parser.add_argument('--cleanup', action='store_true',
                        help='only remove providers left by a crashed run')
    args = parser.parse_args()
    env = cloud_env()
    os.environ.update(env)
    conn = openstack.connect(cloud=env['OS_CLOUD'])
    if args.cleanup:
        print('removed %d %s providers' % (
            cleanup_leftovers(conn, args.workers), PREFIX))
        return 0
    if shutil.which(OPENSTACK) is None:
        raise SystemExit('%s not found: run pip install -e . in the venv'
                         % OPENSTACK)
    # A kill must still reach the finally below and remove the hosts.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    placement_call(conn, 'PUT', '/resource_classes/%s' % GPU_CLASS, '1.7')
    baseline = baseline_command(env)
    hosts = SyntheticHosts(conn, args.workers)
    results = []
    try:
        for count in (args.small, args.hosts):
            started = time.perf_counter()
            hosts.grow_to(count)
            print('%d synthetic hosts (%d GPU providers) ready in %.1f s'
                  % (count, 4 * count, time.perf_counter() - started),
                  flush=True)
            results.append(measure(conn, hosts, env, args.repeat, baseline))
    finally:
        started = time.perf_counter()
        failed = hosts.delete()
        print('removed the synthetic hosts in %.1f s%s' % (
            time.perf_counter() - started,
            ' (%d removals failed: run with --cleanup)' % failed
            if failed else ''), flush=True)
    print_table(results, baseline)
    return 0


if __name__ == '__main__':
    sys.exit(main())
