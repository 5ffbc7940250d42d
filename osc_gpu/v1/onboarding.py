"""``openstack gpu plan|apply -f FILE``: GPU tenant onboarding as code."""

import argparse
import sys

from cliff import columns
from osc_lib.command import command

from osc_gpu.cloud import onboarding as cloud_onboarding
from osc_gpu.rules import aliases
from osc_gpu.rules import echo
from osc_gpu.rules import onboarding
from osc_gpu.rules import onboarding_plan
from osc_gpu.rules import quotas
from osc_gpu.v1 import base
from osc_gpu.v1 import onboarding_file

_HEADERS = ('Resource', 'Name', 'Action', 'Changes', 'Note')
EXIT_CHANGES = 2
_DONE = {'create': 'created', 'update': 'updated', 'replace': 'replaced',
         'delete': 'deleted', 'unchanged': 'unchanged'}


class ChangesColumn(columns.FormattableColumn):
    """``field: cloud -> file`` lines; a list of objects in JSON/YAML."""

    @staticmethod
    def _shown(value):
        return '(none)' if value is None else str(value)

    def human_readable(self):
        return '\n'.join('%s: %s -> %s' % (d.field, self._shown(d.cloud),
                                           self._shown(d.file))
                         for d in self._value)

    def machine_readable(self):
        return [{'field': d.field, 'cloud': d.cloud, 'file': d.file}
                for d in self._value]


class _FileOrFormat(argparse.Action):
    """``-f``: an output format name (cliff's meaning), else the file."""

    def __call__(self, parser, namespace, values, option_string=None):
        if values in self.const:
            namespace.formatter = values
        else:
            namespace.file = values


def _add_file_options(parser):
    """``-f FILE`` as kubectl has it, while ``-f json`` keeps cliff's
    meaning: ``-f`` takes a format name or else the onboarding file."""
    # cliff registered -f for --format; give -f to the action below.
    formats = parser._option_string_actions.pop('-f')
    formats.option_strings.remove('-f')
    parser.add_argument(
        '-f', dest='file', action=_FileOrFormat, const=formats.choices,
        metavar='<file>|<format>',
        help='The onboarding file (YAML; see examples/onboarding.yaml), or '
             'an output format (%s), as with --format'
             % ', '.join(formats.choices))
    parser.add_argument('--file', dest='file', metavar='<file>',
                        help='The onboarding file (the same as -f FILE)')
    parser.add_argument(
        '--prune', action='store_true',
        help='Also delete (plan: show) what this file made, by its name, '
             'and no longer names: flavors, flavor access, limits, projects')


class _OnboardingCommand(base.CloudCommandMixin, command.Lister):

    def get_parser(self, prog_name):
        parser = base.one_line_errors(super().get_parser(prog_name))
        _add_file_options(parser)
        return parser

    def read_file(self, parsed_args):
        """The checked model of the file; nothing is sent before this."""
        if not parsed_args.file:
            base.fail('give the onboarding file: -f FILE (see '
                      'examples/onboarding.yaml)')
        name = parsed_args.file
        try:
            alias_map = aliases.AliasMap.from_cloud_config(
                self.app.cloud.config if self.app.cloud else {})
        except aliases.InvalidAliasMap as exc:
            base.fail(str(exc))
        try:
            data, positions = onboarding_file.load(
                onboarding_file.read(name), name)
            return onboarding.read_onboarding(data, positions, alias_map)
        except onboarding.InvalidFile as exc:
            self._refuse(name, exc.errors,
                         'nothing was sent to the cloud')

    def _refuse(self, name, file_errors, outcome):
        """One stderr line per error, then the refusal's one line."""
        for error in file_errors:
            # A newline in a YAML string or a terminal escape is shown
            # escaped, so each error stays one line.
            self.app.stderr.write(echo.one_line(error.render(name)) + '\n')
        base.fail('%d error%s in %s: %s' % (
            len(file_errors), '' if len(file_errors) == 1 else 's', name,
            outcome))

    def plan(self, parsed_args, model):
        gpu_cloud = self.gpu_cloud()
        state, scope = cloud_onboarding.read_state(gpu_cloud, model,
                                                   parsed_args.prune)
        try:
            plan = onboarding_plan.make_plan(model, state, parsed_args.prune)
        except onboarding_plan.PlanError as exc:
            positions = self._positions(parsed_args.file)
            self._refuse(parsed_args.file, [onboarding.FileError(
                path, message, *positions.of(path))
                for path, message in exc.errors], 'nothing was changed')
        gaps = quotas.enforcement_gaps(state.release, model.resources(),
                                       state.nova_uses_unified_limits)
        for note in list(model.notes) + plan.notes + (
                gaps if model.resources() else []):
            self.app.stderr.write('note: %s\n' % note)
        return gpu_cloud, state, scope, plan

    @staticmethod
    def _positions(name):
        try:
            return onboarding_file.load(onboarding_file.read(name),
                                        name)[1]
        except onboarding.InvalidFile:
            return onboarding.Positions()

    @staticmethod
    def rows(changes, done=False):
        return _HEADERS, [
            (c.kind, c.name, _DONE[c.action] if done else c.action,
             ChangesColumn(c.differences), c.note) for c in changes]

    def summary(self, plan, done=False):
        counts = {}
        for change in plan.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        words = ('created', 'updated', 'replaced', 'deleted') if done else (
            'to create', 'to update', 'to replace', 'to delete')
        self.app.stderr.write('%s: %s, %d unchanged\n' % (
            'Applied' if done else 'Plan', ', '.join(
                '%d %s' % (counts.get(action, 0), word) for action, word in
                zip(('create', 'update', 'replace', 'delete'), words)),
            counts.get('unchanged', 0)))


