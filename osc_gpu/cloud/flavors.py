"""Creating a GPU flavor as one step: all of it, or nothing.

Plain ``openstack flavor create --property`` creates the flavor, then sets
its extra specs, and on failure only logs: a flavor without its GPUs is
left behind. Here a failure after the flavor exists deletes it again, and
``--or-show`` makes re-runs and concurrent runs safe.
"""

import dataclasses
import uuid

from osc_gpu.cloud import errors
from osc_gpu.cloud import waiting
from osc_gpu.rules import echo
from osc_gpu.rules import flavor_match
from osc_gpu.rules import gpu_request
from osc_gpu.rules import vgpu

# How long --or-show waits for another run that created the flavor a
# moment ago to finish writing its specs.
SPECS_SETTLE_SECONDS = 10.0
# A name that keeps flipping between taken and free (others creating and
# rolling back) is given up on after this many tries.
_CREATE_ATTEMPTS = 5


class FlavorMismatch(errors.CloudError):
    """--or-show found the flavor, but not as the request asks for it."""


def create_gpu_flavor(gpu_cloud, attrs, specs, projects=(), or_show=False):
    """Create the flavor with ``specs``; returns ``(flavor, created)``.

    ``projects`` are the ids of the projects to give access to a private
    flavor; a dict ``{id: name}`` lets a refusal name them as given.
    """
    wanted = _shape(attrs, specs, projects)
    # An id of our own finds the flavor again when the answer to the
    # create is lost (timeout, reset, 5xx): nova may have made it anyway.
    id_is_ours = 'id' not in attrs
    if id_is_ours:
        attrs = dict(attrs, id=str(uuid.uuid4()))
    for _ in range(_CREATE_ATTEMPTS):
        try:
            flavor = _create(gpu_cloud, attrs, id_is_ours)
        except errors.Conflict:
            if not or_show:
                raise
            existing = _settled_flavor(gpu_cloud, attrs['name'],
                                       _gpu_keys(specs))
            if existing is None:
                if not id_is_ours:
                    _refuse_taken_id(gpu_cloud, attrs)
                continue   # another run rolled back: try to create again
            _check_same(gpu_cloud, existing, wanted, projects)
            return existing, False
        _complete_or_roll_back(gpu_cloud, flavor, specs, projects)
        return flavor, True
    raise errors.Conflict(
        "flavor '%s' kept appearing and disappearing while creating it: "
        'another tool is creating and deleting it; try again' % attrs['name'])


def _refuse_taken_id(gpu_cloud, attrs):
    """No flavor has the name, so the conflict is the id: name its owner
    (retrying cannot help) unless it is gone or has our name by now."""
    owner = gpu_cloud.find_flavor(attrs['id'], ignore_missing=True)
    if owner is not None and owner.id == attrs['id'] and \
            owner.name != attrs['name']:
        raise errors.Conflict(
            'flavor id %s is taken by flavor %s (give another --id, or '
            'leave --id out)' % (echo.quoted(attrs['id']),
                                 echo.quoted(owner.name)))


def _create(gpu_cloud, attrs, id_is_ours):
    try:
        return gpu_cloud.create_flavor(**attrs)
    except errors.Conflict:
        raise
    except errors.CloudError as failure:
        # A 4xx is nova refusing: nothing was made. Anything else may have
        # made the flavor, without its specs.
        if id_is_ours and not failure.refused:
            _remove_if_made(gpu_cloud, attrs['id'], failure)
        raise
    except KeyboardInterrupt as interrupt:
        # Ctrl-C or SIGTERM with the request on its way: nova may make
        # the flavor all the same, without its specs.
        if id_is_ours:
            _remove_if_made(gpu_cloud, attrs['id'], interrupt,
                            'creating flavor %s was interrupted'
                            % echo.quoted(attrs['name']))
        raise


