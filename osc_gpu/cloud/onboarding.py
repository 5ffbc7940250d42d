"""Reading what an onboarding file names from the cloud, and converging.

:func:`read_state` costs a fixed handful of requests (one per domain,
registered limits, limits, the flavor list, one access list per private
flavor, one per image); :class:`Applier` makes the plan's changes in its
order. Each step is as atomic as the single command it stands for (a
flavor is created with its specs and access or not at all) and tolerates
a concurrent apply of the same file: a 409 on a create means it is there.
So a run that fails half way leaves only finished steps, and the next run
plans just the rest.
"""

from osc_gpu.cloud import errors
from osc_gpu.cloud import flavors as gpu_flavors
from osc_gpu.cloud import identity
from osc_gpu.rules import onboarding_state as st
from osc_gpu.rules import quotas


def read_state(gpu_cloud, model, prune=False):
    """A :class:`CloudState` of everything ``model`` names."""
    state = st.CloudState(gpu_cloud.release())
    scope = identity.nova_scope(gpu_cloud)
    _read_projects(gpu_cloud, model, state)
    registered = identity.registered_limits(gpu_cloud, scope)
    state.nova_uses_unified_limits = quotas.SERVERS_LIMIT in registered
    state.registered = {
        name: st.LimitState(r.id, name, r.default_limit, r.description or '')
        for name, r in registered.items() if quotas.class_of_limit(name)}
    if prune:
        _read_tagged_projects(gpu_cloud, model, state)
    state.limits = {
        key: st.LimitState(lim.id, key[1], lim.resource_limit,
                           lim.description or '', key[0])
        for key, lim in identity.project_limits(gpu_cloud, scope).items()
        if quotas.class_of_limit(key[1])}
    _read_flavors(gpu_cloud, model, state, prune)
    _read_images(gpu_cloud, model, state)
    return state, scope


def _project_state(project):
    return st.ProjectState(project.id, project.name,
                           project.description or '',
                           bool(project.is_enabled), tuple(project.tags or ()))


def _read_projects(gpu_cloud, model, state):
    for domain in sorted({p.domain for p in model.projects}):
        state.domains[domain] = identity.domain_id(gpu_cloud, domain)
        if state.domains[domain] is None:
            continue
        found = identity.projects_in(gpu_cloud, state.domains[domain])
        for spec in model.projects:
            if spec.domain == domain and spec.name in found:
                state.projects[spec.key] = _project_state(found[spec.name])


def _read_tagged_projects(gpu_cloud, model, state):
    names = {v: k for k, v in state.domains.items() if v}
    for project in identity.projects_tagged(gpu_cloud,
                                            st.project_tag(model.name)):
        if project.domain_id not in names:
            with errors.reporting("looking up domain '%s'"
                                  % project.domain_id):
                names[project.domain_id] = gpu_cloud.conn.identity.get_domain(
                    project.domain_id).name
        key = (names[project.domain_id], project.name)
        found = _project_state(project)
        if key not in {p.key for p in model.projects}:
            found.servers = identity.project_server_count(gpu_cloud,
                                                          project.id)
        state.tagged_projects[key] = found


def _read_flavors(gpu_cloud, model, state, prune):
    named = {f.name: f for f in model.flavors}
    for flavor in gpu_cloud.flavors():
        specs = dict(flavor.extra_specs or {})
        ours = specs.get(st.MARKER_SPEC) == model.name
        if flavor.name not in named and not (prune and ours):
            continue
        found = st.FlavorState(
            flavor.id, flavor.name, flavor.vcpus, flavor.ram,
            flavor.disk or 0, flavor.ephemeral or 0, flavor.swap or 0,
            bool(flavor.is_public), flavor.description, specs)
        if not flavor.is_public and flavor.name in named:
            found.access = frozenset(gpu_cloud.flavor_project_ids(flavor))
        state.flavors[flavor.name] = found


def _read_images(gpu_cloud, model, state):
    for spec in model.images:
        with errors.reporting("looking up image '%s'" % spec.name):
            image = gpu_cloud.conn.image.find_image(spec.name,
                                                    ignore_missing=True)
        if image is not None:
            state.images[spec.name] = gpu_cloud.image_properties(
                image, tuple(k for k, _ in spec.wanted))
            state.image_ids[spec.name] = image.id


