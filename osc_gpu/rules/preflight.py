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
    # How many servers of the flavor the hosts have room for (None: not
    # known, placement has no PCI data or an alias's classes are unknown).
    room: int = None

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


# How to make each kind of boot disk hide the hypervisor, and whether
# --prepare-image can do it on the way.
_DISK_FIXES = {
    'image': ("run 'openstack gpu image prepare %(name)s' or pass "
              "--prepare-image", True),
    'volume': ("run 'openstack volume set --image-property "
               "img_hide_hypervisor_id=true %(name)s' or pass "
               "--prepare-image", True),
    'snapshot': ("boot with a flavor that hides it ('openstack gpu flavor "
                 "create' does by default), or snapshot the volume again "
                 "after 'openstack volume set --image-property "
                 "img_hide_hypervisor_id=true %(via)s'", False),
}


def check_hiding(result, flavor, image_name, image_props, release,
                 prepare_image, visible_ok, kind='image', via=''):
    """Refuse a boot whose guest would see KVM, with the fix.

    ``image_name`` names the boot disk: an image, or with ``kind``
    'volume' or 'snapshot' a cinder volume or snapshot, whose image
    properties (``volume_image_metadata``; a snapshot's are read from its
    volume ``via``) are ``image_props``, None when they cannot be read.
    """
    source, ignored = hiding_source(flavor.extra_specs, image_props or {},
                                    release)
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
    fix, preparable = _DISK_FIXES[kind]
    fix = fix % {'name': image_name, 'via': via or 'VOLUME'}
    if prepare_image and preparable:
        result.needs_image_prepare = True
        result.hidden_by = str(image_place)
        return
    if prepare_image:
        raise PreflightError(
            "--prepare-image cannot change %s '%s': cinder keeps the image "
            "metadata it copied when the snapshot was taken: %s"
            % (kind, image_name, fix))
    raise PreflightError(_not_hidden(kind, image_name, image_props, ignored,
                                     release, via, fix))


def _not_hidden(kind, name, props, ignored, release, via, fix):
    why = (' (%s %s ignored on %s)' % ('is' if len(ignored) == 1 else 'are',
                                       ', '.join(ignored), release)
           if ignored else '')
    if props is None:
        why = " as far as can be told (its volume '%s' is gone)" % via
    elif kind != 'image':
        why += ' (no %s=true in the image metadata of %s)' % (
            hiding.IMAGE_KEY, 'the volume' if kind == 'volume'
            else "its volume '%s'" % via)
    return ("%s '%s' does not hide the hypervisor%s: %s (or "
            "--visible-hypervisor for GPUs whose drivers do not mind)"
            % (kind, name, why, fix))


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
                   disabled_reasons=None, servers=1):
    """Refuse when the enabled hosts cannot take ``servers`` servers of the
    flavor, each with every requested GPU on one host.

    ``availability`` is a ``capacity.Availability`` from placement, or
    None when the cloud does not report PCI devices there.
    ``disabled_reasons(hosts)`` gives ``{host: reason}`` (None: unknown)
    and is called only for a refusal that names disabled computes. Sets
    ``result.room``: how many such servers the hosts can take.
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
    result.room = room_for_servers(
        [(r.count, free) for r, free, _ in free_per_request])
    if result.room >= servers:
        return
    raise PreflightError(_not_enough(result, flavor_name, availability,
                                     free_per_request, disabled_reasons,
                                     servers))


def room_for_servers(needs):
    """How many servers fit, as nova places them: each host takes as many
    whole servers as every request leaves room for, summed over hosts.

    ``needs`` is ``[(GPUs per server, {host: free})]``, one per request.
    """
    hosts = set.union(set(), *(set(free) for _, free in needs))
    return sum(min(free.get(host, 0) // count for count, free in needs)
               for host in hosts) if needs else 0


def _not_enough(result, flavor_name, availability, free_per_request,
                disabled_reasons, servers=1):
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
    spec = gpu_request.render_alias_spec(result.requests)
    if servers > 1:
        return ("not enough free GPUs for %d servers of flavor '%s' (%s "
                "each, on one host): the hosts have room for %d; %s (%s)" % (
                    servers, flavor_name, spec, result.room, counts, fix))
    return ("not enough free GPUs for flavor '%s' (%s) on any one host: %s "
            "(%s)" % (flavor_name, spec, counts, fix))


def _reason(reason):
    if reason is None:
        return 'reason unknown'
    return "'%s'" % reason if reason else 'no reason given'


def _free_counts(request, free, disabled=()):
    counts = ', '.join(
        '%s %d%s' % (h, n, ' (disabled)' if h in disabled else '')
        for h, n in sorted(free.items()))
    return 'free %s per host: %s' % (request.alias, counts or 'none anywhere')
