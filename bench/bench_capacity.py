"""How `openstack gpu capacity` scales: time and requests, 10 vs 1,000 hosts.

Against the local cloud (``tools/devcloud``), or the cloud OS_CLOUD names:
creates synthetic compute hosts straight in placement (a root provider with
VCPU/MEMORY_MB, 4 child GPU providers as nova's ``[pci]
report_in_placement`` lays them out, and one GPU that offers vGPUs as
nova's libvirt driver lays it out: ``<host>_pci_0000_c1_00_0`` with
``VGPU: 16``, tagged with a type trait), times the command, counts the
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

from osc_gpu.cloud import gpu_inventory  # noqa: E402
from osc_gpu.cloud import placement  # noqa: E402

import measuring  # noqa: E402  (bench/ is this script's folder)

PREFIX = 'bench-cap-'
GPU_CLASS = 'CUSTOM_PCI_10DE_1BB3'      # Tesla P4, as nova derives it
TRAITS = ['COMPUTE_MANAGED_PCI_DEVICE', 'OWNER_NOVA']
VGPU_TYPE_TRAIT = 'CUSTOM_BENCH_NVIDIA_11'    # as 'gpu vgpu type set' tags
VGPU_TOTAL = 16
ROOT_TRAITS = ['COMPUTE_STATUS_DISABLED']
OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
# 0.5 s doubling: about two minutes of waiting in all.
CONNECT_RETRIES = 8
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

    def _provider(self, name, inventories, traits, parent=None, made=None):
        rp = self.conn.placement.create_resource_provider(
            name=name, parent_provider_id=parent)
        (self.devices if parent else self.roots).append(rp.id)
        if made is not None:
            made.append(rp.id)
        rp = self.conn.placement.set_resource_provider_inventories(
            rp, inventories, rp.generation)
        placement_call(self.conn, 'PUT',
                       '/resource_providers/%s/traits' % rp.id, '1.6',
                       {'traits': traits,
                        'resource_provider_generation': rp.generation})
        return rp

    def _build(self, name, used, made):
        root = self._provider(name, {
            'VCPU': {'total': 64, 'max_unit': 64},
            'MEMORY_MB': {'total': 262144, 'max_unit': 262144}},
            ROOT_TRAITS, made=made)
        gpus = [self._provider('%s_0000:%02x:00.0' % (name, 0x81 + slot),
                               {GPU_CLASS: {'total': 1, 'max_unit': 1}},
                               TRAITS, parent=root.id).id
                for slot in range(4)]
        vgpu = self._provider(
            '%s_pci_0000_c1_00_0' % name,
            {'VGPU': {'total': VGPU_TOTAL, 'max_unit': VGPU_TOTAL}},
            ['OWNER_NOVA', VGPU_TYPE_TRAIT], parent=root.id).id
        if used:
            consumer = str(uuid.uuid4())
            self.consumers.append(consumer)
            placement_call(self.conn, 'PUT', '/allocations/%s' % consumer,
                           '1.28', {
                               'allocations': {
                                   root.id: {'resources': {'VCPU': 1}},
                                   gpus[0]: {'resources': {GPU_CLASS: 1}},
                                   vgpu: {'resources': {'VGPU': 1}}},
                               'project_id': self.conn.current_project_id,
                               'user_id': self.conn.current_user_id,
                               'consumer_generation': None})
        return root.id

    def _host(self, index):
        # A request cut off by a placement restart may have been applied
        # (a retried create then meets its own name): a failed host is
        # removed whole and made again under a new name.
        for attempt in range(3):
            name = '%sh%04d%s' % (self.run, index,
                                  'r%d' % attempt if attempt else '')
            made = []
            try:
                return self._build(name, index % USED_EVERY == 0, made)
            except Exception as exc:
                print('host %s failed (%s); retrying' % (name, exc),
                      file=sys.stderr)
                if made:
                    remove_tree(self.conn, made[0])
                if attempt == 2:
                    raise

    def grow_to(self, count):
        self._pool(self._host, range(self.count, count))
        self.count = count

    @property
    def used(self):
        return len(range(0, self.count, USED_EVERY))

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
        # Anything made by a request whose answer was lost is found by
        # name.
        failed.append(self._quietly(
            lambda prefix: cleanup_leftovers(self.conn, self.workers,
                                             prefix))(self.run))
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


def remove_tree(conn, root):
    """Delete a synthetic host: its consumers, children, then the root."""
    tree = placement_call(conn, 'GET', '/resource_providers?in_tree=%s'
                          % root, '1.14')['resource_providers']
    for rp in tree:
        for consumer in placement_call(
                conn, 'GET', '/resource_providers/%s/allocations'
                % rp['uuid'], '1.14')['allocations']:
            delete_allocation(conn, consumer)
    for rp in sorted(tree, key=lambda p: p['uuid'] == root):
        conn.placement.delete_resource_provider(rp['uuid'],
                                                ignore_missing=True)


def delete_allocation(conn, consumer):
    response = conn.placement.delete('/allocations/%s' % consumer,
                                     microversion='1.28')
    if response.status_code not in (204, 404):
        sdk_exceptions.raise_from_response(response)


def cleanup_leftovers(conn, workers, prefix=PREFIX):
    """Remove every provider named ``prefix...`` and its consumers."""
    providers = placement_call(conn, 'GET', '/resource_providers',
                               '1.14')['resource_providers']
    ours = [p for p in providers if p['name'].startswith(prefix)]
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


class CliFailed(Exception):
    pass


def openstack_cli(argv, env):
    done = subprocess.run([OPENSTACK] + argv, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise CliFailed('openstack %s failed: %s' % (
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
    """Each synthetic host: a row of 4 PCI GPUs, one used on every 10th
    host, and a row for its vGPU GPU, one vGPU used on the same hosts."""
    ours = [r for r in rows if r['Host'].startswith(hosts.run)]
    for kind, per_host in (('', 4), ('vGPU', VGPU_TOTAL)):
        mine = [r for r in ours if (r['Model'] == 'vGPU') == bool(kind)]
        expected = (hosts.count, per_host * hosts.count, hosts.used)
        got = (len(mine), sum(r['Total'] for r in mine),
               sum(r['Used'] for r in mine))
        if got != expected:
            raise SystemExit('wrong %s numbers: (hosts, total, used) = %s, '
                             'expected %s' % (kind or 'PCI', got, expected))


def baseline_command(env):
    """The closest plain OSC command: osc-placement's provider list, if
    installed; else ``flavor list``, the cost of any OSC command."""
    probe = subprocess.run([OPENSTACK, 'resource', 'provider', 'list',
                            '--help'], env=env, capture_output=True)
    if probe.returncode == 0:
        return ['resource', 'provider', 'list', '-f', 'json']
    return ['flavor', 'list', '-f', 'json']


def measure_between_restarts(conn, hosts, env, repeat, baseline):
    """:func:`measure`, again when the cloud restarted under it."""
    for attempt in range(3):
        try:
            return measure(conn, hosts, env, repeat, baseline)
        except CliFailed as exc:
            if attempt == 2:
                raise SystemExit(str(exc))
            print('measuring failed, retrying once the cloud answers: %s'
                  % str(exc).splitlines()[-1][:200], file=sys.stderr)
            wait_for_cloud(env)


def wait_for_cloud(env, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(5)
        try:
            openstack_cli(['flavor', 'list', '-f', 'value', '-c', 'ID'], env)
            return
        except CliFailed:
            pass
    raise SystemExit('the cloud did not come back within %d s' % seconds)


def seconds_of(call):
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def measure(conn, hosts, env, repeat, baseline):
    # In process: the two reads alone (the named providers: compute roots
    # and vGPU GPUs; the tree summaries), then both as the command makes
    # them.
    providers, _ = seconds_of(lambda: gpu_inventory.named_providers(conn))
    candidates, _ = seconds_of(lambda: placement.tree_summaries(conn))
    library, found = seconds_of(lambda: gpu_inventory.read(conn))
    seconds, out = timed(['gpu', 'capacity', '-f', 'json'], env, repeat)
    check_rows(json.loads(out), hosts)
    all_requests, to_placement = count_requests(
        ['gpu', 'capacity', '-f', 'json'], env,
        conn.placement.get_endpoint().rstrip('/'))
    base_seconds, _ = timed(baseline, env, repeat)
    return {'hosts': hosts.count,
            'devices': len(found.pci) + len(found.vgpus),
            'providers': providers, 'candidates': candidates,
            'library': library, 'command': seconds,
            'requests': all_requests, 'placement': to_placement,
            'baseline': base_seconds, 'ratio': seconds / base_seconds}


def print_table(results, baseline):
    # bench/run.py parses the first table (8 cells a row): keep its shape.
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
    print('\nthe two placement reads, each alone (library s: both, as '
          'gpu_inventory.read() makes them)')
    print('synthetic hosts | named providers s | allocation candidates s')
    for r in results:
        print('%15d | %17.2f | %23.2f' % (r['hosts'], r['providers'],
                                          r['candidates']))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--small', type=int, default=10)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--workers', type=int, default=8)
    parser.add_argument('--cleanup', action='store_true',
                        help='only remove providers left by a crashed run')
    args = parser.parse_args()
    env = measuring.cloud_env()
    os.environ.update(env)
    # Rides over a restart of the cloud's services (seconds to a minute:
    # refused connections, then 503 while keystone is not up yet), so that
    # the removal at the end, above all, gets through.
    conn = openstack.connect(cloud=env['OS_CLOUD'],
                             connect_retries=CONNECT_RETRIES,
                             status_code_retries=CONNECT_RETRIES)
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
    placement_call(conn, 'PUT', '/traits/%s' % VGPU_TYPE_TRAIT, '1.6')
    baseline = baseline_command(env)
    hosts = SyntheticHosts(conn, args.workers)
    results = []
    try:
        for count in (args.small, args.hosts):
            started = time.perf_counter()
            hosts.grow_to(count)
            print('%d synthetic hosts (%d GPU providers) ready in %.1f s'
                  % (count, 5 * count, time.perf_counter() - started),
                  flush=True)
            results.append(measure_between_restarts(
                conn, hosts, env, args.repeat, baseline))
    finally:
        started = time.perf_counter()
        failed = hosts.delete()
        # The type trait goes too once no provider carries it (409 else).
        conn.placement.delete('/traits/%s' % VGPU_TYPE_TRAIT,
                              microversion='1.6')
        print('removed the synthetic hosts in %.1f s%s' % (
            time.perf_counter() - started,
            ' (%d removals failed: run with --cleanup)' % failed
            if failed else ''), flush=True)
    print_table(results, baseline)
    return 0


if __name__ == '__main__':
    sys.exit(main())
