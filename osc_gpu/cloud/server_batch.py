"""Creating one GPU server or a batch (``--min``/``--max``), waiting for
all of them together, and leaving nothing half-made.

A batch is made as separate creates named as nova names a multi-create's
servers (``name-1``, ``name-2``...), not as one multi-create: nova picks
allocation candidates once for all the servers of a multi-create, so with
GPUs as nested resource providers a batch that would fit still fails with
"No valid host" once one server took the device a candidate named (nova
bug 1874664). Each create carries its own mark (see :mod:`servers`) and
waits until nova's scheduler has placed the one before: two GPU servers
scheduled at the same moment get the same first candidate, and the
second one's claim fails.

When something fails after servers exist, the one line says what became
of each: servers the command lost track of, or whose last step failed,
are deleted (as for a single server); the others are deleted with
``--delete-on-error``, or named with their ids as the servers that
remain.
"""

import concurrent.futures
import dataclasses

from osc_gpu.cloud import errors
from osc_gpu.cloud import servers as server_flow
from osc_gpu.cloud import waiting

DONE = ('ACTIVE',)
FAILED = ('ERROR',)
MAX_WORKERS = 8
# How long the next create of a batch waits for nova to place the last.
SCHEDULING_WAIT_SECONDS = 120


@dataclasses.dataclass
class Member:
    server: object
    mark: server_flow.Mark
    devices: list = dataclasses.field(default_factory=list)   # None: unknown


class Batch:
    """The servers one ``gpu server create`` makes, with their marks."""

    def __init__(self, gpu_cloud, delete_on_error=False, explain=str,
                 batch=False):
        self.gpu_cloud = gpu_cloud
        self.delete_on_error = delete_on_error
        self.explain = explain
        # Asked for several (--max above 1): said of as a batch.
        self.batch = batch
        self.members = []
        self.notes = []

    @property
    def servers(self):
        return [m.server for m in self.members]

    def create(self, requests, min_count=1):
        """Create each ``attrs`` of ``requests`` in turn. A refusal once
        ``min_count`` exist ends the batch there (nova's multi-create also
        makes fewer than --max when its quota says so); any other failure
        fails the batch. Interrupted, it deletes what it made: the
        operator has no ids."""
        try:
            for index, attrs in enumerate(requests):
                if index:
                    self._wait_scheduled(self.members[-1])
                mark = server_flow.new_mark(self.gpu_cloud,
                                            attrs.get('tags', ()))
                server = server_flow.create_server(self.gpu_cloud, attrs,
                                                   mark, self.explain)
                self.members.append(Member(server, mark))
        except errors.CloudError as exc:
            if exc.refused and len(self.members) >= min_count:
                self.notes.append(
                    '%d of %d servers created (at least %d asked for): %s'
                    % (len(self.members), len(requests), min_count, exc))
                return
            self.fail(str(exc))
        except KeyboardInterrupt:
            self._delete([m.server for m in self.members])
            raise

    def _wait_scheduled(self, member):
        """Wait until nova's scheduler has placed ``member``: its task
        state leaves 'scheduling' (or it is built or failed already).

        nova's scheduler takes the first allocation candidate of a host,
        so two GPU servers scheduled at the same moment pick the same
        device and the second fails with "No valid host"; the next create
        of the batch waits for this one's claim.
        """
        def placed(server):
            return (server.status or '').upper() != 'BUILD' or \
                getattr(server, 'task_state', None) != 'scheduling'
        waiting.poll_until(lambda: self.gpu_cloud.get_server(
            member.server.id), placed, SCHEDULING_WAIT_SECONDS)

    def wait(self, timeout, on_poll=None):
        """Poll every server together until each is ACTIVE or ERROR."""
        try:
            found = waiting.wait_for_all(
                lambda ids: _in_parallel(
                    [lambda i=i: self.gpu_cloud.get_server(i) for i in ids]),
                [m.server.id for m in self.members], DONE + FAILED, timeout,
                on_poll=on_poll)
        except waiting.WaitTimeout as exc:
            pending = [m.server for m in self.members
                       if m.server.id in exc.pending]
            self.fail('%s not ACTIVE: %s' % (_named(pending), exc),
                      lost=pending)
        except errors.CloudError as exc:
            # The servers not yet seen ACTIVE or ERROR cannot be vouched
            # for: deleted. Those seen are kept or deleted as the rest.
            self.fail(str(exc), lost=[m.server for m in self.members])
        for member in self.members:
            member.server = found[member.server.id]
        failed = [m.server for m in self.members if m.server.status
                  in FAILED]
        if failed:
            self._report_errors(failed)

    def confirm(self, known_devices=()):
        """For each ACTIVE server, remove its mark and name its GPUs (the
        two requests of every server at once)."""
        def attempt(call):
            try:
                return call(), None
            except errors.CloudError as exc:
                return None, exc
        active = [m for m in self.members if m.server.status in DONE]
        calls = []
        for m in active:
            calls.append(lambda m=m: attempt(lambda: server_flow.remove_mark(
                self.gpu_cloud, m.server, m.mark)))
            calls.append(lambda m=m: attempt(
                lambda: self.gpu_cloud.allocated_gpu_devices(
                    m.server.id, known_devices)))
        outcomes = _in_parallel(calls)
        failed = []
        for index, member in enumerate(active):
            (_, mark_error), (devices, error) = outcomes[2 * index:
                                                         2 * index + 2]
            member.devices = devices
            if error is not None and error.status_code == 403:
                # Placement is admin-only by default: a member's server
                # is fine, only which GPU it got cannot be told.
                note = 'gpu_devices unknown: %s' % error
                if note not in self.notes:
                    self.notes.append(note)
                error = None
            if mark_error or error:
                failed.append((member, mark_error or error))
        if failed:
            self.fail(str(failed[0][1]), lost=[m.server for m, _ in failed])

    def refresh(self):
        """Read each server again (without --wait: what nova says now)."""
        fresh = _in_parallel([lambda m=m: self.gpu_cloud.get_server(
            m.server.id) for m in self.members])
        for member, server in zip(self.members, fresh):
            member.server = server

    # -- failing -------------------------------------------------------
    def _report_errors(self, failed):
        first = failed[0]
        fault = (first.fault or {}).get('message')
        count = ('' if not self.batch else
                 ' (%d of %d servers)' % (len(failed), len(self.members)))
        self.fail("server '%s' went to ERROR%s: %s" % (
            first.name, count, self.explain(fault)), in_error=True)

    def fail(self, line, lost=(), in_error=False):
        """Raise ``line`` after deleting ``lost`` servers (always) and the
        others (with --delete-on-error), saying what became of them."""
        lost_ids = {s.id for s in lost}
        doomed = [s for s in self.servers
                  if s.id in lost_ids or self.delete_on_error]
        undeleted = self._delete(doomed)
        left = {s.id for s, _ in undeleted}
        deleted = [s for s in doomed if s.id not in left]
        gone = {s.id for s in deleted}
        remaining = [s for s in self.servers if s.id not in gone]
        if not self.members:
            pass
        elif not self.batch:
            line += _said_of_one(self.servers[0], lost_ids, undeleted,
                                 in_error, self.delete_on_error)
        else:
            line += _said_of_batch(self.servers, lost_ids, deleted,
                                   remaining, undeleted,
                                   self.delete_on_error)
        raise errors.CloudError(line)

    def _delete(self, doomed):
        """Delete and wait; ``[(server, error)]`` of the deletes that
        failed."""
        failed = []
        for server in doomed:
            try:
                server_flow.delete_and_wait(self.gpu_cloud, server)
            except Exception as exc:
                failed.append((server, exc))
        return failed


