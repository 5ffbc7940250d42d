"""Parallel clients against the local cloud: does anything answer 5xx?

    PYTHONPATH=tools .state/devcloud/venv/bin/python \
        -m devcloud_lib.loadcheck [CLIENTS] [ROUNDS]

Each client, in its own thread and session, repeats ROUNDS times: create a
flavor, boot a server from tiny-raw with no network, wait for ACTIVE, list
servers and flavors, delete both. Prints request counts by HTTP status and
exits 1 on any 5xx or failed boot.
Bounded in count and time; talks to 127.0.0.1 only.
"""
import collections
import sys
import threading
import time
import uuid

import openstack

from devcloud_lib import cloudapi

TIMEOUT = 300           # seconds for the whole run


def client(index, rounds, tally, failures, lock):
    conn = cloudapi.connect()

    def count(response, *args, **kwargs):
        with lock:
            tally[str(response.status_code)] += 1
            if response.status_code >= 500:
                failures.append(f'{response.request.method} '
                                f'{response.url}: {response.status_code}')
    conn.session.session.hooks['response'].append(count)
    image = conn.image.find_image(cloudapi.IMAGE_NAME, ignore_missing=False)
    for round_ in range(rounds):
        name = f'loadcheck-{index}-{round_}-{uuid.uuid4().hex[:6]}'
        flavor = conn.compute.create_flavor(name=name, ram=64, vcpus=1,
                                            disk=1)
        try:
            server = conn.compute.create_server(
                name=name, flavor_id=flavor.id, image_id=image.id,
                networks='none')
            try:
                conn.compute.wait_for_server(server, wait=120, interval=1)
                list(conn.compute.servers())
                list(conn.compute.flavors())
            except openstack.exceptions.SDKException as e:
                with lock:
                    failures.append(f'{name}: {e}')
            finally:
                conn.compute.delete_server(server)
                conn.compute.wait_for_delete(server, wait=120, interval=1)
        finally:
            conn.compute.delete_flavor(flavor)


def main(argv):
    clients = int(argv[0]) if argv else 10
    rounds = int(argv[1]) if len(argv) > 1 else 2
    tally, failures, lock = collections.Counter(), [], threading.Lock()

    def run(index):
        try:
            client(index, rounds, tally, failures, lock)
        except Exception as e:  # an error answer ends this client only
            with lock:
                failures.append(f'client {index}: {e}')

    began = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,), daemon=True)
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1, TIMEOUT - (time.monotonic() - began)))
    hung = sum(t.is_alive() for t in threads)
    print(f'{clients} clients x {rounds} rounds in '
          f'{time.monotonic() - began:.0f} s; requests: '
          + ', '.join(f'{k} {v}' for k, v in sorted(tally.items())))
    for failure in failures + [f'{hung} clients still running'] * bool(hung):
        print('FAILED:', failure)
    return 1 if failures or hung else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
