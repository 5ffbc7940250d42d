"""`openstack gpu server list` against `openstack server list`, 1,000 servers.

Booting 1,000 servers on the local cloud would take hours, so the bench
is made of two honest halves and says which is which:

- nova's server list is a loopback stand-in. Both commands run through
  one recording HTTP proxy (``tests/functional/faultproxy.py``); it passes
  every request to the real cloud (keystone, placement, glance, nova's
  version document) except ``GET .../servers/detail``, which it answers
  itself with the same synthetic listing for both commands, paged as
  nova pages it (at most 1,000 a page, a ``servers_links`` next link
  when a page is full). Every synthetic server is a copy of one real
  server the bench boots first (no GPU, ``--nic none``) and reads at
  compute microversion 2.100, with a new id, name, host and flavor. The
  pages are encoded once, before timing, so the proxy's own JSON work
  is not timed; nova's time to build such a list is in neither figure.
- placement is the real one, with synthetic GPU hosts made in it (a root
  with VCPU and MEMORY_MB, four child GPU providers with the trait
  COMPUTE_MANAGED_PCI_DEVICE, as ``[pci] report_in_placement`` lays them
  out) and one allocation per GPU server, under the synthetic server's
  id (one VCPU on the root, one GPU). Roots carry COMPUTE_STATUS_DISABLED
  so nova's scheduler never picks them while they exist; everything made
  is removed at the end, even on failure or Ctrl-C/SIGTERM.

Runs alternate between the two commands; requests (keystone's included)
are counted by the proxy in every run. The same GPU servers are listed
among ``--small`` and among ``--servers`` servers in all, to show that
the requests follow the GPUs in use, not the servers.

    .venv/bin/python bench/bench_fleet.py [--servers 1000] [--small 200]
        [--gpu-servers 200] [--repeat 3]
    .venv/bin/python bench/bench_fleet.py --cleanup   # after a crash

Not part of the test suite.
"""

import argparse
import concurrent.futures
import copy
import json
import signal
import sys
import threading
import time
import urllib.parse
import uuid

import bench_capacity
import measuring
from tests.functional import faultproxy

PREFIX = 'bench-fleet-'
GPU_CLASS = bench_capacity.GPU_CLASS
GPU_SPECS = {'pci_passthrough:alias': 'P4:1', 'hw:hide_hypervisor_id': 'true'}
MAX_LIMIT = 1000                  # nova's [api] max_limit default
WORKERS = 8
GPU_WAY = ['gpu', 'server', 'list', '--all-projects', '-f', 'json']
PLAIN_WAY = ['server', 'list', '--all-projects', '-f', 'json']