class PlanGpuOnboarding(_OnboardingCommand):
    """Show what 'gpu apply' would change: create, update, unchanged

    Checks the whole file first and reports every error with its line and
    column, sending no request. Then reads the cloud and lists each
    resource the file names with what apply would do and, field by field,
    the cloud's value and the file's: a change made by hand (an extra spec
    edited, access removed, a limit changed, an image property unset) shows
    as drift here. Exits 0 when nothing would change, 2 when something
    would, 1 on an error.

    Example::

        openstack gpu plan -f examples/onboarding.yaml
        openstack gpu plan -f examples/onboarding.yaml -f json
    """

    _changes = False

    def take_action(self, parsed_args):
        model = self.read_file(parsed_args)
        _, _, _, plan = self.plan(parsed_args, model)
        self._changes = bool(plan.to_make())
        self.summary(plan)
        return self.rows(plan.changes)

    def run(self, parsed_args):
        code = super().run(parsed_args)
        return EXIT_CHANGES if code == 0 and self._changes else code


class ApplyGpuOnboarding(_OnboardingCommand):
    """Make projects, GPU quotas, flavors and images what a file says

    Checks the file, plans (see 'gpu plan'), then makes the changes in
    dependency order: projects, default and project GPU limits, flavors
    (each created whole with its extra specs and access, or not at all),
    flavor access, images. A second run changes nothing; a run that failed
    half way is finished by the next. Nothing the file does not name is
    deleted, unless --prune, and then only what this file made (its name
    is marked on what it creates).

    Example::

        openstack gpu apply -f examples/onboarding.yaml --yes
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--yes', action='store_true',
                            help='Make the changes without asking (needed '
                                 'when not run from a terminal)')
        return parser

    def take_action(self, parsed_args):
        model = self.read_file(parsed_args)
        gpu_cloud, state, scope, plan = self.plan(parsed_args, model)
        to_make = plan.to_make()
        if to_make and not parsed_args.yes:
            self._confirm(plan, len(to_make))
        show = self.app.stderr.isatty()
        applier = cloud_onboarding.Applier(
            gpu_cloud, model, state, scope,
            progress=self._progress if show else None)
        try:
            applier.run(to_make)
        finally:
            if show and to_make:
                self.app.stderr.write('\r\033[K')
        self.summary(plan, done=True)
        return self.rows(plan.changes, done=True)

    def _confirm(self, plan, count):
        if not sys.stdin.isatty():
            base.fail('%d change%s to make: pass --yes to make them without '
                      "asking (review them with 'openstack gpu plan -f "
                      "FILE')" % (count, '' if count == 1 else 's'))
        for change in plan.to_make():
            self.app.stderr.write('  %s %s %s\n' % (change.action,
                                                    change.kind, change.name))
        self.summary(plan)
        self.app.stderr.write('Make these %d changes? [y/N] ' % count)
        self.app.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ('y', 'yes'):
            base.fail('nothing changed: not confirmed')

    def _progress(self, index, total, change):
        # Only on a terminal: \r rewrites the line, ESC[K clears the rest.
        self.app.stderr.write('\r[%d/%d] %s %s %s\033[K' % (
            index + 1, total, change.action, change.kind, change.name))
        self.app.stderr.flush()
