"""OpenStackClient plugin hooks for the ``openstack gpu`` commands.

OSC imports this module on every ``openstack`` run of everyone who installs
osc-gpu, so it imports nothing but ``osc_lib.utils`` (already loaded by OSC)
and ``os`` (loaded before any plugin).
"""

import os

from osc_lib import utils

API_NAME = 'gpu'
API_VERSION_OPTION = 'os_gpu_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = {'1': 'osc_gpu.plugin'}

# Commands that read only this host's /sys and /proc, never a cloud.
OFFLINE_COMMANDS = (('gpu', 'host'),)


# The words after OSC's global options, as the last parse found them.
_command_words = []


def check_api_version(check_version):
    """OSC's hook: refuse, in one line, a version with no command set.

    Without it OSC only warns and looks for the commands under
    ``openstack.gpu.v7``, where there are none: every ``gpu`` command
    would then be "not an openstack command". ``1.0`` is ``1``. Other
    commands need no gpu version: for them OSC's warning stays.
    """
    if check_version.removesuffix('.0') in API_VERSIONS:
        return True     # checked here: OSC's own check would warn on 1.0
    if not is_gpu_command(_command_words):
        return False
    shown = check_version[:20] + ('...' if len(check_version) > 20 else '')
    raise ValueError(
        'invalid osc-gpu API version %r (--os-gpu-api-version, '
        'OS_GPU_API_VERSION): valid: %s, or leave it unset'
        % (shown, ', '.join(sorted(API_VERSIONS))))


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
    _no_cloud_for_offline_commands(parser)
    return parser


def is_gpu_command(words):
    """Whether the words after the global options name a gpu command (or
    ask for its help)."""
    if words[:1] == ['help']:
        words = words[1:]
    return words[:1] == [API_NAME]


def is_offline_command(words):
    """Whether the words after the global options name an offline command
    (or ask for its help)."""
    if words[:1] == ['help']:
        words = words[1:]
    return tuple(words[:2]) in OFFLINE_COMMANDS


def _forget_the_cloud(options):
    # OSC builds the cloud of --os-cloud / OS_CLOUD from clouds.yaml and
    # secure.yaml before it even looks up the command, auth_required or
    # not, so a cloud name that is not there or a file that is not YAML
    # would stop commands that use no cloud. openstacksdk's documented
    # variables point it at no file and no cloud instead.
    options.cloud = None
    os.environ.pop('OS_CLOUD', None)
    os.environ['OS_CLIENT_CONFIG_FILE'] = os.devnull
    os.environ['OS_CLIENT_SECURE_FILE'] = os.devnull


def _no_cloud_for_offline_commands(parser):
    """Parse OSC's global options as usual, noting the command's words;
    for an offline command, then make OSC set up no cloud at all."""
    parse_known_args = parser.parse_known_args

    def parse(args=None, namespace=None):
        options, remainder = parse_known_args(args, namespace)
        _command_words[:] = remainder
        if is_offline_command(remainder):
            _forget_the_cloud(options)
        return options, remainder

    parser.parse_known_args = parse