def _said_of_one(server, lost_ids, undeleted, in_error, delete_on_error):
    """What became of a single server, in the words the single-server
    create has always used."""
    if undeleted:
        return ("; deleting the server it created also failed (%s): delete "
                "it with 'openstack server delete %s'"
                % (undeleted[0][1], server.id))
    if server.id in lost_ids:
        return "; the server '%s' it created was deleted" % server.name
    if in_error and delete_on_error:
        return '; the server was deleted (--delete-on-error)'
    if in_error:
        return "; delete it with 'openstack server delete %s'" % server.id
    return ''


def _said_of_batch(servers, lost_ids, deleted, remaining, undeleted,
                   delete_on_error):
    if delete_on_error and not remaining:
        return "; the batch's %d servers were deleted (--delete-on-error)" \
            % len(servers)
    said = ''
    lost = [s for s in deleted if s.id in lost_ids]
    if lost:
        said += '; %s it created %s deleted' % (
            _named(lost), 'was' if len(lost) == 1 else 'were')
    if undeleted:
        said += '; deleting %s failed (%s)' % (
            _named([s for s, _ in undeleted]), undeleted[0][1])
    if remaining:
        said += ("; servers that remain: %s: delete them with 'openstack "
                 "server delete %s'" % (
                     ', '.join('%s (%s%s)' % (
                         s.name, s.id, ', %s' % s.status if s.status
                         else '') for s in remaining),
                     ' '.join(s.id for s in remaining)))
    return said


def _named(servers):
    names = ', '.join("'%s'" % s.name for s in servers)
    return ('server %s' if len(servers) == 1 else 'servers %s') % names


def _in_parallel(calls):
    if len(calls) <= 1:
        return [call() for call in calls]
    with concurrent.futures.ThreadPoolExecutor(
            min(MAX_WORKERS, len(calls))) as pool:
        return list(pool.map(lambda call: call(), calls))
