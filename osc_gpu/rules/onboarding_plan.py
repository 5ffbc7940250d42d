"""What ``gpu apply`` would change: the onboarding file against the cloud.

Pure: ``osc_gpu.cloud.onboarding`` reads the cloud into a
:class:`CloudState`, :func:`make_plan` compares it with the file field by
field and lists a :class:`Change` per resource, in the order apply makes
them (projects before their limits and flavor access, defaults before
project limits). A field the file leaves out is not managed: apply sets it
when it creates the resource and leaves it alone afterwards.

What apply creates carries a mark of the file's ``name`` (flavor extra spec
``osc_gpu:onboarding``, project tag ``osc-gpu:NAME``, limit description),
and ``--prune`` deletes only resources with that mark.
"""

import dataclasses

from osc_gpu.rules import image_properties
from osc_gpu.rules import onboarding_flavors
from osc_gpu.rules import quotas

from osc_gpu.rules.onboarding_state import (
    CREATE, UPDATE, DELETE, UNCHANGED, MARKER_SPEC, limit_description)


@dataclasses.dataclass(frozen=True)
class Difference:
    field: str
    cloud: object
    file: object


@dataclasses.dataclass(frozen=True)
class Change:
    kind: str            # project, default quota, quota, flavor, ...
    name: str
    action: str
    differences: tuple = ()
    note: str = ''
    target: dict = dataclasses.field(default_factory=dict, compare=False)

    @property
    def changes(self):
        return self.action != UNCHANGED


@dataclasses.dataclass
class Plan:
    changes: list
    notes: list

    def to_make(self):
        return [c for c in self.changes if c.changes]


class PlanError(ValueError):
    """The cloud holds something apply must not or cannot change."""

    def __init__(self, errors):
        super().__init__('; '.join(message for _, message in errors))
        self.errors = errors      # [(file path, message)]


def make_plan(model, state, prune=False):
    """The :class:`Plan` that brings ``state`` to what ``model`` says."""
    planner = _Planner(model, state, prune)
    planner.projects()
    planner.default_quotas()
    planner.project_quotas()
    planner.flavors()
    planner.images()
    if prune:
        planner.prune()
    if planner.errors:
        raise PlanError(planner.errors)
    return Plan(planner.changes, planner.notes)


