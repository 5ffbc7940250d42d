"""Checks before a vGPU server is created: a GPU of the type with a free vGPU.

Pure. nova would only say "No valid host" for a flavor whose type trait
no GPU carries (nova tags none: the operator does, with ``openstack gpu
vgpu type set``), whose vGPUs must each come from another GPU
(``group_policy=isolate``) on a host with fewer such GPUs, or whose GPUs
are all in use. Each is one line here, before anything is created.

The checks never refuse a boot placement could place: a group's vGPUs
come from one GPU of its class carrying its traits (in the unnumbered
group a trait may also sit on the compute root); with isolate, groups
are matched to distinct GPUs exactly; otherwise only what no placement
could do is refused.
"""

import dataclasses

from osc_gpu.rules import gpu_request
from osc_gpu.rules import preflight
from osc_gpu.rules import vgpu
from osc_gpu.rules import vgpu_capacity


@dataclasses.dataclass
class VgpuPreflight(preflight.Preflight):
    """A preflight whose ``requests`` are the flavor's vGPU groups
    (:class:`vgpu.VgpuGroup`, shown as ``VGPU:1 CUSTOM_NVIDIA_12``)."""

    vgpus: vgpu.FlavorVgpus = None


def vgpu_checks(flavor_name, extra_specs, vgpu_classes, image_props,
                release):
    """A :class:`VgpuPreflight` when the flavor asks for vGPUs (and no
    PCI alias, which the GPU preflight checks), else None.

    vGPU guest drivers run with the hypervisor visible: nothing is
    refused for it, ``hidden_by`` only says what hides it, if anything.
    """
    specs = extra_specs or {}
    found = vgpu.vgpus_of(specs, vgpu_classes)
    if found is None or gpu_request.ALIAS_SPEC_KEY in specs:
        return None
    checks = VgpuPreflight(found.groups, vgpus=found)
    checks.hidden_by = preflight.hiding_source(specs, image_props or {},
                                               release)[0]
    return checks


def _fits(group, gpu):
    traits = set(gpu.traits)
    if not group.group:
        traits |= set(gpu.host_traits)
    return gpu.resource_class == group.resource_class and \
        set(group.traits) <= traits


def _matching(group, gpus):
    return [g for g in gpus if _fits(group, g)]


def _isolated_fit(groups, gpus, free=True):
    """Whether each group gets a GPU of its own (a matching, exact)."""
    taken = {}

    def place(index, seen):
        for gpu in gpus:
            if gpu.uuid in seen or not _fits(groups[index], gpu) or (
                    free and gpu.free < groups[index].count):
                continue
            seen.add(gpu.uuid)
            if gpu.uuid not in taken or place(taken[gpu.uuid], seen):
                taken[gpu.uuid] = index
                return True
        return False
    return all(place(i, set()) for i in range(len(groups)))


def _host_fits(vgpus, gpus):
    """Whether placement could put the flavor's vGPUs on these GPUs (one
    host's). For groups that may share a GPU only what surely cannot fit
    is refused: a group with no GPU of its own free enough, or fewer free
    vGPUs in all than asked for."""
    if vgpus.isolated:
        return _isolated_fit(list(vgpus.numbered), gpus) and all(
            any(g.free >= group.count for g in _matching(group, gpus))
            for group in vgpus.groups if not group.group)
    free = sum(g.free for g in gpus
               if any(_fits(group, g) for group in vgpus.groups))
    return free >= vgpus.total and all(
        any(g.free >= group.count for g in _matching(group, gpus))
        for group in vgpus.groups)


def _by_host(gpus):
    hosts = {}
    for gpu in gpus:
        hosts.setdefault(gpu.host, []).append(gpu)
    return hosts


