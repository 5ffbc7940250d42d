"""OpenStackClient plugin hooks for the ``openstack gpu`` commands.

OSC imports this module on every ``openstack`` run of everyone who installs
osc-gpu, so it imports nothing but ``osc_lib.utils`` (already loaded by OSC).
"""

from osc_lib import utils

API_NAME = 'gpu'
API_VERSION_OPTION = 'os_gpu_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = {'1': 'osc_gpu.plugin'}


def make_client(instance):
    """Give commands OSC's own openstacksdk connection; gpu has no service."""
    return instance.sdk_connection


def build_option_parser(parser):
    parser.add_argument(
        '--os-gpu-api-version',
        metavar='<gpu-api-version>',
        default=utils.env('OS_GPU_API_VERSION', default=DEFAULT_API_VERSION),
        help='osc-gpu command set version (Env: OS_GPU_API_VERSION, '
             'default: %s)' % DEFAULT_API_VERSION,
    )
    return parser
