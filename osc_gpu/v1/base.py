"""What every cloud-facing ``openstack gpu`` command shares.

OSC authenticates before a command parses its own arguments, so a typo
would still cost a token request. These commands declare no auth need,
validate first, and only then ask OSC to authenticate them, through
osc-lib's own ``prepare_to_run_command``: the connection is OSC's, with the
usual ``--os-*`` options, ``--debug`` logging and timings.
"""

from cliff import _argparse
from osc_lib import exceptions

from osc_gpu.cloud import adapter
from osc_gpu.cloud import errors


class CloudCommandMixin:
    """Mixin for commands that validate input before touching the cloud."""

    auth_required = False
    _gpu_cloud = None

    def gpu_cloud(self):
        """The cloud adapter (``GpuCloud``); authenticates on first use."""
        if self._gpu_cloud is None:
            self.auth_required = True
            with errors.reporting('authenticating'):
                self.app.prepare_to_run_command(self)
                # Not client_manager.gpu: OSC caches plugin clients on the
                # class, so that one would outlive this shell (interactive
                # mode, tests); sdk_connection belongs to this run.
                connection = self.app.client_manager.sdk_connection
            self._gpu_cloud = adapter.GpuCloud(connection,
                                               self.app.cloud.config)
        return self._gpu_cloud


def fail(message):
    """Refuse with one line; OSC prints it and exits 1."""
    raise exceptions.CommandError(message)


class _DocstringHelpFormatter(_argparse.SmartHelpFormatter):
    """Wraps description paragraphs but keeps indented blocks (the
    ``Example::`` commands) as written, so ``--help`` shows them as the
    generated docs do."""

    def _fill_text(self, text, width, indent):
        paragraphs = []
        for paragraph in text.split('\n\n'):
            if paragraph.startswith(' '):
                paragraphs.append(paragraph)
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return '\n\n'.join(paragraphs)


def one_line_errors(parser):
    """Make argparse refusals one line and exit 1, like every other refusal.

    argparse prints the usage block and exits 2; operators and scripts get
    the same single line as for any other bad value instead. The help keeps
    the docstring's example block intact.
    """
    def error(message):
        raise exceptions.CommandError('%s: %s' % (parser.prog, message))
    parser.error = error
    parser.formatter_class = _DocstringHelpFormatter
    return parser


def add_hide_hypervisor_options(parser, how, off_help):
    """``--hide-hypervisor`` (the default) / ``--no-hide-hypervisor``."""
    hide = parser.add_mutually_exclusive_group()
    hide.add_argument(
        '--hide-hypervisor', dest='hide_hypervisor', action='store_true',
        default=True,
        help='Hide the KVM signature from the guest, which NVIDIA drivers '
             'need (default; %s)' % how)
    hide.add_argument('--no-hide-hypervisor', dest='hide_hypervisor',
                      action='store_false', help=off_help)
