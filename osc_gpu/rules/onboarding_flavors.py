"""Planning an onboarding file's GPU flavors and their project access.

Part of :mod:`onboarding_plan`: a flavor is compared as ``gpu flavor
create`` would make it for the cloud's release (the hide-hypervisor key
this release honours, extra specs written as given). Sizes and visibility
nova cannot change: a flavor this file made is replaced, any other one is
refused. Extra specs and the description are changed in place.
"""

from osc_gpu.rules import booleans
from osc_gpu.rules import flavor_specs
from osc_gpu.rules import hiding
from osc_gpu.rules.onboarding_state import (
    CREATE, UPDATE, REPLACE, DELETE, UNCHANGED, MARKER_SPEC)

_SIZES = ('vcpus', 'ram', 'disk', 'ephemeral', 'swap')


def _same_spec(key, cloud, wanted):
    if wanted is None:     # must not turn hiding on
        return not booleans.is_true(cloud or '')
    if cloud is None:
        return False
    if key in hiding.FLAVOR_KEYS:
        return booleans.is_true(cloud) == booleans.is_true(wanted)
    return str(cloud) == str(wanted)


class FlavorPlanning:
    """The flavor half of the planner (needs its ``add``, ``state``...)."""

    def flavors(self):
        for spec in self.model.flavors:
            try:
                specs, notes = flavor_specs.gpu_flavor_specs(
                    spec.requests, spec.hide_hypervisor, spec.numa_policy,
                    dict(spec.properties), self.state.release)
            except ValueError as exc:
                self.errors.append((spec.path, str(exc)))
                continue
            self.notes.extend(n for n in notes if n not in self.notes)
            if not spec.hide_hypervisor:
                specs.update({k: None for k in hiding.FLAVOR_KEYS})
            have = self.state.flavors.get(spec.name)
            if have is None:
                self._create_flavor(spec, specs, CREATE)
            else:
                self._existing_flavor(spec, specs, have)

    def _access_names(self, spec):
        return ', '.join(str(name) for _, name in spec.projects)

    def _create_flavor(self, spec, specs, action, have=None):
        made = {k: v for k, v in specs.items() if v is not None}
        diffs = [(f, getattr(have, f, None), spec.size(f)) for f in _SIZES]
        diffs.append(('is_public', getattr(have, 'is_public', None),
                      spec.is_public))
        if spec.description is not None:
            diffs.append(('description', getattr(have, 'description', None),
                          spec.description))
        diffs += [(k, (have.extra_specs if have else {}).get(k), v)
                  for k, v in sorted(made.items())]
        if not spec.is_public:
            diffs.append(('access', None, self._access_names(spec)))
        if have is not None:
            diffs = [d for d in diffs if d[1] != d[2]]
        made[MARKER_SPEC] = self.model.name
        self.add('flavor', spec.name, action, diffs, spec=spec, specs=made,
                 old=have)

    def _existing_flavor(self, spec, specs, have):
        ours = have.extra_specs.get(MARKER_SPEC) == self.model.name
        fixed = [(f, getattr(have, f), spec.size(f)) for f, _ in spec.sizes
                 if getattr(have, f) != spec.size(f)]
        if have.is_public != spec.is_public:
            fixed.append(('is_public', have.is_public, spec.is_public))
        if fixed and not ours:
            self.errors.append((spec.path, (
                "flavor '%s' exists with %s, which nova cannot change, and "
                'this file did not make it: use another name, or delete it '
                'first' % (spec.name, ', '.join(
                    '%s=%s, not %s' % d for d in fixed)))))
            return
        if fixed:
            self._create_flavor(spec, specs, REPLACE, have)
            return
        diffs = [(k, have.extra_specs.get(k), v)
                 for k, v in sorted(specs.items())
                 if not _same_spec(k, have.extra_specs.get(k), v)]
        if spec.description is not None and \
                (have.description or '') != spec.description:
            diffs.append(('description', have.description, spec.description))
        self.add('flavor', spec.name, UPDATE if diffs else UNCHANGED, diffs,
                 flavor_id=have.id, specs={d[0]: d[2] for d in diffs
                                           if d[0] != 'description'},
                 description=spec.description if any(
                     d[0] == 'description' for d in diffs) else None)
        if not spec.is_public:
            self._access(spec, have, ours)

    def _access(self, spec, have, ours):
        access = have.access or frozenset()
        listed = set()
        for key in spec.projects:
            pid = self.project_id(key)
            listed.add(pid)
            label = '%s: %s' % (spec.name, key[1])
            if pid is not None and pid in access:
                self.add('flavor access', label, UNCHANGED)
            else:
                self.add('flavor access', label, CREATE,
                         [('access', None, key[1])], flavor_id=have.id,
                         flavor_name=spec.name, project=key)
        if self.prune_on and ours:
            for pid in sorted(access - listed):
                self.add('flavor access', '%s: %s' % (
                    spec.name, self.project_label(pid)), DELETE,
                    [('access', self.project_label(pid), None)],
                    flavor_id=have.id, flavor_name=spec.name, project_id=pid)