class _Planner(onboarding_flavors.FlavorPlanning):
    def __init__(self, model, state, prune):
        self.model = model
        self.state = state
        self.prune_on = prune
        self.changes = []
        self.notes = []
        self.errors = []
        self.recreate = set()      # (project id, resource) deleted first
        self.mark = limit_description(model.name)

    def add(self, kind, name, action, differences=(), note='', **target):
        self.changes.append(Change(kind, name, action, tuple(
            Difference(*d) for d in differences), note, target))

    def project_id(self, key):
        found = self.state.projects.get(key)
        return found.id if found else None

    # -- projects ------------------------------------------------------
    def projects(self):
        for spec in self.model.projects:
            if self.state.domains.get(spec.domain) is None:
                self.errors.append((spec.path + ('domain',), (
                    "domain '%s' not found: create it first ('openstack "
                    "domain create %s') or fix the name" % (spec.domain,
                                                            spec.domain))))
                continue
            have = self.state.projects.get(spec.key)
            if have is None:
                enabled = True if spec.enabled is None else spec.enabled
                self.add('project', str(spec), CREATE,
                         [('description', None, spec.description or ''),
                          ('enabled', None, enabled)], spec=spec)
                continue
            diffs = []
            if spec.description is not None and \
                    (have.description or '') != spec.description:
                diffs.append(('description', have.description,
                              spec.description))
            if spec.enabled is not None and have.enabled != spec.enabled:
                diffs.append(('enabled', have.enabled, spec.enabled))
            self.add('project', str(spec), UPDATE if diffs else UNCHANGED,
                     diffs, spec=spec, project_id=have.id)

    # -- limits --------------------------------------------------------
    def _file_limits(self):
        """``{(project id, resource name)}`` of every limit in the file
        whose project exists."""
        return {(self.project_id(p.key), q.resource.limit_name)
                for p in self.model.projects for q in p.quotas
                if self.project_id(p.key)}

    def default_quotas(self):
        for spec in self.model.default_quotas:
            name = spec.resource.limit_name
            have = self.state.registered.get(name)
            label = str(spec.resource)
            if have is None:
                self.add('default quota', label, CREATE, [(
                    'default_limit', None, quotas.show_limit(spec.limit))],
                    resource_name=name, value=spec.limit)
            elif have.value == spec.limit:
                self.add('default quota', label, UNCHANGED)
            elif self._recreate_limits_of(spec, have):
                self.add('default quota', label, UPDATE, [(
                    'default_limit', quotas.show_limit(have.value),
                    quotas.show_limit(spec.limit))], registered=have,
                    value=spec.limit)
        defaults = {q.resource.limit_name for q in self.model.default_quotas}
        needed = {q.resource.limit_name: q.resource
                  for p in self.model.projects for q in p.quotas}
        for name, resource in sorted(needed.items()):
            if name not in defaults and name not in self.state.registered:
                self.add('default quota', str(resource), CREATE, [(
                    'default_limit', None, 'unlimited')],
                    note='project limits need a registered limit; -1 is '
                         'what nova does for an unregistered class',
                    resource_name=name, value=quotas.UNLIMITED)

    def _recreate_limits_of(self, spec, registered):
        """Keystone changes a default only while no project has a limit of
        its own on it: plan to delete those first (the file's own limits
        are then created again). Others' limits would be lost: refuse."""
        name = registered.resource_name
        holders = [lim for key, lim in self.state.limits.items()
                   if key[1] == name]
        ours = self._file_limits()
        others = [lim.project_id for lim in holders
                  if (lim.project_id, name) not in ours]
        if others:
            self.errors.append((spec.path, (
                'the default for %s cannot change from %s to %s: keystone '
                'refuses while projects have limits of their own on it, '
                'and %d project(s) not in this file do (%s); delete those '
                "limits first ('openstack limit list --resource-name %s')"
                % (name, quotas.show_limit(registered.value),
                   quotas.show_limit(spec.limit), len(others),
                   ', '.join(sorted(others)), name))))
            return False
        for lim in holders:
            self.recreate.add((lim.project_id, name))
            label = '%s: %s' % (self.project_label(lim.project_id), name)
            self.add('quota', label, DELETE, [(
                'resource_limit', quotas.show_limit(lim.value), None)],
                note='recreated after the default changes', limit=lim)
        return True

    def project_quotas(self):
        for project in self.model.projects:
            pid = self.project_id(project.key)
            for spec in project.quotas:
                name = spec.resource.limit_name
                label = '%s: %s' % (project, spec.resource)
                key = (pid, name)
                have = None if key in self.recreate else \
                    self.state.limits.get(key)
                want = quotas.show_limit(spec.limit)
                if have is None:
                    self.add('quota', label, CREATE,
                             [('resource_limit', None, want)],
                             project=project.key, resource_name=name,
                             value=spec.limit)
                elif have.value != spec.limit:
                    self.add('quota', label, UPDATE, [(
                        'resource_limit', quotas.show_limit(have.value),
                        want)], limit=have, value=spec.limit)
                else:
                    self.add('quota', label, UNCHANGED)

    def project_label(self, project_id):
        for key, project in list(self.state.projects.items()) + list(
                self.state.tagged_projects.items()):
            if project.id == project_id:
                return key[1]
        return project_id

    # -- images --------------------------------------------------------
    def images(self):
        for spec in self.model.images:
            have = self.state.images.get(spec.name)
            if have is None:
                self.errors.append((spec.path, (
                    "image '%s' not found: upload it first (apply prepares "
                    'images, it never uploads them) or fix the name'
                    % spec.name)))
                continue
            diff = image_properties.changes(have, dict(spec.wanted))
            self.add('image', spec.name, UPDATE if diff else UNCHANGED,
                     [(k, old, new) for k, (old, new) in diff.items()],
                     image_id=self.state.image_ids.get(spec.name),
                     properties={k: new for k, (_, new) in diff.items()},
                     current=have)

    # -- --prune -------------------------------------------------------
    def prune(self):
        named = {f.name for f in self.model.flavors}
        for name, have in sorted(self.state.flavors.items()):
            if name not in named and \
                    have.extra_specs.get(MARKER_SPEC) == self.model.name:
                self.add('flavor', name, DELETE, [('name', name, None)],
                         flavor_id=have.id)
        kept = self._file_limits()
        gone = set()
        for (pid, name), lim in sorted(self.state.limits.items()):
            if lim.description == self.mark and (pid, name) not in kept \
                    and (pid, name) not in self.recreate:
                gone.add((pid, name))
                self.add('quota', '%s: %s' % (self.project_label(pid), name),
                         DELETE, [('resource_limit', quotas.show_limit(
                             lim.value), None)], limit=lim)
        self._prune_defaults(gone)
        self._prune_projects()

    def _prune_defaults(self, gone):
        wanted = {q.resource.limit_name for q in self.model.default_quotas}
        wanted.update(q.resource.limit_name for p in self.model.projects
                      for q in p.quotas)
        for name, have in sorted(self.state.registered.items()):
            if have.description != self.mark or name in wanted:
                continue
            holders = [k for k in self.state.limits
                       if k[1] == name and k not in gone]
            if holders:
                self.notes.append(
                    'the default for %s is kept: %d project limit(s) not '
                    'made by this file still use it' % (name, len(holders)))
                continue
            self.add('default quota', name, DELETE, [(
                'default_limit', quotas.show_limit(have.value), None)],
                registered=have)

    def _prune_projects(self):
        named = {p.key for p in self.model.projects}
        for key, have in sorted(self.state.tagged_projects.items()):
            if key in named:
                continue
            if have.servers:
                self.errors.append(((), (
                    "project '%s' was made by this file and is no longer in "
                    'it, but it still has %d server(s): delete them first, '
                    'or keep the project in the file' % (key[1],
                                                         have.servers))))
                continue
            self.add('project', '/'.join(key) if key[0] != 'Default'
                     else key[1], DELETE, [('name', key[1], None)],
                     project=have)
