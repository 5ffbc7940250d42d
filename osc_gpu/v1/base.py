"""What every cloud-facing ``openstack gpu`` command shares.

OSC authenticates before a command parses its own arguments, so a typo
would still cost a token request. These commands declare no auth need,
validate first, and only then ask OSC to authenticate them, through
osc-lib's own ``prepare_to_run_command``: the connection is OSC's, with the
usual ``--os-*`` options, ``--debug`` logging and timings.
"""

import argparse
import sys

from cliff import _argparse
from osc_lib import exceptions

from osc_gpu.cloud import adapter
from osc_gpu.cloud import errors
from osc_gpu.cloud import interrupts
from osc_gpu.rules import echo
from osc_gpu.rules import inputs


class CloudCommandMixin:
    """Mixin for commands that validate input before touching the cloud.

    While the command runs, SIGTERM unwinds like Ctrl-C (so a multi-step
    change cleans up), keystoneauth's and the SDK's warnings are folded
    into the one error line, and whatever the line echoes is escaped.
    """

    auth_required = False
    _gpu_cloud = None

    def run(self, parsed_args):
        options = self.app.options
        show = bool(getattr(options, 'debug', False)) or getattr(
            options, 'verbose_level', 1) > 1
        try:
            with interrupts.sigterm_as_interrupt(), \
                    errors.warnings_folded(show), \
                    errors.reporting(self._doing()):
                return super().run(parsed_args)
        except interrupts.Terminated:
            self.app.stderr.write('%s: stopped by SIGTERM\n' % self._doing())
            sys.exit(interrupts.EXIT_STATUS)
        except exceptions.CommandError as exc:
            line = echo.one_line(exc)
            if line == str(exc):
                raise
            raise exceptions.CommandError(line) from exc
        except BrokenPipeError:
            raise           # cliff's: the reader of the output went away
        except Exception as exc:
            if show:
                raise       # --debug shows the traceback
            # A bug, ours or the cloud's: its text would mean nothing.
            raise exceptions.CommandError(
                '%s failed unexpectedly (%s): run it again with --debug '
                'for the details' % (self._doing(), type(exc).__name__)
            ) from exc

    def _doing(self):
        """What the command does, for a line about it: 'gpu flavor create'."""
        return getattr(self, 'cmd_name', None) or 'the command'

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
    raise exceptions.CommandError(echo.one_line(message))


def _argument_type(check, name):
    """An argparse ``type`` from a rule that raises ValueError."""
    def parse(text):
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = name      # argparse names the type in some messages
    return parse


def whole_number(option):
    """``type=`` for a flavor size: ASCII digits within nova's bounds."""
    return _argument_type(inputs.NUMBER_RULES[option].parse, 'number')


def text(what):
    """``type=`` for a string nova (or glance) checks, e.g. 'flavor name'."""
    return _argument_type(lambda value: inputs.check_text(what, value), what)


def seconds():
    """``type=`` for a positive, finite number of seconds."""
    return _argument_type(inputs.seconds, 'seconds')


class _DocstringHelpFormatter(_argparse.SmartHelpFormatter):
    """Wraps description paragraphs but keeps indented blocks (the
    ``Example::`` commands) as written, so ``--help`` shows them as the
    generated docs do."""

    def _format_usage(self, usage, actions, groups, prefix):
        # argparse never breaks inside a group such as (--a <x> | --b <y>),
        # so a usage line can outgrow the terminal: break it at a space.
        text = super()._format_usage(usage, actions, groups, prefix)
        return '\n'.join(line for long_line in text.split('\n')
                         for line in _wrapped(long_line, self._width))

    def _fill_text(self, text, width, indent):
        paragraphs = []
        for paragraph in text.split('\n\n'):
            if paragraph.startswith(' '):
                paragraphs.append(paragraph)
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return '\n\n'.join(paragraphs)


def _wrapped(line, width):
    """``line`` as lines of at most ``width`` (broken at spaces), each
    continuation indented as the line and two more."""
    indent = ' ' * (len(line) - len(line.lstrip(' ')))
    lines = []
    while len(line) > width:
        spaces = [i for i in range(len(indent) + 1, width + 1)
                  if line[i] == ' ']
        # Rather before an option or '|' than between one and its value.
        cut = next((i for i in reversed(spaces)
                    if line[i + 1:i + 2] in ('-', '|', '[', '(')),
                   spaces[-1] if spaces else None)
        if cut is None:
            break
        lines.append(line[:cut].rstrip())
        line = indent + '  ' + line[cut:].lstrip()
    return lines + [line]


def one_line_errors(parser):
    """Make argparse refusals one line and exit 1, like every other refusal.

    argparse prints the usage block and exits 2; operators and scripts get
    the same single line as for any other bad value instead. The help keeps
    the docstring's example block intact.
    """
    def error(message):
        raise exceptions.CommandError(
            echo.one_line('%s: %s' % (parser.prog, message)))
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
