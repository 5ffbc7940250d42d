"""Where nova can be told to hide the hypervisor, and from which release.

NVIDIA's guest driver refuses to start (code 43) when it sees KVM. nova's
libvirt driver hides it when any of these is true (``_set_features``); none
can switch it off once another turned it on. This table is the only place
that says which release honours which key: flavor specs, the preflight,
``gpu image prepare`` and the docs all read it.
"""

import dataclasses

from osc_gpu.rules import booleans

KVM_HIDDEN_XML = "<features><kvm><hidden state='on'/></kvm></features>"


@dataclasses.dataclass(frozen=True)
class HidePlace:
    where: str              # 'flavor' (extra spec) or 'image' (property)
    key: str
    since: str              # first release that honours it
    description: str
    deprecated_for: str = ''

    def __str__(self):
        return '%s %s' % (self.where, self.key)


# In the order osc-gpu prefers them: the first one the cloud surely
# honours is the one it writes.
HIDE_PLACES = (
    HidePlace('flavor', 'hw:hide_hypervisor_id', 'Victoria',
              'hide the KVM signature from the guest (NVIDIA drivers); '
              'backported to Ussuri 21.1.2 and Train 20.6.1'),
    HidePlace('flavor', 'hide_hypervisor_id', 'Rocky',
              'the same before Victoria; still honoured, but it confuses '
              'AggregateInstanceExtraSpecsFilter',
              deprecated_for='hw:hide_hypervisor_id'),
    HidePlace('image', 'img_hide_hypervisor_id', 'Pike',
              'the same, set on the glance image'),
)
FLAVOR_KEYS = tuple(p.key for p in HIDE_PLACES if p.where == 'flavor')
IMAGE_KEY = next(p.key for p in HIDE_PLACES if p.where == 'image')
BY_KEY = {p.key: p for p in HIDE_PLACES}


def flavor_key(release):
    """The flavor key to write for ``release``, or None before Rocky.

    Only a key that every release sharing the cloud's maximum microversion
    honours: a 2.87 cloud may be an early Ussuri without the namespaced key.
    """
    for place in HIDE_PLACES:
        if place.where == 'flavor' and release.surely_at_least(place.since):
            return place.key
    return None


def honoured(place, release):
    return release.surely_at_least(place.since)


def image_property_honoured(release):
    return honoured(BY_KEY[IMAGE_KEY], release)


def flavor_hides(extra_specs):
    """True when any of nova's flavor keys turns hiding on."""
    specs = extra_specs or {}
    return any(booleans.is_true(specs.get(k, '')) for k in FLAVOR_KEYS)


def image_hides(properties):
    return booleans.is_true((properties or {}).get(IMAGE_KEY, ''))


def hiding_source(extra_specs, image_props, release):
    """``(place, ignored)``: what hides the hypervisor on ``release``.

    ``place`` is the first place set and honoured (None if none);
    ``ignored`` the places set that this release does not honour.
    """
    ignored = []
    for place in HIDE_PLACES:
        values = extra_specs if place.where == 'flavor' else image_props
        if not booleans.is_true((values or {}).get(place.key, '')):
            continue
        if honoured(place, release):
            return place, ignored
        ignored.append(place)
    return None, ignored
