"""``openstack gpu flavor create`` against the two plain OSC commands it
replaces: ``flavor create`` then ``flavor set --property``.

Both make the same flavor: the same size and the same extra specs
(``pci_passthrough:alias`` and ``hw:hide_hypervisor_id``). Runs alternate
between the two ways; every flavor is deleted (untimed) after its run.
Requests, keystone's included, are counted in one more run of each way
through a recording proxy, apart from the timed runs.

    .venv/bin/python bench/bench_flavor.py [--repeat 5] [--gpu P4:1]

Not part of the test suite.
"""

import argparse
import sys
import uuid

import measuring

PREFIX = 'bench-flv-'


def gpu_way(name, gpu):
    return [['gpu', 'flavor', 'create', name, '--gpu', gpu, '--ram', '256',
             '--disk', '1', '-f', 'json']]


def plain_way(name, gpu):
    return [['flavor', 'create', name, '--ram', '256', '--disk', '1',
             '-f', 'json'],
            ['flavor', 'set', name,
             '--property', 'pci_passthrough:alias=%s' % gpu,
             '--property', 'hw:hide_hypervisor_id=true']]


def remove(conn, name):
    flavor = conn.compute.find_flavor(name, ignore_missing=True)
    if flavor is not None:
        conn.compute.delete_flavor(flavor)


def measure(env, conn, repeat=5, gpu='P4:1'):
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
                            commands(name, gpu), env)
                    else:
                        times[way].append(
                            measuring.timed(commands(name, gpu), env))
                finally:
                    remove(conn, name)
    finally:
        cleanup(conn)
    gpu_writes = counts['gpu'].writes
    return [measuring.Row(
        'gpu flavor create vs flavor create + flavor set --property',
        measuring.median(times['gpu']), measuring.median(times['plain']),
        target=1.0,
        requests='%s / %s' % (counts['gpu'], counts['plain']),
        note='n=%d; %s s vs %s s; writes: %d (target 2)%s' % (
            repeat, measuring.spread(times['gpu']),
            measuring.spread(times['plain']), gpu_writes,
            '' if gpu_writes == 2 else ' MISSED'))]


def cleanup(conn):
    """Remove flavors a crashed run left."""
    for flavor in conn.compute.flavors(is_public=None):
        if flavor.name.startswith(PREFIX):
            conn.compute.delete_flavor(flavor, ignore_missing=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--gpu', default='P4:1',
                        help='GPU request of the flavors (default P4:1)')
    args = parser.parse_args()
    env = measuring.cloud_env()
    measuring.print_rows('Flavor creation (medians)', measure(
        env, measuring.connect(env), args.repeat, args.gpu))
    return 0


if __name__ == '__main__':
    sys.exit(main())
