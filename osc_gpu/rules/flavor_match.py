"""Whether an existing flavor is the one ``gpu flavor create`` asks for.

``--or-show`` shows a flavor that already has the name only when it is
what the command would have made: same sizes, same visibility and project
access, same description, and every extra spec asked for. Anything else is
refused with one line naming each field that differs and both values, so a
re-run with other options never passes silently with the old flavor.

Pure: ``osc_gpu.cloud.flavors`` reads the flavor (and its access list when
that matters) and hands both sides over as :class:`FlavorShape`.
"""

import dataclasses

from osc_gpu.rules import booleans
from osc_gpu.rules import flavor_specs
from osc_gpu.rules import vgpu

UNSET = '(unset)'
NONE = '(none)'
# Compared in this order (alphabetical, as an operator scans them); the
# extra specs follow, by key.
ATTRIBUTES = ('description', 'disk', 'ephemeral', 'id', 'is_public', 'ram',
              'swap', 'vcpus')


@dataclasses.dataclass(frozen=True)
class FlavorShape:
    """What a flavor is, as far as a create request can say.

    ``id`` None means "any id" (the request did not give one).
    ``projects`` holds the ids of the projects with access to a private
    flavor; None when not read (a public flavor, or not needed).
    """

    vcpus: int
    ram: int
    disk: int = 0
    ephemeral: int = 0
    swap: int = 0
    is_public: bool = True
    description: str = None
    id: str = None
    extra_specs: dict = dataclasses.field(default_factory=dict)
    projects: frozenset = None


def differences(existing, wanted, project_names=None):
    """``FIELD=existing, not wanted`` for every field that differs.

    ``project_names`` maps project ids to the names the operator gave, so
    access lists read as the command line did.
    """
    diffs = []
    for field in ATTRIBUTES:
        have, want = getattr(existing, field), getattr(wanted, field)
        if field == 'id' and want is None:
            continue
        if field == 'description':
            have, want = have or None, want or None
        if have != want:
            diffs.append(_diff(field, have, want))
    diffs.extend(_project_differences(existing, wanted, project_names or {}))
    diffs.extend(spec_differences(existing.extra_specs or {},
                                  wanted.extra_specs or {}))
    return diffs


def needs_project_access(existing, wanted):
    """Whether the access list must be read: both sides private."""
    return not existing.is_public and not wanted.is_public


def spec_differences(existing, wanted):
    """Every extra spec asked for whose value differs, and every GPU key
    (alias, hide keys, NUMA policy, the vGPU request) set on the flavor
    but not asked for.

    Other keys the flavor has but the request does not name are left
    alone: someone may have added them on purpose since.
    """
    diffs = []
    gpu_keys = flavor_specs.GPU_EXTRA_SPECS_BY_KEY
    # The vGPU request the flavor has (resources, their groups' traits,
    # group_policy), in the classes either side asks for.
    vgpu_keys = vgpu.vgpu_keys(existing, vgpu.classes_in(wanted))
    for key in sorted(set(wanted) | (set(existing) & set(gpu_keys))
                      | vgpu_keys):
        have, want = existing.get(key), wanted.get(key)
        if _same_spec(gpu_keys.get(key), have, want):
            continue
        diffs.append(_diff(key, have, want))
    return diffs


def mismatch_message(name, diffs):
    """The one line ``--or-show`` refuses with."""
    return ("flavor '%s' exists with %s (use another name, or delete it "
            "first)" % (name, '; '.join(diffs)))


def _same_spec(spec, have, want):
    if have is None or want is None:
        return have is None and want is None
    if spec is not None and spec.boolean:
        return booleans.is_true(have) == booleans.is_true(want)
    return str(have) == str(want)


def _project_differences(existing, wanted, names):
    if existing.projects is None or not needs_project_access(existing,
                                                             wanted):
        return []
    have = frozenset(existing.projects)
    want = frozenset(wanted.projects or ())
    if have == want:
        return []
    return [_diff('projects', _projects(have, names), _projects(want, names))]


def _projects(ids, names):
    return ', '.join(sorted(names.get(i, i) for i in ids)) or NONE


def _diff(field, have, want):
    return '%s=%s, not %s' % (field, _shown(have), _shown(want))


def _shown(value):
    if value is None or value == '':
        return UNSET
    return str(value)
