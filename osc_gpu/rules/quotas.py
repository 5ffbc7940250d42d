"""GPU quotas as keystone unified limits: names, values, who enforces them.

Nova's legacy quotas cannot count GPUs. Its unified limits driver counts
any placement resource class a server claims, as the keystone limit
``class:<RESOURCE_CLASS>`` of the compute service: ``class:VGPU``,
``class:CUSTOM_PCI_10DE_1BB3`` for a P4 alias, a vGPU type's ``mdev_class``.
Operators think in aliases and vGPU types; these rules translate, and say
where nova does not enforce what keystone stores.
"""

import dataclasses
import re

from osc_gpu.rules import gpu_request
from osc_gpu.rules import preflight

LIMIT_PREFIX = 'class:'
# clouds.yaml key mapping vGPU types to their [mdev_<type>] mdev_class.
VGPU_TYPES_KEY = 'gpu_vgpu_types'
VGPU_CLASS = 'VGPU'
UNLIMITED = -1
# Every nova on unified limits needs this registered limit (with the default
# "require" strategy no server boots without it): its presence is how the
# API tells that nova uses the unified limits driver.
SERVERS_LIMIT = 'servers'
# The release whose nova counts pci_passthrough:alias GPUs against unified
# limits (bug 2140631, fixed in nova 34); resources:VGPU and other
# resources:* extra specs were counted from the driver's start (Yoga).
ALIAS_COUNTED_FROM = '2026.2 Hibiscus'
UNIFIED_LIMITS_FROM = 'Yoga'

_CLASS = re.compile(r'^(VGPU|PGPU|CUSTOM_[A-Z0-9_]{1,248})$')
_VGPU_TYPE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
_OVER = re.compile(r'Resource class:(?P<rc>[A-Z0-9_]+) is over limit of '
                   r'(?P<limit>-?\d+) due to current usage (?P<used>\d+) and '
                   r'delta (?P<delta>\d+)')


class InvalidQuota(ValueError):
    """A quota nova could not count or keystone would refuse."""


@dataclasses.dataclass(frozen=True)
class GpuResource:
    """What a GPU quota limits: by alias, vGPU type or resource class."""

    kind: str                # 'alias', 'vgpu' or 'class'
    name: str                # the alias, the vGPU type or the class
    resource_class: str

    @property
    def limit_name(self):
        """The keystone limit's resource name, e.g. class:VGPU."""
        return LIMIT_PREFIX + self.resource_class

    @property
    def key(self):
        """How the onboarding file writes it: P4, vgpu:TYPE, class:RC."""
        return {'alias': self.name, 'vgpu': 'vgpu:' + self.name,
                'class': LIMIT_PREFIX + self.name}[self.kind]

    def __str__(self):
        if self.kind == 'class':
            return self.limit_name
        return '%s (%s)' % (self.key, self.limit_name)


def split_quota_key(key):
    """``(kind, name)`` of a file's quota key: ALIAS, vgpu:TYPE, class:RC."""
    key = str(key).strip()
    if key.startswith(LIMIT_PREFIX):
        return 'class', key[len(LIMIT_PREFIX):]
    if key.startswith('vgpu:'):
        return 'vgpu', key[len('vgpu:'):]
    return 'alias', key


def check_resource_class(resource_class):
    if not _CLASS.match(resource_class or ''):
        raise InvalidQuota(
            "'%s' is not a GPU resource class: use VGPU, PGPU or a custom "
            "class CUSTOM_<A-Z0-9_> (e.g. class:CUSTOM_PCI_10DE_1BB3)"
            % resource_class)
    return resource_class


def gpu_resource(kind, name, alias_map, vgpu_types=None):
    """The :class:`GpuResource` for an alias, vGPU type or class name.

    ``vgpu_types`` maps vGPU types to their ``[mdev_<type>] mdev_class``;
    types not in it use nova's default class, VGPU.
    """
    if kind == 'class':
        return GpuResource(kind, name, check_resource_class(name))
    if kind == 'vgpu':
        if not _VGPU_TYPE.match(name or ''):
            raise InvalidQuota(
                "invalid vGPU type '%s': use the mdev type name, e.g. "
                "vgpu:nvidia-36" % name)
        # openstacksdk rewrites '-' as '_' in clouds.yaml keys.
        declared = vgpu_types or {}
        rc = (declared.get(name) or declared.get(name.replace('-', '_'))
              or VGPU_CLASS)
        return GpuResource(kind, name, check_resource_class(rc))
    return GpuResource(kind, name, _alias_class(name, alias_map))


def _alias_class(alias, alias_map):
    try:
        gpu_request.parse_gpu_request('%s:1' % alias)
    except gpu_request.InvalidGpuRequest:
        raise InvalidQuota(
            "invalid GPU alias '%s': a [pci] alias name has no ':', ',' or "
            "spaces (for a vGPU type write vgpu:TYPE, for a class "
            "class:RESOURCE_CLASS)" % alias) from None
    classes = alias_map.resource_classes(alias)
    if not classes:
        raise InvalidQuota(
            "GPU alias '%s' has no known resource class: declare it under "
            "gpu_aliases in clouds.yaml (e.g. %s: \"10de:1bb3\"), or limit "
            "its class directly (class:CUSTOM_...)" % (alias, alias))
    if len(classes) > 1:
        raise InvalidQuota(
            "GPU alias '%s' stands for %d resource classes (%s), which "
            "keystone limits one by one: give each its own limit as "
            "class:<RESOURCE_CLASS>" % (alias, len(classes),
                                        ', '.join(classes)))
    return classes[0]


