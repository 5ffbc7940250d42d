"""What a ``gpu server create`` request asks of nova beyond the boot disk:
the compute microversions its options need, the names of a batch, and the
tag that marks a create until it is confirmed.

The options are ``openstack server create``'s, with nova's rules for them
(``nova/api/openstack/compute/schemas/servers.py`` and
``nova/compute/api.py``, nova 34).
"""

import dataclasses
import re
import uuid

from osc_gpu.rules import echo
from osc_gpu.rules import releases

# Tags: nova's parameter_types.tag and objects.instance.MAX_TAG_COUNT.
MAX_TAG_LENGTH = 60
MAX_TAGS = 50
# The tag marking a create, removed once the server is seen ACTIVE.
MARK_PREFIX = 'osc-gpu:create-'
# Server metadata key with the same token on clouds before tags at create.
MARK_METADATA_KEY = 'osc-gpu:create'
TAGS_AT_CREATE = releases.Microversion(2, 52)
SERVER_DESCRIPTION_MAX = 255
HOSTNAME_FQDN = releases.Microversion(2, 94)
# nova's hostname (2.90-2.93) and fqdn (2.94+) patterns.
_HOSTNAME = re.compile(r'[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+')
_FQDN = re.compile(r'[a-zA-Z0-9-._]{1,255}')


@dataclasses.dataclass(frozen=True)
class NeedsMicroversion:
    """An option the compute API takes from ``since`` on."""

    option: str
    since: releases.Microversion


NEEDS = {n.option: n for n in (
    NeedsMicroversion('--description', releases.Microversion(2, 19)),
    NeedsMicroversion('--tag', TAGS_AT_CREATE),
    NeedsMicroversion('--hostname', releases.Microversion(2, 90)),
    NeedsMicroversion('--block-device tag', releases.Microversion(2, 42)),
    NeedsMicroversion('--block-device volume_type',
                      releases.Microversion(2, 67)),
    NeedsMicroversion('--nic none/auto', releases.Microversion(2, 37)),
)}


class UnsupportedOption(ValueError):
    """The cloud's compute API is too old for an option."""


def check_microversions(options, max_microversion):
    """Refuse the first of ``options`` (keys of :data:`NEEDS`) the cloud's
    newest microversion does not reach, naming both."""
    for option in options:
        need = NEEDS[option]
        if max_microversion < need.since:
            raise UnsupportedOption(
                '%s needs compute API microversion %s (%s) or later; this '
                'cloud offers %s (%s)' % (
                    option, need.since,
                    releases.release_for_max_microversion(need.since).name,
                    max_microversion, releases.release_for_max_microversion(
                        max_microversion).name))


def hostname_problem(hostname, max_microversion=None):
    """Why nova refuses ``hostname``, or None: an FQDN of 1-255 letters,
    digits, '-', '.', '_' from 2.94, before that 2-63 letters, digits and
    inner '-'. Without a microversion, only the looser rule."""
    short = max_microversion is not None and \
        max_microversion < HOSTNAME_FQDN
    if short and not (_HOSTNAME.fullmatch(hostname) and
                      len(hostname) <= 63):
        return ('invalid --hostname %s: before compute API %s nova takes '
                "2-63 letters, digits and inner '-'" % (
                    echo.quoted(hostname), HOSTNAME_FQDN))
    if not _FQDN.fullmatch(hostname):
        return ("invalid --hostname %s: use 1-255 letters, digits, '-', "
                "'.' and '_' (e.g. --hostname ml-1.example.org)"
                % echo.quoted(hostname))
    return None


def tag_problem(tag):
    """Why nova refuses the server tag ``tag``, or None."""
    if not tag or len(tag) > MAX_TAG_LENGTH or ',' in tag or '/' in tag:
        return ("invalid --tag %s: use 1-%d characters without ',' or '/'"
                % (echo.quoted(tag), MAX_TAG_LENGTH))
    return None


def tags_problem(tags):
    """Why nova would refuse ``tags``, or None."""
    for tag in tags:
        problem = tag_problem(tag)
        if problem:
            return problem
    if len(tags) > MAX_TAGS:
        return ('too many --tag options: %d; nova takes at most %d'
                % (len(tags), MAX_TAGS))
    return None


def mark_as_tag(max_microversion, tags):
    """Whether the create mark can be a tag: nova takes tags at create
    from 2.52, and one more tag than the operator's 50 it refuses (the
    mark then goes to the metadata, as on older clouds)."""
    return max_microversion >= TAGS_AT_CREATE and len(tags) < MAX_TAGS


def new_mark():
    """A fresh create mark, e.g. ``osc-gpu:create-3f2a...``."""
    return MARK_PREFIX + uuid.uuid4().hex


def is_mark(tag):
    return tag.startswith(MARK_PREFIX)


# -- batches ------------------------------------------------------------

def batch_names(name, count, batch=True):
    """The names nova gives the servers of a multi-create: ``name-1`` ...
    (``nova.compute.api._populate_instance_names``); ``[name]`` when the
    request is for one server."""
    if not batch:
        return [name]
    return ['%s-%d' % (name, index) for index in range(1, count + 1)]


def check_counts(min_count, max_count):
    """OSC's checks of ``--min`` and ``--max``."""
    if min_count < 1 or max_count < 1:
        raise ValueError('--min and --max must be at least 1 (e.g. --min 2 '
                         '--max 4)')
    if min_count > max_count:
        raise ValueError('--min %d is more than --max %d: min instances '
                         'should be <= max instances' % (min_count,
                                                         max_count))
