"""What ``gpu server create`` reads before it decides, all at once.

The flavor, the boot disk, the compute API's version and the GPUs in
placement do not depend on each other, so each is read in its own thread:
the preflight costs the slowest of them, not their sum. Each thread
builds the one SDK proxy it uses (building a proxy runs its service's
version discovery), so no two threads ever build the same proxy; after
that the connection's session is safe to share for reads.

Nothing is read twice: one flavor list (it carries the extra specs from
microversion 2.61) instead of a GET by name that fails and then the list;
an image name is looked up by name only; placement's device providers,
read for the capacity check, later name the GPUs the server got.
"""

import concurrent.futures
import dataclasses

from osc_gpu.cloud import errors
from osc_gpu.cloud import placement
from osc_gpu.rules import boot_source
from osc_gpu.rules import capacity
from osc_gpu.rules import image_properties


@dataclasses.dataclass
class BootReads:
    """The cloud as the preflight sees it."""

    flavor: object
    disk: boot_source.BootDisk
    max_microversion: object        # releases.Microversion
    release: object                 # releases.Release
    capacities: list = None         # None: no PCI devices in placement
    image: object = None            # the glance image, for --prepare-image
    volume: object = None           # the cinder volume, for --prepare-image
    # Why placement could not be read (a policy: members may not), or ''.
    capacity_refused: str = ''

    @property
    def availability(self):
        if self.capacities is None:
            return None
        return capacity.availability(self.capacities)

    @property
    def devices(self):
        """Every PCI device provider placement listed."""
        return list({c.device.uuid: c.device
                     for c in self.capacities or ()}.values())


def read_for_boot(gpu_cloud, flavor_ref, source):
    """:class:`BootReads` for booting ``source`` (a ``BootSource``) with
    the flavor ``flavor_ref``; the first failure, in that order, raises."""
    calls = {
        'flavor': lambda: _flavor_and_version(gpu_cloud, flavor_ref),
        'disk': lambda: _disk(gpu_cloud, source),
        'capacities': lambda: _capacities(gpu_cloud),
    }
    results = _in_threads(calls)
    flavor, max_mv, release = results['flavor']
    disk, image, volume = results['disk']
    capacities, refused = results['capacities']
    return BootReads(flavor, disk, max_mv, release, capacities, image,
                     volume, refused)


def _in_threads(calls):
    """``{name: result}`` of the calls, run at once; the first failure in
    the calls' order is raised after all have ended."""
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        futures = {name: pool.submit(call) for name, call in calls.items()}
        concurrent.futures.wait(futures.values())
    return {name: future.result() for name, future in futures.items()}


def _flavor_and_version(gpu_cloud, flavor_ref):
    # The compute proxy is built (and nova's versions read) once, here.
    max_mv = gpu_cloud.compute_max_microversion()
    return gpu_cloud.find_flavor_for_boot(flavor_ref), max_mv, \
        gpu_cloud.release()


def _capacities(gpu_cloud):
    """``(capacities, why not)``: placement's view, None without PCI
    data; a policy refusal (placement is admin-only by default) leaves
    the capacity to nova instead of failing the boot."""
    try:
        return placement.pci_capacity(gpu_cloud.conn), ''
    except placement.PciNotInPlacement:
        return None, ''
    except errors.CloudError as exc:
        if exc.status_code != 403:
            raise
        return None, str(exc)


def _disk(gpu_cloud, source):
    """``(BootDisk, image, volume)`` of the boot source."""
    key = image_properties.HIDE_KEY
    if source.kind == 'image':
        image = gpu_cloud.find_image_for_boot(source.ref)
        return boot_source.BootDisk(
            'image', image.name, image.id,
            gpu_cloud.image_properties(image, (key,))), image, None
    if source.kind == 'volume':
        volume = gpu_cloud.find_volume(source.ref)
        return boot_source.BootDisk(
            'volume', volume.name or volume.id, volume.id,
            dict(volume.volume_image_metadata or {})), None, volume
    snapshot = gpu_cloud.find_snapshot(source.ref)
    volume = gpu_cloud.volume_or_none(snapshot.volume_id)
    return boot_source.BootDisk(
        'snapshot', snapshot.name or snapshot.id, snapshot.id,
        None if volume is None else dict(volume.volume_image_metadata or {}),
        via=(volume.name or volume.id) if volume is not None
        else snapshot.volume_id), None, None
