"""Checks made before a GPU server is created, so it fails now, not later.

Each rule turns what nova would only report as "No valid host" or a
guest driver error minutes later into one line with its fix. The rules are
pure: the command gathers flavor, image, release and capacity, and these
functions decide.
"""

import dataclasses

from osc_gpu.rules import echo
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

    def __post_init__(self):
        # What reading the flavor noticed (see gpu_requests_of).
        self.notes[:0] = getattr(self.requests, 'notes', ())


class FlavorRequests(tuple):
    """A flavor's GPU requests and the notes reading them gave."""

    notes = ()


def gpu_requests_of(flavor_name, extra_specs):
    """The GPUs a server of this flavor gets, read as nova boots it.

    Never refuses a flavor nova boots (``P4:65``, ``P4:1,P4:1``, `` P4 :1``
    are read as nova reads them, with a note where it looks like a slip);
    refuses one nova cannot boot, and one that asks for no GPU at all.
    The stricter rules of ``gpu flavor create`` apply to new flavors only.
    """
    key = gpu_request.ALIAS_SPEC_KEY
    value = (extra_specs or {}).get(key)
    if value is None:
        raise PreflightError(
            "flavor '%s' requests no GPU (no %s): create one with 'openstack "
            "gpu flavor create NAME --gpu ALIAS:COUNT'" % (flavor_name, key))
    try:
        requests, notes = gpu_request.read_alias_spec(value)
    except gpu_request.InvalidGpuRequest as exc:
        raise PreflightError(
            "flavor '%s' has a broken %s (recreate it with 'openstack gpu "
            "flavor create')" % (flavor_name, exc)) from None
    if not requests:
        raise PreflightError(
            "flavor '%s' requests no GPU (%s %s asks for none): create one "
            "with 'openstack gpu flavor create NAME --gpu ALIAS:COUNT'"
            % (flavor_name, key, echo.quoted(value)))
    result = FlavorRequests(requests)
    result.notes = tuple("flavor '%s': %s" % (flavor_name, n) for n in notes)
    return result


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


def check_aliases(flavor_name, alias_map, requests):
    """Refuse an alias that is not among those clouds.yaml declares."""
    unknown = alias_map.undeclared([r.alias for r in requests]) \
        if alias_map.is_declared else []
    if unknown:
        raise PreflightError(
            "GPU alias '%s' of flavor '%s' is not one of this cloud's "
            "aliases (%s, from clouds.yaml gpu_aliases): fix the flavor, or "
            "add the alias to nova's [pci] alias and to clouds.yaml"
            % (unknown[0], flavor_name, ', '.join(sorted(alias_map.declared))))


def check_capacity(result, flavor_name, alias_map, availability,
                   disabled_reasons=None):
    """Refuse when no single enabled host has every requested GPU free.

    ``availability`` is a ``capacity.Availability`` from placement, or
    None when the cloud does not report PCI devices there.
    ``disabled_reasons(hosts)`` gives ``{host: reason}`` (None: unknown)
    and is called only for a refusal that names disabled computes.
    """
    check_aliases(flavor_name, alias_map, result.requests)
    if availability is None:
        result.notes.append(
            'GPU capacity not checked: this cloud does not report PCI '
            'devices to placement ([pci] report_in_placement)')
        return
    free_per_request = []
    for request in result.requests:
        classes = alias_map.resource_classes(request.alias)
        if not classes:
            result.notes.append(
                "GPU capacity for alias '%s' not checked: its PCI ids are "
                "unknown (declare it under gpu_aliases in clouds.yaml)"
                % request.alias)
            return
        free = {}
        for rc in classes:
            for host, count in availability.free.get(rc, {}).items():
                free[host] = free.get(host, 0) + count
        free_per_request.append((request, free, classes))
    hosts = set.union(set(), *(set(f) for _, f, _ in free_per_request))
    if any(all(free.get(h, 0) >= r.count for r, free, _ in free_per_request)
           for h in hosts):
        return
    raise PreflightError(_not_enough(result, flavor_name, availability,
                                     free_per_request, disabled_reasons))


def _not_enough(result, flavor_name, availability, free_per_request,
                disabled_reasons):
    disabled = availability.disabled
    counts = '; '.join(_free_counts(r, free, disabled)
                       for r, free, _ in free_per_request)
    # Disabled computes that hold free GPUs of the classes asked for.
    holding = sorted({h for _, _, classes in free_per_request
                      for h, held in disabled.items()
                      if any(held.get(rc, 0) for rc in classes)})
    fix = 'wait for GPUs to be released, or ask for fewer'
    if holding:
        reasons = disabled_reasons(holding) if disabled_reasons else {}
        counts += '; nova-compute is disabled on %s' % ', '.join(
            '%s (%s)' % (h, _reason(reasons.get(h))) for h in holding)
        fix = ("wait for GPUs to be released, ask for fewer, or enable "
               "the compute: 'openstack compute service set --enable %s "
               "nova-compute'" % (holding[0] if len(holding) == 1
                                  else 'HOST'))
    return ("not enough free GPUs for flavor '%s' (%s) on any one host: %s "
            "(%s)" % (flavor_name,
                      gpu_request.render_alias_spec(result.requests),
                      counts, fix))


def _reason(reason):
    if reason is None:
        return 'reason unknown'
    return "'%s'" % reason if reason else 'no reason given'


def _free_counts(request, free, disabled=()):
    counts = ', '.join(
        '%s %d%s' % (h, n, ' (disabled)' if h in disabled else '')
        for h, n in sorted(free.items()))
    return 'free %s per host: %s' % (request.alias, counts or 'none anywhere')
