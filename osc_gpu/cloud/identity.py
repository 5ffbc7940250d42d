"""Keystone for GPU onboarding: projects, and nova's unified limits.

Limits belong to a service and a region: nova's are the compute service's
in the region of the compute endpoint this connection uses (a limit in no
region is invisible to nova). Both come from the token's catalog, which
any user can read, not from ``GET /v3/services``, which needs an admin.
Every call goes through the SDK's identity proxy (openstacksdk 4.x:
``limits()``, ``create_limit()``, ``registered_limits()``...).
"""

import dataclasses

from osc_gpu.cloud import errors


@dataclasses.dataclass(frozen=True)
class LimitScope:
    """Where nova reads its limits: the compute service and region ids."""

    service_id: str
    region_id: str


def nova_scope(gpu_cloud):
    """The compute service id and region, from the token's catalog."""
    conn = gpu_cloud.conn
    region = conn.config.region_name
    with errors.reporting('reading the service catalog'):
        catalog = conn.session.auth.get_access(
            conn.session).service_catalog.catalog
    for service in catalog:
        if service.get('type') != 'compute':
            continue
        regions = {e.get('region_id') or e.get('region')
                   for e in service.get('endpoints', ())}
        if region and region not in regions:
            continue
        return LimitScope(service['id'], region or sorted(regions)[0])
    raise errors.CloudError(
        'the service catalog has no compute service%s: GPU limits are '
        "nova's and need it" % (" in region '%s'" % region if region else ''))


# -- projects ----------------------------------------------------------

def domain_id(gpu_cloud, name):
    """The id of the domain ``name`` (or id), or None when there is none."""
    with errors.reporting("looking up domain '%s'" % name):
        domain = gpu_cloud.conn.identity.find_domain(name,
                                                     ignore_missing=True)
    return domain.id if domain is not None else None


def projects_in(gpu_cloud, domain):
    """``{name: Project}`` of every project in the domain (one request)."""
    with errors.reporting("listing the projects of domain '%s'" % domain):
        return {p.name: p for p in gpu_cloud.conn.identity.projects(
            domain_id=domain)}


def project_names(gpu_cloud):
    """``{id: name}`` of the projects the caller may list; ``{}`` when it
    may list none (a member): ids will do then."""
    try:
        with errors.reporting('listing projects'):
            return {p.id: p.name for p in gpu_cloud.conn.identity.projects()}
    except errors.CloudError:
        return {}


def projects_tagged(gpu_cloud, tag):
    with errors.reporting("listing projects tagged '%s'" % tag):
        return list(gpu_cloud.conn.identity.projects(tags=tag))


def find_project(gpu_cloud, name, domain):
    with errors.reporting("looking up project '%s'" % name):
        return gpu_cloud.conn.identity.find_project(
            name, domain_id=domain, ignore_missing=True)


def create_project(gpu_cloud, name, domain, description, enabled, tags):
    with errors.reporting("creating project '%s'" % name):
        return gpu_cloud.conn.identity.create_project(
            name=name, domain_id=domain, description=description or '',
            is_enabled=enabled, tags=list(tags))


def update_project(gpu_cloud, project, **attrs):
    with errors.reporting("updating project '%s'" % project.name):
        return gpu_cloud.conn.identity.update_project(project, **attrs)


def delete_project(gpu_cloud, project):
    with errors.reporting("deleting project '%s'" % project.name):
        gpu_cloud.conn.identity.delete_project(project.id,
                                               ignore_missing=True)


def project_server_count(gpu_cloud, project_id):
    """Servers in a project (admin): a project with some is not pruned."""
    with errors.reporting("listing the servers of project '%s'"
                          % project_id):
        return len(list(gpu_cloud.conn.compute.servers(
            all_projects=True, project_id=project_id)))


# -- limits ------------------------------------------------------------

def registered_limits(gpu_cloud, scope, resource_name=None):
    """``{resource_name: RegisteredLimit}`` of nova in its region."""
    query = {'service_id': scope.service_id, 'region_id': scope.region_id}
    if resource_name:
        query['resource_name'] = resource_name
    with errors.reporting('reading registered limits (keystone)'):
        return {r.resource_name: r
                for r in gpu_cloud.conn.identity.registered_limits(**query)}


def project_limits(gpu_cloud, scope, project_id=None, resource_name=None):
    """``{(project_id, resource_name): Limit}`` of nova in its region.

    An admin sees every project's; any other user only its own project's.
    """
    query = {'service_id': scope.service_id, 'region_id': scope.region_id}
    if project_id:
        query['project_id'] = project_id
    if resource_name:
        query['resource_name'] = resource_name
    with errors.reporting('reading project limits (keystone)'):
        return {(lim.project_id, lim.resource_name): lim
                for lim in gpu_cloud.conn.identity.limits(**query)
                if lim.project_id}


def create_registered_limit(gpu_cloud, scope, resource_name, default,
                            description):
    with errors.reporting("registering a default limit for '%s'"
                          % resource_name):
        return gpu_cloud.conn.identity.create_registered_limit(
            service_id=scope.service_id, region_id=scope.region_id,
            resource_name=resource_name, default_limit=default,
            description=description)


def update_registered_limit(gpu_cloud, registered, default):
    with errors.reporting("changing the default limit of '%s'"
                          % registered.resource_name):
        return gpu_cloud.conn.identity.update_registered_limit(
            registered.id, default_limit=default)


def delete_registered_limit(gpu_cloud, registered):
    with errors.reporting("deleting the default limit of '%s'"
                          % registered.resource_name):
        gpu_cloud.conn.identity.delete_registered_limit(
            registered.id, ignore_missing=True)


def create_limit(gpu_cloud, scope, project_id, resource_name, value,
                 description):
    with errors.reporting("setting limit '%s' of project '%s'"
                          % (resource_name, project_id)):
        return gpu_cloud.conn.identity.create_limit(
            service_id=scope.service_id, region_id=scope.region_id,
            project_id=project_id, resource_name=resource_name,
            resource_limit=value, description=description)


def update_limit(gpu_cloud, limit, value):
    with errors.reporting("changing limit '%s' of project '%s'"
                          % (limit.resource_name, limit.project_id)):
        return gpu_cloud.conn.identity.update_limit(limit.id,
                                                    resource_limit=value)


def delete_limit(gpu_cloud, limit):
    with errors.reporting("deleting limit '%s' of project '%s'"
                          % (limit.resource_name, limit.project_id)):
        gpu_cloud.conn.identity.delete_limit(limit.id, ignore_missing=True)


def set_project_limit(gpu_cloud, scope, project_id, resource_name, value,
                      description):
    """Create or change a project limit, whoever races us to it.

    Keystone refuses a project limit without a registered limit for the
    same resource; one is registered first, at -1 (unlimited: what nova
    does with an unregistered class). Returns ``(limit, registered)``,
    ``registered`` True when that was needed.
    """
    registered = False
    if not registered_limits(gpu_cloud, scope, resource_name):
        try:
            create_registered_limit(gpu_cloud, scope, resource_name, -1,
                                    description)
            registered = True
        except errors.Conflict:
            pass   # registered meanwhile by someone else: fine
    existing = project_limits(gpu_cloud, scope, project_id,
                              resource_name).get((project_id, resource_name))
    if existing is None:
        try:
            return create_limit(gpu_cloud, scope, project_id, resource_name,
                                value, description), registered
        except errors.Conflict:
            existing = project_limits(gpu_cloud, scope, project_id,
                                      resource_name)[(project_id,
                                                      resource_name)]
    if existing.resource_limit != value:
        existing = update_limit(gpu_cloud, existing, value)
    return existing, registered
