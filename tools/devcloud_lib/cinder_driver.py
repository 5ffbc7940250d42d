"""A cinder volume driver that needs no kernel: volumes are sparse files.

    [devcloud]
    volume_driver = devcloud_lib.cinder_driver.FileVolumeDriver
    devcloud_volumes_dir = <state>/data/cinder/volumes

Volumes are files under devcloud_volumes_dir, volume-<id>. A volume made
from an image gets the image's bytes through clone_image(): cinder's own
download path inspects the image with privsep (sudo cinder-rootwrap) and
qemu-img, which this machine has neither of, before any driver method
runs. cinder still copies the image's properties into
volume_image_metadata afterwards. Snapshots and clones keep no data.

nova is handed the connection type 'fake', which nova's libvirt driver maps
to LibvirtFakeVolumeDriver: nothing to connect, and a network disk with
protocol 'fake' in the domain XML, which fakelibvirt accepts.
"""
import os

from oslo_config import cfg
from oslo_log import log as logging

from cinder.image import image_utils
from cinder.volume import driver

LOG = logging.getLogger(__name__)

OPTS = [cfg.StrOpt('devcloud_volumes_dir',
                   help='Folder holding one sparse file per volume.')]
CONF = cfg.CONF
CONF.register_opts(OPTS, group='backend_defaults')

CAPACITY_GB = 1000


class FileVolumeDriver(driver.VolumeDriver):
    VERSION = '1.0.0'
    # Not a driver cinder ships: keep its CI reporting checks quiet.
    SUPPORTED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(OPTS)

    @property
    def _folder(self):
        return self.configuration.safe_get('devcloud_volumes_dir')

    def _path(self, volume_id):
        return os.path.join(self._folder, f'volume-{volume_id}')

    def _make(self, volume_id, size_gb):
        with open(self._path(volume_id), 'ab') as f:
            f.truncate(size_gb << 30)

    def do_setup(self, context):
        os.makedirs(self._folder, exist_ok=True)

    def check_for_setup_error(self):
        pass

    # Volumes
    def create_volume(self, volume):
        self._make(volume.id, volume.size)

    def delete_volume(self, volume):
        try:
            os.unlink(self._path(volume.id))
        except FileNotFoundError:
            pass

    def extend_volume(self, volume, new_size):
        self._make(volume.id, new_size)

    def create_cloned_volume(self, volume, src_vref):
        self._make(volume.id, volume.size)

    def create_volume_from_snapshot(self, volume, snapshot):
        self._make(volume.id, volume.size)

    def create_snapshot(self, snapshot):
        pass

    def delete_snapshot(self, snapshot):
        pass

    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        """Write the image's bytes into the volume file ourselves."""
        self._make(volume.id, volume.size)
        with open(self._path(volume.id), 'r+b') as f:
            image_service.download(context, image_meta['id'], data=f)
        return None, True

    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        image_utils.upload_volume(context, image_service, image_meta,
                                  self._path(volume.id), run_as_root=False)

    # Exports and connections: nothing to export, nova's 'fake' type.
    def ensure_export(self, context, volume):
        pass

    def create_export(self, context, volume, connector):
        pass

    def remove_export(self, context, volume):
        pass

    def initialize_connection(self, volume, connector, **kwargs):
        return {'driver_volume_type': 'fake',
                'data': {'volume_id': volume.id,
                         'access_mode': 'rw',
                         'device_path': self._path(volume.id)}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def _update_volume_stats(self):
        name = self.configuration.safe_get('volume_backend_name')
        used = 0
        if os.path.isdir(self._folder):
            for entry in os.listdir(self._folder):
                used += os.stat(os.path.join(self._folder, entry)).st_size
        self._stats = {
            'volume_backend_name': name or 'devcloud',
            'vendor_name': 'devcloud',
            'driver_version': self.VERSION,
            'storage_protocol': 'fake',
            'pools': [{
                'pool_name': name or 'devcloud',
                'total_capacity_gb': CAPACITY_GB,
                'free_capacity_gb': CAPACITY_GB - (used >> 30),
                'provisioned_capacity_gb': used >> 30,
                'reserved_percentage': 0,
                'thin_provisioning_support': True,
                'thick_provisioning_support': False,
                'max_over_subscription_ratio': 20.0,
                'multiattach': True,
                'QoS_support': False,
            }],
        }