def check_vgpu_capacity(result, flavor_name, gpus):
    """Refuse when no host has GPUs of the flavor's type with free vGPUs.

    ``gpus`` are ``vgpu_capacity.VgpuGpu`` from placement, or a string
    saying why placement could not be read (then only a note).
    """
    if isinstance(gpus, str):
        result.notes.append('vGPU capacity not checked: %s' % gpus)
        return
    vgpus = result.vgpus
    for group in vgpus.groups:
        if not _matching(group, gpus):
            raise preflight.PreflightError(
                _untagged(flavor_name, group, gpus))
    hosts = _by_host(gpus)
    if vgpus.isolated and not any(
            _isolated_fit(list(vgpus.numbered), host_gpus, free=False)
            for host_gpus in hosts.values()):
        raise preflight.PreflightError(_too_few_gpus(flavor_name, vgpus,
                                                     hosts))
    if not any(_host_fits(vgpus, host_gpus) for host_gpus in hosts.values()):
        raise preflight.PreflightError(_none_free(flavor_name, vgpus, hosts))


def _shown_gpus(gpus, limit=4):
    shown = ['%s (%s)' % (vgpu_capacity.shown(g),
                          ', '.join(g.type_traits) or 'untagged')
             for g in gpus[:limit]]
    more = len(gpus) - limit
    return ', '.join(shown) + (' and %d more' % more if more > 0 else '')


def _untagged(flavor_name, group, gpus):
    of_class = [g for g in gpus if g.resource_class == group.resource_class]
    if not of_class:
        return ("flavor '%s' asks for vGPUs of class %s, which no GPU in "
                'placement offers: enable the type in [devices] '
                "enabled_mdev_types (and [mdev_<type>] mdev_class) on the "
                "vGPU computes, see 'openstack gpu host check --nova-conf'"
                % (flavor_name, group.resource_class))
    missing = [t for t in group.traits
               if not any(t in g.traits or (not group.group
                                            and t in g.host_traits)
                          for g in of_class)]
    custom = [t for t in missing if t.startswith(vgpu.CUSTOM_PREFIX)]
    trait = (custom or missing or list(group.traits))[0]
    fix = ("tag the GPUs that run it with 'openstack gpu vgpu type set "
           "--host HOST --address ADDRESS %s'" % vgpu.type_of_trait(trait)
           if custom else 'fix the flavor')
    return ("no GPU offering %s vGPUs carries %s, which flavor '%s' "
            "requires: %s (GPUs: %s)" % (group.resource_class, trait,
                                         flavor_name, fix,
                                         _shown_gpus(of_class)))


def _too_few_gpus(flavor_name, vgpus, hosts):
    most = max(hosts.items(), key=lambda item: sum(
        1 for g in item[1] if any(_fits(group, g)
                                  for group in vgpus.numbered)))
    count = sum(1 for g in most[1]
                if any(_fits(group, g) for group in vgpus.numbered))
    return ("flavor '%s' asks for %d vGPUs (%s), each from another physical "
            "GPU (group_policy=isolate, as NVIDIA needs), but no host has "
            "%d such GPUs: at most %d (%s); ask for fewer vGPUs per server, "
            "or tag more GPUs with the type ('openstack gpu vgpu type set')"
            % (flavor_name, len(vgpus.numbered), vgpus, len(vgpus.numbered),
               count, most[0]))


def _none_free(flavor_name, vgpus, hosts):
    counts = []
    for host, host_gpus in sorted(hosts.items()):
        fitting = [g for g in host_gpus
                   if any(_fits(group, g) for group in vgpus.groups)]
        if not fitting:
            continue
        counts.append('%s %d%s' % (
            host, sum(g.free for g in fitting),
            ' (disabled)' if any(g.disabled for g in fitting) else ''))
    return ("no host has free vGPUs for flavor '%s' (%s): free per host: %s "
            "(wait for vGPUs to be released, or enable or tag more GPUs; "
            "see 'openstack gpu capacity --type TYPE')"
            % (flavor_name, vgpus, ', '.join(counts) or 'none'))