class Applier:
    """Makes a plan's changes in order; ``progress(index, total, change)``
    is called before each."""

    def __init__(self, gpu_cloud, model, state, scope, progress=None):
        self.gpu_cloud = gpu_cloud
        self.model = model
        self.scope = scope
        self.project_ids = {k: p.id for k, p in state.projects.items()}
        self.domain_ids = dict(state.domains)
        self.progress = progress or (lambda *args: None)
        self.mark = st.limit_description(model.name)

    def run(self, changes):
        for index, change in enumerate(changes):
            self.progress(index, len(changes), change)
            step = getattr(self, '_%s_%s' % (
                change.kind.replace(' ', '_'), change.action))
            try:
                step(change)
            except errors.CloudError as exc:
                raise errors.CloudError(
                    '%s; %d of %d changes were made before it: run apply '
                    'again to make the rest' % (exc, index,
                                                len(changes))) from exc

    # -- projects ------------------------------------------------------
    def _project_create(self, change):
        spec = change.target['spec']
        enabled = True if spec.enabled is None else spec.enabled
        domain = self.domain_ids[spec.domain]
        try:
            project = identity.create_project(
                self.gpu_cloud, spec.name, domain, spec.description,
                enabled, [st.project_tag(self.model.name)])
        except errors.Conflict:
            # Another apply made it a moment ago: adopt, then converge.
            project = identity.find_project(self.gpu_cloud, spec.name,
                                            domain)
            wanted = {'description': spec.description,
                      'is_enabled': spec.enabled}
            changed = {k: v for k, v in wanted.items()
                       if v is not None and getattr(project, k) != v}
            if changed:
                project = identity.update_project(self.gpu_cloud, project,
                                                  **changed)
        self.project_ids[spec.key] = project.id

    def _project_update(self, change):
        attrs = {'description' if d.field == 'description' else 'is_enabled':
                 d.file for d in change.differences}
        project = identity.find_project(
            self.gpu_cloud, change.target['spec'].name,
            self.domain_ids[change.target['spec'].domain])
        identity.update_project(self.gpu_cloud, project, **attrs)

    def _project_delete(self, change):
        identity.delete_project(self.gpu_cloud, change.target['project'])

    # -- limits --------------------------------------------------------
    def _default_quota_create(self, change):
        name, value = change.target['resource_name'], change.target['value']
        try:
            identity.create_registered_limit(self.gpu_cloud, self.scope,
                                             name, value, self.mark)
        except errors.Conflict:
            have = identity.registered_limits(self.gpu_cloud, self.scope,
                                              name)[name]
            if have.default_limit != value:
                identity.update_registered_limit(self.gpu_cloud, have, value)

    def _default_quota_update(self, change):
        identity.update_registered_limit(
            self.gpu_cloud, change.target['registered'],
            change.target['value'])

    def _default_quota_delete(self, change):
        identity.delete_registered_limit(self.gpu_cloud,
                                         change.target['registered'])

    def _quota_create(self, change):
        identity.set_project_limit(
            self.gpu_cloud, self.scope,
            self.project_ids[change.target['project']],
            change.target['resource_name'], change.target['value'],
            self.mark)

    def _quota_update(self, change):
        identity.update_limit(self.gpu_cloud, change.target['limit'],
                              change.target['value'])

    def _quota_delete(self, change):
        identity.delete_limit(self.gpu_cloud, change.target['limit'])

    # -- flavors -------------------------------------------------------
    def _flavor_create(self, change):
        spec = change.target['spec']
        attrs = {'name': spec.name, 'is_public': spec.is_public}
        attrs.update({f: spec.size(f) for f in
                      ('vcpus', 'ram', 'disk', 'ephemeral', 'swap')})
        if spec.description is not None:
            attrs['description'] = spec.description
        projects = {self.project_ids[key]: key[1] for key in spec.projects}
        flavor, created = gpu_flavors.create_gpu_flavor(
            self.gpu_cloud, attrs, change.target['specs'], projects,
            or_show=True)
        if not created:
            for project_id in projects:
                self._add_access(flavor, project_id)

    def _flavor_replace(self, change):
        self._flavor_delete(change, change.target['old'].id)
        self._flavor_create(change)

    def _flavor_update(self, change):
        flavor = self.gpu_cloud.find_flavor(change.target['flavor_id'])
        specs = change.target['specs']
        wanted = {k: v for k, v in specs.items() if v is not None}
        if wanted:
            self.gpu_cloud.set_flavor_extra_specs(flavor, wanted)
        conn = self.gpu_cloud.conn
        for key in sorted(k for k, v in specs.items() if v is None):
            with errors.reporting("removing extra spec '%s' of flavor '%s'"
                                  % (key, flavor.name)):
                conn.compute.delete_flavor_extra_specs_property(flavor, key)
        if change.target.get('description') is not None:
            with errors.reporting("changing the description of flavor "
                                  "'%s'" % flavor.name):
                conn.compute.update_flavor(
                    flavor, description=change.target['description'])

    def _flavor_delete(self, change, flavor_id=None):
        flavor = self.gpu_cloud.find_flavor(
            flavor_id or change.target['flavor_id'], ignore_missing=True)
        if flavor is not None:
            self.gpu_cloud.delete_flavor(flavor)

    def _flavor_access_create(self, change):
        flavor = self.gpu_cloud.find_flavor(change.target['flavor_id'])
        self._add_access(flavor, self.project_ids[change.target['project']])

    def _add_access(self, flavor, project_id):
        try:
            self.gpu_cloud.add_flavor_access(flavor, project_id)
        except errors.Conflict:
            pass   # granted meanwhile (another apply): what we wanted

    def _flavor_access_delete(self, change):
        with errors.reporting("removing project '%s' from flavor '%s'" % (
                change.target['project_id'], change.target['flavor_name'])):
            try:
                self.gpu_cloud.conn.compute.flavor_remove_tenant_access(
                    change.target['flavor_id'], change.target['project_id'])
            except Exception as exc:
                if getattr(exc, 'status_code', None) != 404:
                    raise

    # -- images --------------------------------------------------------
    def _image_update(self, change):
        image = self.gpu_cloud.find_image(change.target['image_id'])
        self.gpu_cloud.set_image_properties(
            image, change.target['properties'], change.target['current'])