class GpuHosts:
    """Synthetic GPU hosts in placement and the servers holding them."""

    def __init__(self, conn, gpu_servers):
        self.conn = conn
        self.run = PREFIX + uuid.uuid4().hex[:6] + '-'
        self.holders = [str(uuid.uuid4()) for _ in range(gpu_servers)]
        self.hosts = ['%sh%03d' % (self.run, i)
                      for i in range((gpu_servers + 3) // 4)]
        self.made = []              # provider uuids, children after roots

    def where(self, index):
        """(host, PCI address) of the GPU the index-th holder has."""
        return self.hosts[index // 4], '0000:%02x:00.0' % (0x81 + index % 4)

    def _host(self, host_index):
        call = bench_capacity.placement_call
        root = self.conn.placement.create_resource_provider(
            name=self.hosts[host_index])
        self.made.append(root.id)
        root = self.conn.placement.set_resource_provider_inventories(
            root, {'VCPU': {'total': 64, 'max_unit': 64},
                   'MEMORY_MB': {'total': 262144, 'max_unit': 262144}},
            root.generation)
        call(self.conn, 'PUT', '/resource_providers/%s/traits' % root.id,
             '1.6', {'traits': bench_capacity.ROOT_TRAITS,
                     'resource_provider_generation': root.generation})
        for slot in range(4):
            index = host_index * 4 + slot
            if index >= len(self.holders):
                break
            rp = self.conn.placement.create_resource_provider(
                name='%s_%s' % self.where(index), parent_provider_id=root.id)
            self.made.append(rp.id)
            rp = self.conn.placement.set_resource_provider_inventories(
                rp, {GPU_CLASS: {'total': 1, 'max_unit': 1}}, rp.generation)
            call(self.conn, 'PUT', '/resource_providers/%s/traits' % rp.id,
                 '1.6', {'traits': bench_capacity.TRAITS,
                         'resource_provider_generation': rp.generation})
            call(self.conn, 'PUT', '/allocations/%s' % self.holders[index],
                 '1.28', {'allocations': {
                     root.id: {'resources': {'VCPU': 1}},
                     rp.id: {'resources': {GPU_CLASS: 1}}},
                     'project_id': self.conn.current_project_id,
                     'user_id': self.conn.current_user_id,
                     'consumer_generation': None})

    def make(self):
        bench_capacity.placement_call(
            self.conn, 'PUT', '/resource_classes/%s' % GPU_CLASS, '1.7')
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(self._host, range(len(self.hosts))))

    def remove(self):
        return bench_capacity.cleanup_leftovers(self.conn, WORKERS, self.run)


def template_server(conn, image):
    """A real server's body at compute 2.100 (booted, read, deleted)."""
    name = PREFIX + 'template-' + uuid.uuid4().hex[:6]
    flavor = conn.compute.create_flavor(name=name, ram=256, vcpus=1, disk=1)
    try:
        server = conn.compute.create_server(
            name=name, flavor_id=flavor.id, networks='none',
            image_id=conn.image.find_image(image, ignore_missing=False).id)
        try:
            conn.compute.wait_for_server(server, wait=300)
            return conn.compute.get('/servers/%s' % server.id,
                                    microversion='2.100').json()['server']
        finally:
            conn.compute.delete_server(server, ignore_missing=True)
            conn.compute.wait_for_delete(server, wait=120)
    finally:
        conn.compute.delete_flavor(flavor, ignore_missing=True)


def synthetic_servers(template, count, hosts):
    """``count`` copies of ``template``; the first ``len(hosts.holders)``
    are the GPU servers holding the synthetic GPUs."""
    servers = []
    for index in range(count):
        server = copy.deepcopy(template)
        gpu = index < len(hosts.holders)
        host = hosts.where(index)[0] if gpu else hosts.hosts[
            index % len(hosts.hosts)]
        name = '%s%s-%04d' % (hosts.run, 'gpu' if gpu else 'web', index)
        server.update({
            'id': hosts.holders[index] if gpu else str(uuid.uuid4()),
            'name': name, 'OS-EXT-SRV-ATTR:host': host,
            'OS-EXT-SRV-ATTR:hypervisor_hostname': host,
            'OS-EXT-SRV-ATTR:hostname': name})
        server['flavor'] = dict(server['flavor'], original_name=(
            PREFIX + ('gpu.p4' if gpu else 'm1.tiny')),
            extra_specs=dict(GPU_SPECS) if gpu else {})
        servers.append(server)
    return servers


class ServerListStandIn(faultproxy.FaultProxy):
    """The recording proxy, answering nova's server list itself."""

    def __init__(self):
        super().__init__()
        self.pages = {}
        self.lock = threading.Lock()
        # FaultProxy builds its server with its own handler: swap it.
        self._server.RequestHandlerClass = _StandInHandler

    def serve(self, servers, listing_url):
        """Answer every listing with ``servers``, pages encoded now;
        ``listing_url`` is nova's, for the next links."""
        with self.lock:
            self.servers = servers
            self.listing_url = listing_url
            self.pages = {}
            marker = None
            while True:
                self._page(marker, MAX_LIMIT)
                if len(self.pages[(marker, MAX_LIMIT)][1]) < MAX_LIMIT:
                    break
                marker = self.pages[(marker, MAX_LIMIT)][1][-1]

    def _page(self, marker, limit):
        ids = [s['id'] for s in self.servers]
        start = ids.index(marker) + 1 if marker in ids else 0
        page = self.servers[start:start + limit]
        body = {'servers': page}
        if len(page) == limit:
            body['servers_links'] = [{'rel': 'next', 'href': (
                '%s?limit=%d&marker=%s' % (self.listing_url, limit,
                                           page[-1]['id']))}]
        self.pages[(marker, limit)] = (json.dumps(body).encode(),
                                       [s['id'] for s in page])

    def answer(self, url):
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        limit = min(int(query.get('limit', [MAX_LIMIT])[0]), MAX_LIMIT)
        marker = query.get('marker', [None])[0]
        with self.lock:
            if (marker, limit) not in self.pages:
                self._page(marker, limit)
            return self.pages[(marker, limit)][0]


class _StandInHandler(faultproxy._Handler):
    def _relay(self):
        if self.command == 'GET' and '/servers/detail' in self.path:
            proxy = self.server.proxy
            proxy.record(faultproxy.Request('GET', self.path, status=200))
            return self._answer(200, [('Content-Type', 'application/json')],
                                proxy.answer(self.path))
        return super()._relay()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _relay


def check_rows(rows, hosts):
    want = {holder: '%s_%s' % hosts.where(index)
            for index, holder in enumerate(hosts.holders)}
    got = {r['ID']: [d['provider'] for d in r['GPU Devices']]
           for r in rows if r['ID'] in want}
    if got != {k: [v] for k, v in want.items()}:
        raise SystemExit('gpu server list named the wrong devices')


def measure_size(proxy, env, servers, repeat, hosts):
    """Times and request counts of both commands at one listing size."""
    times = {'gpu': [], 'plain': []}
    counts = {}
    for _ in range(repeat):
        for way, argv in (('gpu', GPU_WAY), ('plain', PLAIN_WAY)):
            proxy.reset()
            started = time.perf_counter()
            out = measuring.openstack_cli(argv, proxy.env(env)).stdout
            times[way].append(time.perf_counter() - started)
            counts[way] = measuring.RequestCount(proxy.requests)
            if way == 'gpu':
                reads = sum(1 for r in proxy.requests
                            if r.path.endswith('/allocations'))
            if way == 'gpu':
                check_rows(json.loads(out), hosts)
    return measuring.Row(
        'gpu server list vs server list --all-projects, %d servers (%d '
        'with a GPU)' % (servers, len(hosts.holders)),
        measuring.median(times['gpu']), measuring.median(times['plain']),
        target=2, requests='%s / %s' % (counts['gpu'], counts['plain']),
        note='n=%d; %s s vs %s s; %d device allocation reads (devices in '
             'use on the whole cloud)' % (
                 repeat, measuring.spread(times['gpu']),
                 measuring.spread(times['plain']), reads))


def retrying(env):
    """A connection that rides over a busy or restarting cloud (refused
    connections, dropped answers, 503s), so that, above all, the removal
    at the end gets through."""
    import openstack
    with_files = dict(env)
    files = ([with_files['OS_CLIENT_CONFIG_FILE']]
             if with_files.get('OS_CLIENT_CONFIG_FILE') else None)
    config = openstack.config.OpenStackConfig(config_files=files)
    return openstack.connection.Connection(
        config=config.get_one(cloud=env['OS_CLOUD']),
        connect_retries=bench_capacity.CONNECT_RETRIES,
        status_code_retries=bench_capacity.CONNECT_RETRIES)


def measure(env, conn=None, repeat=3, servers=1000, small=200,
            gpu_servers=200, image='tiny-raw'):
    """Rows for bench/run.py; removes what it made, whatever happens.
    ``conn`` is not used: the bench makes its own, retrying one."""
    conn = retrying(env)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM,
                                 lambda *_: sys.exit(143))
    hosts = GpuHosts(conn, gpu_servers)
    try:
        template = template_server(conn, image)
        started = time.perf_counter()
        hosts.make()
        print('%d synthetic GPU hosts, %d GPU servers ready in %.1f s'
              % (len(hosts.hosts), gpu_servers,
                 time.perf_counter() - started), flush=True)
        rows = []
        listing = conn.compute.get_endpoint().rstrip('/') + '/servers/detail'
        with ServerListStandIn() as proxy:
            for count in (small, servers):
                proxy.serve(synthetic_servers(template, count, hosts),
                            listing)
                rows.append(measure_size(proxy, env, count, repeat, hosts))
        return rows
    finally:
        hosts.remove()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--servers', type=int, default=1000)
    parser.add_argument('--small', type=int, default=200)
    parser.add_argument('--gpu-servers', type=int, default=200)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--cleanup', action='store_true',
                        help='only remove providers left by a crashed run')
    args = parser.parse_args()
    env = measuring.cloud_env()
    conn = retrying(env)
    if args.cleanup:
        print('removed %d %s providers' % (bench_capacity.cleanup_leftovers(
            conn, WORKERS, PREFIX), PREFIX))
        return 0
    if args.gpu_servers > min(args.small, args.servers):
        raise SystemExit('--gpu-servers must not exceed --small')
    measuring.print_rows(
        'Listing GPU servers (medians; nova list from the stand-in, '
        'placement real)', measure(env, conn, args.repeat, args.servers,
                                   args.small, args.gpu_servers))
    return 0


if __name__ == '__main__':
    sys.exit(main())
