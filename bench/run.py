"""Run every bench and print one table of ratios measured in the same run.

``make bench`` runs this against the local cloud (or the cloud OS_CLOUD
names). Each bench is also runnable alone (``bench/bench_*.py``). The
capacity bench runs as its own process, as it does alone, so its signal
handling and clean-up of synthetic hosts stay its own; its table is read
back into this one. Nothing here passes or fails the test suite: a target
missed is marked MISSED in the table.

    .venv/bin/python bench/run.py [--quick] [--skip-capacity] [--skip-fleet]
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

import bench_flavor
import bench_fleet
import bench_import
import bench_server
import measuring

CAPACITY = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'bench_capacity.py')


def capacity_rows(env, hosts, small, repeat):
    """bench_capacity.py's rows, parsed from the table it prints."""
    done = subprocess.run(
        [sys.executable, CAPACITY, '--hosts', str(hosts), '--small',
         str(small), '--repeat', str(repeat)], env=env, capture_output=True,
        text=True)
    if done.returncode != 0:
        raise SystemExit('bench_capacity.py failed: %s'
                         % done.stderr.strip()[-2000:])
    baseline = re.search(r'baseline: openstack (.+)', done.stdout).group(1)
    rows = []
    for line in done.stdout.splitlines():
        cells = [c.strip() for c in line.split('|')]
        if len(cells) != 8 or not cells[0].isdigit():
            continue
        hosts_, devices, _, command, requests, to_placement, base, _ = cells
        rows.append(measuring.Row(
            'gpu capacity, %s hosts / %s GPUs vs %s'
            % (hosts_, devices, baseline),
            float(command), float(base),
            requests='%s (%s to placement)' % (requests, to_placement),
            note='n=%d' % repeat))
    return rows


def machine():
    cpu = 'unknown CPU'
    with open('/proc/cpuinfo') as info:
        for line in info:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    return '%s; %d CPUs (nproc), %s; Python %s; %s' % (
        platform.node(), os.cpu_count(), cpu, platform.python_version(),
        datetime.datetime.now().strftime('%Y-%m-%d %H:%M'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='fewer samples, 100 capacity hosts: a check '
                             'that the benches run, not figures')
    parser.add_argument('--skip-capacity', action='store_true',
                        help='leave out the capacity bench (minutes with '
                             '1,000 hosts)')
    parser.add_argument('--skip-fleet', action='store_true',
                        help='leave out the gpu server list bench (1,000 '
                             'synthetic servers, 200 with a GPU)')
    args = parser.parse_args()
    quick = args.quick
    env = measuring.cloud_env()
    conn = measuring.connect(env)
    print('machine: %s' % machine(), flush=True)
    rows = bench_import.measure(samples=3 if quick else 9)
    print('import: done', flush=True)
    rows += bench_flavor.measure(env, conn, repeat=2 if quick else 5)
    print('flavor: done', flush=True)
    rows += bench_server.measure(env, conn, repeat=1 if quick else 3)
    print('server: done', flush=True)
    if not args.skip_fleet:
        rows += bench_fleet.measure(
            env, conn, repeat=1 if quick else 3,
            servers=100 if quick else 1000, small=20 if quick else 200,
            gpu_servers=20 if quick else 200)
        print('fleet: done', flush=True)
    if not args.skip_capacity:
        rows += capacity_rows(env, 100 if quick else 1000, 10,
                              1 if quick else 3)
        print('capacity: done', flush=True)
    measuring.print_rows('osc-gpu against plain OpenStackClient (wall time '
                         'medians; ratio = ours / baseline)', rows)
    return 0


if __name__ == '__main__':
    sys.exit(main())
