"""Checks made before a GPU server is created, so it fails now, not later.

Each rule turns what nova would only report as "No valid host" or a
guest driver error minutes later into one line with its fix. The rules are
pure: the command gathers flavor, image, release and capacity, and these
functions decide.
"""

import dataclasses

from osc_gpu.rules import gpu_request
from osc_gpu.rules import hiding


class PreflightError(ValueError):
    """The server would not work: the message says why and how to fix it."""


@dataclasses.dataclass
class Preflight:
    requests: tuple
    hidden_by: str = ''          # e.g. "flavor hw:hide_hypervisor_id"
    needs_image_prepare: bool = False
    notes: list = dataclasses.field(default_factory=list)


def gpu_requests_of(flavor_name, extra_specs):
    """The flavor's GPU requests; refuses a flavor that asks for none."""
    try:
        requests = gpu_request.requests_from_extra_specs(extra_specs)
    except gpu_request.InvalidGpuRequest as exc:
        raise PreflightError(
            "flavor '%s' has a broken %s: %s (recreate it with 'openstack "
            "gpu flavor create')" % (flavor_name, gpu_request.ALIAS_SPEC_KEY,
                                     exc)) from None
    if not requests:
        raise PreflightError(
            "flavor '%s' requests no GPU (no %s): create one with 'openstack "
            "gpu flavor create NAME --gpu ALIAS:COUNT'"
            % (flavor_name, gpu_request.ALIAS_SPEC_KEY))
    return requests


def hiding_source(extra_specs, image_props, release):
    """``(source, ignored)`` as text: what hides the hypervisor on
    ``release`` (e.g. ``flavor hw:hide_hypervisor_id``, '' for nothing),
    and the places set that this release does not honour yet."""
    place, ignored = hiding.hiding_source(extra_specs, image_props, release)
    return (str(place) if place else '',
            ['%s (honoured from %s on)' % (p, p.since) for p in ignored])


def check_hiding(result, flavor, image_name, image_props, release,
                 prepare_image, visible_ok):
    source, ignored = hiding_source(flavor.extra_specs, image_props, release)
    result.hidden_by = source
    if source or visible_ok:
        return
    image_place = hiding.BY_KEY[hiding.IMAGE_KEY]
    if not hiding.honoured(image_place, release):
        raise PreflightError(
            '%s cannot hide the hypervisor through nova (%s arrived in %s): '
            'add %s to the domain XML on the compute by hand, then pass '
            '--visible-hypervisor' % (release, image_place.key,
                                      image_place.since,
                                      hiding.KVM_HIDDEN_XML))
    if prepare_image:
        result.needs_image_prepare = True
        result.hidden_by = str(image_place)
        return
    why = (' (%s %s ignored on %s)' % ('is' if len(ignored) == 1 else 'are',
                                       ', '.join(ignored), release)
           if ignored else '')
    raise PreflightError(
        "image '%s' does not hide the hypervisor%s: run 'openstack gpu image "
        "prepare %s' or pass --prepare-image (or --visible-hypervisor for "
        "GPUs whose drivers do not mind)" % (image_name, why, image_name))


def check_capacity(result, flavor_name, alias_map, free_by_class_and_host):
    """Refuse when no single host has every requested GPU free.

    ``free_by_class_and_host`` is ``{resource_class: {host: free}}`` from
    placement, or None when the cloud does not report PCI devices there.
    """
    if free_by_class_and_host is None:
        result.notes.append(
            'GPU capacity not checked: this cloud does not report PCI '
            'devices to placement ([pci] report_in_placement)')
        return
    free_per_request = []
    for request in result.requests:
        classes = alias_map.resource_classes(request.alias)
        if not classes:
            if alias_map.is_declared:
                raise PreflightError(
                    "GPU alias '%s' of flavor '%s' is not one of this cloud's "
                    "aliases (%s, from clouds.yaml gpu_aliases): fix the "
                    "flavor, or add the alias to nova's [pci] alias and to "
                    "clouds.yaml" % (request.alias, flavor_name,
                                     ', '.join(sorted(alias_map.declared))))
            result.notes.append(
                "GPU capacity for alias '%s' not checked: its PCI ids are "
                "unknown (declare it under gpu_aliases in clouds.yaml)"
                % request.alias)
            return
        free = {}
        for rc in classes:
            for host, count in free_by_class_and_host.get(rc, {}).items():
                free[host] = free.get(host, 0) + count
        free_per_request.append((request, free))
    hosts = set.union(set(), *(set(f) for _, f in free_per_request))
    if any(all(free.get(h, 0) >= r.count for r, free in free_per_request)
           for h in hosts):
        return
    raise PreflightError(
        "not enough free GPUs for flavor '%s' (%s) on any one host: %s "
        "(wait for GPUs to be released, or ask for fewer)" % (
            flavor_name, gpu_request.render_alias_spec(result.requests),
            '; '.join(_free_counts(r, free) for r, free in free_per_request)))


def _free_counts(request, free):
    counts = ', '.join('%s %d' % (h, n) for h, n in sorted(free.items()))
    return 'free %s per host: %s' % (request.alias, counts or 'none anywhere')
