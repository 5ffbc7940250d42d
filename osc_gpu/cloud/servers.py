"""Creating a GPU server so that a failure leaves no server holding GPUs.

A server nova made but the command lost track of (a create whose answer
was lost, a status poll that failed, a build that outlasted the wait) would
hold its GPUs unseen, and a re-run would make a second one. Each of those
paths deletes the server here, and says so in the one line it raises.

To find a server whose create answer was lost, each create carries a mark
of its own: the tag ``osc-gpu:create-<token>`` (compute 2.52+ takes tags
at create), or on older clouds the metadata key ``osc-gpu:create``. Once
the server is seen ACTIVE the mark has done its job and is removed, so the
tenant's ``openstack server show`` has no osc-gpu bookkeeping. (nova takes
tag and metadata changes only from a built server: one still building or
in ERROR keeps its mark.)
"""

import contextlib
import dataclasses

from osc_gpu.cloud import errors
from osc_gpu.cloud import quota
from osc_gpu.cloud import waiting
from osc_gpu.rules import server_request

# How long a delete waits for the server to be gone.
DELETE_WAIT_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class Mark:
    """One create's mark: a tag, or a metadata value before 2.52."""

    token: str
    as_tag: bool

    def added_to(self, attrs):
        """``attrs`` for nova's create, with the mark in them."""
        attrs = dict(attrs)
        if self.as_tag:
            attrs['tags'] = list(attrs.get('tags', ())) + [self.token]
        else:
            attrs['metadata'] = dict(attrs.get('metadata') or {}, **{
                server_request.MARK_METADATA_KEY: self.token})
        return attrs


def new_mark(gpu_cloud, tags=()):
    """A fresh mark for a create with the operator's ``tags``."""
    return Mark(server_request.new_mark(), server_request.mark_as_tag(
        gpu_cloud.compute_max_microversion(), tags))


def create_server(gpu_cloud, attrs, mark, explain=str):
    """Create the server with ``mark``; on failure remove one nova may
    have made anyway.

    ``explain`` turns nova's refusal into the operator's terms.
    Interrupted (Ctrl-C, SIGTERM), it removes such a server too, then lets
    the interrupt go on.
    """
    try:
        return gpu_cloud.create_server(**mark.added_to(attrs))
    except errors.CloudError as exc:
        # Nova's over-limit 403 names resource classes: say the aliases.
        line = explain(quota.explain_refusal(str(exc), gpu_cloud))
        if not exc.refused:
            # The answer was lost or nova failed half-way: the server may
            # exist, and only our mark can tell it.
            line += _remove_lost_server(gpu_cloud, attrs['name'], mark)[0]
        error = errors.CloudError(line)
        error.status_code = exc.status_code
        raise error from exc
    except KeyboardInterrupt as interrupt:
        # Ctrl-C or SIGTERM with the request on its way: nova may make
        # the server, and the operator, who has no id, would never see it.
        said, unknown = _remove_lost_server(gpu_cloud, attrs['name'], mark)
        if unknown:
            raise errors.CloudError("creating server '%s' was interrupted%s"
                                    % (attrs['name'], said)) from interrupt
        raise


def remove_mark(gpu_cloud, server, mark):
    """Take the create mark off a server seen ACTIVE."""
    gpu_cloud.remove_server_mark(server, mark.token, mark.as_tag)


@contextlib.contextmanager
def deleted_on_failure(gpu_cloud, server):
    """If a step after nova took the server fails, delete the server.

    The operator asked for a GPU server or, on failure, nothing. Not for
    Ctrl-C, which only stops the waiting, nor for a server that went to
    ERROR: that one is kept for its fault unless asked otherwise.
    """
    try:
        yield
    except Exception as failure:
        try:
            delete_and_wait(gpu_cloud, server)
        except Exception as cleanup:
            raise errors.CloudError(
                "%s; deleting the server it created also failed (%s): "
                "delete it with 'openstack server delete %s'"
                % (failure, cleanup, server.id)) from failure
        raise errors.CloudError("%s; the server '%s' it created was deleted"
                                % (failure, server.name)) from failure


def existing_server(gpu_cloud, name, flavor):
    """The one server named ``name`` if it has ``flavor``; None if there is
    none; CloudError if it cannot be told or has another flavor."""
    servers = gpu_cloud.servers_named(name)
    if not servers:
        return None
    if len(servers) > 1:
        raise errors.CloudError(
            "%d servers are named '%s': --or-show cannot tell which to show "
            "(rename or delete the extra ones)" % (len(servers), name))
    server = servers[0]
    has = getattr(server.flavor, 'original_name', None) or getattr(
        server.flavor, 'id', None)
    if has not in (flavor.name, flavor.id):
        raise errors.CloudError(
            "server '%s' exists with flavor '%s', not '%s' (use another "
            "name, or delete it first)" % (name, has, flavor.name))
    return server


def _remove_lost_server(gpu_cloud, name, mark):
    """Delete the server a failed create may have made; say what happened
    (and, second, whether looking for it failed)."""
    try:
        lost = gpu_cloud.servers_marked(name, mark.token, mark.as_tag)
        for server in lost:
            delete_and_wait(gpu_cloud, server)
    except Exception as cleanup:
        return ("; nova may have created it all the same and looking for it "
                "failed (%s): check 'openstack server list --name %s'"
                % (cleanup, name)), True
    if lost:
        return "; the server nova made all the same was deleted", False
    return '', False


def delete_and_wait(gpu_cloud, server):
    gpu_cloud.delete_server(server)
    # Until it is gone, the server still holds its GPUs in placement.
    waiting.wait_until(lambda: gpu_cloud.server_gone(server),
                       DELETE_WAIT_SECONDS)
