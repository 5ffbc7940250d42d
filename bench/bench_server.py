"""``openstack gpu server create --wait`` against plain ``openstack server
create --wait``: same flavor (one GPU), same image, ``--nic none``.

Plain OSC polls the server every 5 s, so it reports a server that builds
in a second or two only at the next 5 s mark; ours polls from 0.2 s on,
backing off, and also runs its preflight (flavor, image, compute version
and free GPUs in placement, read at the same time; the project's GPU
limits), removes its create mark and reads which GPU the server got.
Targets: at most 0.3 times plain OSC's time and 15 requests. Runs
alternate between the two; each server is deleted, and its deletion
waited for (untimed), before the next run, so every boot finds the GPU
free. Requests are counted in one more run of each through a recording
proxy.

    .venv/bin/python bench/bench_server.py [--repeat 3] [--gpu P4:1]

Not part of the test suite.
"""

import argparse
import json
import sys
import uuid

import measuring

PREFIX = 'bench-srv-'
IMAGE = 'tiny-raw'
# The request budget of one gpu server create --wait, keystone included.
MAX_REQUESTS = 15


def gpu_way(name, flavor):
    return [['gpu', 'server', 'create', name, '--flavor', flavor, '--image',
             IMAGE, '--nic', 'none', '--wait', '-f', 'json']]


def plain_way(name, flavor):
    return [['server', 'create', name, '--flavor', flavor, '--image', IMAGE,
             '--nic', 'none', '--wait', '-f', 'json']]


def remove_servers(conn, prefix):
    """Delete the servers named ``prefix...``; wait until they are gone."""
    servers = [s for s in conn.compute.servers()
               if s.name.startswith(prefix)]
    for server in servers:
        conn.compute.delete_server(server, ignore_missing=True)
    for server in servers:
        conn.compute.wait_for_delete(server, wait=120)


def measure(env, conn, repeat=3, gpu='P4:1'):
    flavor_name = PREFIX + 'flavor-' + uuid.uuid4().hex[:6]
    flavor = json.loads(measuring.openstack_cli(
        ['gpu', 'flavor', 'create', flavor_name, '--gpu', gpu, '--ram', '256',
         '--disk', '1', '-f', 'json'], env).stdout)
    ways = {'gpu': gpu_way, 'plain': plain_way}
    times = {way: [] for way in ways}
    counts = {}
    try:
        for run in range(repeat + 1):
            for way, commands in ways.items():
                name = '%s%s-%s' % (PREFIX, way, uuid.uuid4().hex[:6])
                try:
                    if run == repeat:
                        counts[way] = measuring.count_requests(
                            commands(name, flavor_name), env)
                    else:
                        times[way].append(measuring.timed(
                            commands(name, flavor_name), env))
                finally:
                    remove_servers(conn, name)
    finally:
        remove_servers(conn, PREFIX)
        conn.compute.delete_flavor(flavor['id'], ignore_missing=True)
    within = counts['gpu'].total <= MAX_REQUESTS
    return [measuring.Row(
        'gpu server create --wait vs server create --wait (%s)' % gpu,
        measuring.median(times['gpu']), measuring.median(times['plain']),
        target=0.3, requests='%s / %s' % (counts['gpu'], counts['plain']),
        note='n=%d; %s s vs %s s; requests <= %d %s' % (
            repeat, measuring.spread(times['gpu']),
            measuring.spread(times['plain']), MAX_REQUESTS,
            'ok' if within else 'MISSED'))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--gpu', default='P4:1',
                        help='GPU request of the flavor (default P4:1)')
    args = parser.parse_args()
    env = measuring.cloud_env()
    measuring.print_rows('Server creation with --wait (medians)', measure(
        env, measuring.connect(env), args.repeat, args.gpu))
    return 0


if __name__ == '__main__':
    sys.exit(main())
