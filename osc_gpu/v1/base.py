"""What every cloud-facing ``openstack gpu`` command shares.

OSC authenticates before a command parses its own arguments, so a typo
would still cost a token request. These commands declare no auth need,
validate first, and only then ask OSC to authenticate them, through
osc-lib's own ``prepare_to_run_command``: the connection is OSC's, with the
usual ``--os-*`` options, ``--debug`` logging and timings.
"""

from osc_lib import exceptions

from osc_gpu import cloud


class CloudCommandMixin:
    """Mixin for commands that validate input before touching the cloud."""

    auth_required = False
    _gpu_cloud = None

    def gpu_cloud(self):
        """The :class:`~osc_gpu.cloud.GpuCloud`; authenticates on first use."""
        if self._gpu_cloud is None:
            self.auth_required = True
            with cloud.reporting('authenticating'):
                self.app.prepare_to_run_command(self)
                # Not client_manager.gpu: OSC caches plugin clients on the
                # class, so that one would outlive this shell (interactive
                # mode, tests); sdk_connection belongs to this run.
                connection = self.app.client_manager.sdk_connection
            self._gpu_cloud = cloud.GpuCloud(connection,
                                             self.app.cloud.config)
        return self._gpu_cloud


def fail(message):
    """Refuse with one line; OSC prints it and exits 1."""
    raise exceptions.CommandError(message)


def one_line_errors(parser):
    """Make argparse refusals one line and exit 1, like every other refusal.

    argparse prints the usage block and exits 2; operators and scripts get
    the same single line as for any other bad value instead.
    """
    def error(message):
        raise exceptions.CommandError('%s: %s' % (parser.prog, message))
    parser.error = error
    return parser