def _remove_if_made(gpu_cloud, flavor_id, failure, said=None):
    """Delete the flavor ``flavor_id`` if nova made it; ``said`` (else
    the failure) starts the line raised when that cannot be checked."""
    try:
        flavor = gpu_cloud.find_flavor(flavor_id, ignore_missing=True)
        if flavor is not None:
            gpu_cloud.delete_flavor(flavor)
    except Exception as cleanup:
        raise errors.CloudError(
            "%s; nova may have made the flavor all the same, and checking "
            "failed (%s): see 'openstack flavor show %s'"
            % (said or failure, cleanup, flavor_id)) from failure


def _complete_or_roll_back(gpu_cloud, flavor, specs, projects):
    try:
        # Access first, the GPU specs last: a concurrent --or-show run
        # waits for the specs (_settled_flavor), and then finds the
        # flavor complete, access list included.
        for project_id in projects:
            gpu_cloud.add_flavor_access(flavor, project_id)
        flavor.extra_specs = gpu_cloud.set_flavor_extra_specs(flavor, specs)
    except BaseException as failure:
        try:
            gpu_cloud.delete_flavor(flavor)
        except Exception as cleanup:
            raise errors.CloudError(
                "%s; removing the half-made flavor also failed (%s): delete "
                "it with 'openstack flavor delete %s'"
                % (failure, cleanup, flavor.id)) from failure
        raise


def _settled_flavor(gpu_cloud, name, gpu_keys):
    """The existing flavor once its GPU specs are written, or None if gone.

    A flavor found without any GPU spec (``gpu_keys``: the alias, or the
    vGPU resources asked for) may belong to a concurrent run that has
    created it but not yet set its specs: give that run a moment.
    """
    return waiting.poll_until(
        lambda: gpu_cloud.find_flavor(name, ignore_missing=True),
        lambda flavor: flavor is None or bool(
            gpu_keys & set(flavor.extra_specs or {})),
        SPECS_SETTLE_SECONDS)


def _gpu_keys(specs):
    """The keys whose presence says a flavor's GPU specs are written."""
    return ({gpu_request.ALIAS_SPEC_KEY}
            | vgpu.vgpu_keys(specs, vgpu.classes_in(specs)))


def _shape(attrs, specs, projects):
    """The flavor the request asks for, as :mod:`flavor_match` compares."""
    return flavor_match.FlavorShape(
        vcpus=attrs['vcpus'], ram=attrs['ram'], disk=attrs.get('disk', 0),
        ephemeral=attrs.get('ephemeral', 0), swap=attrs.get('swap', 0),
        is_public=attrs.get('is_public', True),
        description=attrs.get('description'), id=attrs.get('id'),
        extra_specs=dict(specs), projects=frozenset(projects))


def _existing_shape(gpu_cloud, flavor, wanted):
    """The existing flavor's shape; its access list only when both it and
    the request are private (nova has none for public flavors)."""
    shape = flavor_match.FlavorShape(
        vcpus=flavor.vcpus, ram=flavor.ram, disk=flavor.disk,
        ephemeral=flavor.ephemeral, swap=flavor.swap,
        is_public=flavor.is_public, description=flavor.description,
        id=flavor.id, extra_specs=dict(flavor.extra_specs or {}))
    if flavor_match.needs_project_access(shape, wanted):
        shape = dataclasses.replace(shape, projects=frozenset(
            gpu_cloud.flavor_project_ids(flavor)))
    return shape


def _check_same(gpu_cloud, flavor, wanted, projects):
    existing = _existing_shape(gpu_cloud, flavor, wanted)
    names = _project_names(gpu_cloud, existing, wanted,
                           projects if isinstance(projects, dict) else {})
    diffs = flavor_match.differences(existing, wanted, names)
    if diffs:
        raise FlavorMismatch(flavor_match.mismatch_message(flavor.name,
                                                           diffs))


def _project_names(gpu_cloud, existing, wanted, names):
    """Names for the ids of an access list that differs, so the refusal
    reads like a command line; read only then, one per unnamed project."""
    if existing.projects is None or existing.projects == wanted.projects:
        return names
    names = dict(names)
    for project_id in sorted(existing.projects - set(names)):
        names[project_id] = gpu_cloud.project_name(project_id)
    return names
