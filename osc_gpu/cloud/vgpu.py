"""Tagging a GPU's placement provider with its vGPU type.

nova gives a GPU that offers vGPUs a provider of its own and tags it with
nothing but ``OWNER_NOVA``; to let a flavor pick a type, the operator adds
the type's trait (``CUSTOM_NVIDIA_11``). Placement's ``PUT
/resource_providers/{uuid}/traits`` replaces the whole list and must carry
the provider's generation, so every change here is read-modify-write: read
the traits and generation, write them back with the one trait added or
removed, and on 409 (someone else wrote meanwhile: nova's periodic update,
another operator) read again and retry. Nothing is written when the trait
is already as asked.
"""

import time

from openstack import exceptions as sdk_exceptions

from osc_gpu.cloud import errors
from osc_gpu.cloud import placement
from osc_gpu.rules import echo
from osc_gpu.rules import vgpu_capacity

# Traits on providers and PUT /traits/{name}.
TRAITS_MICROVERSION = '1.6'
# root_provider_uuid in provider lists, and in_tree.
TREE_MICROVERSION = '1.14'
# A 409 means another writer got there first; a few rounds settle it.
WRITE_ATTEMPTS = 5
RETRY_PAUSE = 0.1


class GpuNotFound(errors.CloudError):
    """No provider for that host and address."""


def _call(conn, method, path, microversion, body=None, params=None):
    if method == 'GET':
        return placement._get(conn, path, microversion, params)
    # The adapter placement reads use: no version discovery round trip.
    response = placement._placement(conn).request(
        path, method, json=body, params=params, microversion=microversion,
        raise_exc=False, headers={'Accept': 'application/json'})
    sdk_exceptions.raise_from_response(response)
    return None


def _providers(conn, **params):
    return _call(conn, 'GET', '/resource_providers', TREE_MICROVERSION,
                 params=params)['resource_providers']


def find_gpu(conn, host, address):
    """The provider of the GPU at ``address`` on ``host`` (one request).

    When there is none, a second or third read says why: no such compute
    node, or which GPUs of that node offer vGPUs.
    """
    name = vgpu_capacity.provider_name(host, address)
    with errors.reporting("looking up GPU %s on '%s' in placement"
                          % (address, host)):
        found = _providers(conn, name=name)
        if found:
            return found[0]
        roots = _providers(conn, name=host)
        tree = _providers(conn, in_tree=roots[0]['uuid']) if roots else []
    if not roots:
        raise GpuNotFound(
            "placement has no compute node %s: give the hypervisor host name "
            "as 'openstack hypervisor list' shows it" % echo.quoted(host))
    others = sorted(parts[1] for parts in (
        vgpu_capacity.split_provider_name(p['name']) for p in tree) if parts)
    raise GpuNotFound(
        "compute node %s has no GPU offering vGPUs at %s in placement (%s)"
        % (echo.quoted(host), address,
           'its vGPU GPUs: %s' % ', '.join(others) if others else
           "it has none: check [devices] enabled_mdev_types on it with "
           "'openstack gpu host check --nova-conf'"))


def _traits(conn, provider):
    data = _call(conn, 'GET', '/resource_providers/%s/traits'
                 % provider['uuid'], TRAITS_MICROVERSION)
    return data['traits'], data['resource_provider_generation']


def _create_trait(conn, trait):
    # 201 when made, 204 when it existed: either way it is there.
    _call(conn, 'PUT', '/traits/%s' % trait, TRAITS_MICROVERSION)


def change_traits(conn, provider, add=(), remove=()):
    """Add and remove traits on ``provider``, keeping every other one.

    Returns ``(before, after)`` (sorted lists); equal when nothing needed
    writing, in which case nothing was written.
    """
    add, remove = set(add), set(remove)
    what = "tagging GPU provider '%s'" % provider['name']
    created = False
    for attempt in range(WRITE_ATTEMPTS):
        with errors.reporting(what):
            traits, generation = _traits(conn, provider)
            wanted = (set(traits) | add) - remove
            if wanted == set(traits):
                return sorted(traits), sorted(traits)
            if add and not created:
                for trait in sorted(add):
                    _create_trait(conn, trait)
                created = True
        try:
            with errors.reporting(what):
                _call(conn, 'PUT', '/resource_providers/%s/traits'
                      % provider['uuid'], TRAITS_MICROVERSION,
                      body={'traits': sorted(wanted),
                            'resource_provider_generation': generation})
            return sorted(traits), sorted(wanted)
        except errors.Conflict:
            time.sleep(RETRY_PAUSE * (attempt + 1))
    raise errors.Conflict(
        "%s failed: its traits changed under every one of %d attempts "
        "(another client keeps writing them); try again"
        % (what, WRITE_ATTEMPTS))
