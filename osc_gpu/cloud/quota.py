"""A project's GPU quota: its limits (keystone) and usage (placement).

Nova's unified limits driver counts usage with placement's
``GET /usages?project_id=`` at microversion 1.9, which includes PCI and
vGPU classes; these reads do the same, so ``gpu quota show`` and the
``gpu server create`` preflight see the numbers nova decides with.
"""

import dataclasses

from openstack import exceptions as sdk_exceptions

from osc_gpu.cloud import errors
from osc_gpu.cloud import identity
from osc_gpu.rules import quotas

USAGES_MICROVERSION = '1.9'


@dataclasses.dataclass
class GpuLimits:
    """Nova's GPU limits in keystone, read once for one or all projects."""

    scope: identity.LimitScope
    defaults: dict           # {class: default limit}
    project: dict            # {(project_id, class): limit}
    nova_uses_unified_limits: bool

    def effective(self, project_id, resource_class):
        """``(limit, source)`` for the project: its own, else default."""
        return quotas.effective_limit(
            self.project.get((project_id, resource_class)),
            self.defaults.get(resource_class))

    def classes(self, project_id=None):
        """GPU classes with a default or (the project's) own limit."""
        found = set(self.defaults)
        found.update(rc for (pid, rc) in self.project
                     if project_id in (None, pid))
        return sorted(found)


def gpu_limits(gpu_cloud, project_id=None):
    """Read nova's registered and project limits on GPU classes."""
    scope = identity.nova_scope(gpu_cloud)
    registered = identity.registered_limits(gpu_cloud, scope)
    limits = identity.project_limits(gpu_cloud, scope, project_id)
    defaults = {quotas.class_of_limit(name): r.default_limit
                for name, r in registered.items()
                if quotas.is_gpu_class(quotas.class_of_limit(name))}
    project = {(pid, quotas.class_of_limit(name)): lim.resource_limit
               for (pid, name), lim in limits.items()
               if quotas.is_gpu_class(quotas.class_of_limit(name))}
    return GpuLimits(scope, defaults, project,
                     quotas.SERVERS_LIMIT in registered)


def usages(gpu_cloud, project_id):
    """Placement's ``{class: used}`` for the project, as nova counts it."""
    conn = gpu_cloud.conn
    with errors.reporting("reading the usage of project '%s' (placement)"
                          % project_id):
        response = conn.placement.get(
            '/usages', params={'project_id': project_id},
            microversion=USAGES_MICROVERSION,
            headers={'Accept': 'application/json'})
        sdk_exceptions.raise_from_response(response)
        return dict(response.json().get('usages', {}))


def current_project_id(gpu_cloud):
    return gpu_cloud.conn.current_project_id


def check_gpu_quota(gpu_cloud, checks, flavor):
    """Preflight: refuse a boot over the project's GPU limits.

    Limits that cannot be read (a policy, no compute in the catalog) only
    add a note: nova checks again where it enforces limits.
    """
    alias_map = gpu_cloud.alias_map()
    deltas, _ = quotas.deltas_of_requests(checks.requests, alias_map)
    if not deltas:
        # Only aliases whose class is unknown: the rule says so in a note.
        return quotas.check_gpu_quota(checks, flavor.name, '',
                                      checks.requests, alias_map, {}, {})
    project_id = current_project_id(gpu_cloud)
    try:
        limits = gpu_limits(gpu_cloud, project_id)
        limited = {rc: limits.effective(project_id, rc)[0] for rc in deltas}
        if all(v is None or v == quotas.UNLIMITED for v in limited.values()):
            used = {}
        else:
            used = usages(gpu_cloud, project_id)
    except errors.CloudError as exc:
        if not _unreadable_by_design(exc):
            raise
        checks.notes.append('GPU quota not checked: %s' % exc)
        return None
    project = gpu_cloud.conn.current_project.get('name') or project_id
    return quotas.check_gpu_quota(checks, flavor.name, project,
                                  checks.requests, alias_map,
                                  {rc: v for rc, v in limited.items()
                                   if v is not None}, used)


def _unreadable_by_design(error):
    """A policy refusal (4xx) or no such service in the catalog: nova
    checks again where it enforces limits. A failing cloud (5xx, a lost
    answer) stops the command like any other read, before anything is
    made."""
    from keystoneauth1 import exceptions as ksa_exc
    return error.refused or isinstance(error.__cause__,
                                       ksa_exc.EndpointNotFound)


def explain_refusal(message, gpu_cloud):
    """Nova's over-limit 403 with GPU classes named as aliases."""
    try:
        alias_map = gpu_cloud.alias_map()
    except errors.CloudError:
        return message
    return quotas.explain_over_limit(message, alias_map)