def parse_limit(value):
    """A limit as keystone stores it: a whole number, -1 for unlimited."""
    if isinstance(value, str) and value.strip().lower() == 'unlimited':
        return UNLIMITED
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidQuota("invalid limit '%s': use a whole number of GPUs, "
                           "or -1 (unlimited)" % (value,))
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < UNLIMITED:
        raise InvalidQuota("invalid limit '%s': use a whole number of GPUs, "
                           "or -1 (unlimited)" % (value,))
    return number


def show_limit(value):
    if value is None:
        return 'unset'
    return 'unlimited' if value == UNLIMITED else str(value)


def class_of_limit(resource_name):
    """The resource class a keystone limit names, or None."""
    if resource_name and resource_name.startswith(LIMIT_PREFIX):
        return resource_name[len(LIMIT_PREFIX):]
    return None


def is_gpu_class(resource_class):
    """Classes GPUs are counted in: VGPU, PGPU and every custom class."""
    return bool(resource_class) and (
        resource_class in (VGPU_CLASS, 'PGPU')
        or resource_class.startswith('CUSTOM_'))


def effective_limit(project_limit, default_limit):
    """``(limit, source)``: the project's own limit, else the default."""
    if project_limit is not None:
        return project_limit, 'project'
    if default_limit is not None:
        return default_limit, 'default'
    return None, 'unset'


def enforcement_gaps(release, resources, nova_uses_unified_limits):
    """Lines saying where nova would not enforce limits on ``resources``."""
    if not nova_uses_unified_limits:
        return ["nova does not use unified limits (no registered limit "
                "'%s' for the compute service): keystone stores GPU limits "
                "but nothing enforces them until nova.conf has [quota] "
                "driver = nova.quota.UnifiedLimitsDriver" % SERVERS_LIMIT]
    aliases = sorted({r.name for r in resources if r.kind == 'alias'})
    if aliases and release is not None and \
            not release.at_least(ALIAS_COUNTED_FROM):
        return ['%s does not count pci_passthrough:alias GPUs (%s) against '
                'unified limits; %s (nova 34) and later do' % (
                    release, ', '.join(aliases), ALIAS_COUNTED_FROM)]
    return []


def deltas_of_requests(requests, alias_map):
    """``({resource_class: count}, unknown aliases)`` a flavor asks for."""
    deltas, unknown = {}, []
    for request in requests:
        classes = alias_map.resource_classes(request.alias)
        if len(classes) != 1:
            unknown.append(request.alias)
            continue
        deltas[classes[0]] = deltas.get(classes[0], 0) + request.count
    return deltas, unknown


@dataclasses.dataclass(frozen=True)
class OverQuota:
    resource_class: str
    names: tuple           # aliases that claim the class
    limit: int
    used: int
    asked: int

    def __str__(self):
        label = 'class:' + self.resource_class
        if self.names:
            label = '%s (%s)' % ('/'.join(self.names), label)
        return '%s: limit %d, in use %d, asked %d' % (
            label, self.limit, self.used, self.asked)


def over_quota(deltas, limits, usages, alias_map):
    """:class:`OverQuota` for each class ``deltas`` would push over its
    limit. ``limits`` is ``{class: effective limit}`` (missing or -1:
    unlimited), ``usages`` placement's ``{class: used}``."""
    found = []
    for rc, asked in sorted(deltas.items()):
        limit = limits.get(rc)
        if limit is None or limit == UNLIMITED:
            continue
        used = usages.get(rc, 0)
        if used + asked > limit:
            found.append(OverQuota(rc, tuple(alias_map.aliases_of(rc)),
                                   limit, used, asked))
    return found


def explain_over_limit(message, alias_map):
    """Nova's 403 "over a limit for [Resource class:CUSTOM_...]" with the
    classes named as aliases, or ``message`` unchanged."""
    found = [m for m in _OVER.finditer(message or '')
             if int(m.group('used')) + int(m.group('delta'))
             > int(m.group('limit'))]
    gpu = [m for m in found if is_gpu_class(m.group('rc'))]
    if not gpu:
        return message
    parts = [str(OverQuota(m.group('rc'),
                           tuple(alias_map.aliases_of(m.group('rc'))),
                           int(m.group('limit')), int(m.group('used')),
                           int(m.group('delta')))) for m in gpu]
    return ('GPU quota exceeded: %s (nova refused: raise the limit with '
            "'openstack gpu quota set PROJECT --alias ALIAS --limit N', or "
            'delete servers holding these GPUs; servers in ERROR count too)'
            % '; '.join(parts))


class OverQuotaError(preflight.PreflightError):
    """The boot would take the project over a GPU limit."""


def check_gpu_quota(result, flavor_name, project, requests, alias_map,
                    limits, usages):
    """Refuse a boot that would go over the project's GPU limits.

    ``limits`` is ``{class: effective limit}``, ``usages`` placement's
    ``{class: used}`` for ``project``; ``result`` (a Preflight) collects
    notes about what could not be checked.
    """
    deltas, unknown = deltas_of_requests(requests, alias_map)
    if unknown:
        result.notes.append(
            'GPU quota of alias %s not checked: its resource class is not '
            'known (declare it under gpu_aliases in clouds.yaml)'
            % ', '.join(unknown))
    over = over_quota(deltas, limits, usages, alias_map)
    if over:
        raise OverQuotaError(
            "flavor '%s' would take project '%s' over its GPU quota: %s "
            "(raise it with 'openstack gpu quota set %s --alias ALIAS "
            "--limit N', or delete servers that hold these GPUs)" % (
                flavor_name, project, '; '.join(str(o) for o in over),
                project))
