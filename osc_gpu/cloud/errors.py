"""Cloud and transport failures as one line an operator can act on.

Every SDK or keystoneauth exception leaves ``osc_gpu.cloud`` as a
:class:`CloudError` (an osc-lib ``CommandError``, so OSC prints its one line
and exits 1), built inside :func:`reporting`. So does an answer that is
not the API at all (an HTML page, an empty or other JSON body, a version
document without a valid microversion), which the SDK would otherwise
fail on with its own internal message.

keystoneauth and the SDK log warnings while they discover versions ("Failed
to contact the endpoint ... for discovery"); :func:`warnings_folded` holds
them back while a command runs and adds their gist to the one line if the
command fails (with ``--debug`` or ``-v`` they are shown as they come).
"""

import contextlib
import json
import logging
import re

from osc_lib import exceptions

from osc_gpu.rules import echo

_HINTS = {
    401: 'check the credentials of the cloud in clouds.yaml / OS_* variables',
    403: 'this needs the admin role (or a policy that allows it)',
}


def _one_line(text):
    return echo.one_line(re.sub(r'\s+', ' ', str(text or '')).strip())


def _message_in(body):
    """The ``message`` of an OpenStack error body such as nova's
    ``{"conflictingRequest": {"code": 409, "message": "..."}}``."""
    if isinstance(body, dict):
        if isinstance(body.get('message'), str):
            return body['message']
        for key in ('errors', 'error'):
            if body.get(key):
                return _message_in(body[key])
        for value in body.values():
            found = _message_in(value)
            if found:
                return found
    if isinstance(body, list) and body:
        first = body[0]
        return (first.get('detail') or first.get('title')
                if isinstance(first, dict) else None)
    return None


def _http_detail(exc):
    detail = _one_line(getattr(exc, 'details', None))
    if detail.startswith('{'):
        try:
            detail = _one_line(_message_in(json.loads(detail)) or detail)
        except ValueError:
            pass
    if not detail or detail.startswith('<'):
        detail = _one_line(getattr(exc, 'message', None) or exc)
    # The SDK prefixes "Client Error for url: ...": the URL is noise here.
    detail = re.sub(r'^\d{3}: (Client|Server) Error for url: \S+,?\s*', '',
                    detail)
    return detail


_UNREACHABLE = re.compile(r'Unable to establish connection to (\S+?):? '
                          r'.*\[Errno -?\d+\] ([^\'"]+)')


def describe(exc, action):
    """One line saying that ``action`` failed, why, and what to do."""
    # Imported here: only reached on failure, keeps command import cheap.
    from keystoneauth1 import exceptions as ksa_exc
    from openstack import exceptions as sdk_exc

    if isinstance(exc, sdk_exc.HttpException) and exc.status_code:
        status = exc.status_code
        line = '%s failed (HTTP %s): %s' % (action, status, _http_detail(exc))
        hint = _HINTS.get(status)
        if status >= 500:
            hint = 'the cloud failed; its service logs have the cause'
        return '%s (%s)' % (line, hint) if hint else line
    if isinstance(exc, ksa_exc.ConnectFailure):
        return ('%s failed: cannot reach the cloud (%s); check that it is up '
                'and that OS_CLOUD names the right one' % (action,
                                                           _one_line(exc)))
    if isinstance(exc, ksa_exc.ConnectTimeout):
        return '%s failed: the cloud did not answer in time (%s)' % (
            action, _one_line(exc))
    if isinstance(exc, ksa_exc.Unauthorized):
        return '%s failed: authentication refused (%s)' % (action, _HINTS[401])
    if isinstance(exc, ksa_exc.EndpointNotFound):
        return '%s failed: %s (is the service in the catalog?)' % (
            action, _one_line(exc))
    unreachable = _UNREACHABLE.search(str(exc))
    if isinstance(exc, ksa_exc.DiscoveryFailure) and unreachable:
        # keystoneauth nests urllib3's whole message: the URL and the
        # reason are what an operator can act on.
        return ('%s failed: cannot reach %s (%s); check that the cloud is '
                'up and that auth_url in clouds.yaml is right'
                % (action, unreachable.group(1), unreachable.group(2)))
    if isinstance(exc, ksa_exc.ClientException):
        return '%s failed: %s' % (action, _one_line(exc))
    if isinstance(exc, sdk_exc.SDKException):
        return '%s failed: %s' % (action, _one_line(exc))
    if isinstance(exc, NotTheApi) or broke_the_client(exc):
        return "%s failed: %s; check auth_url in clouds.yaml and the " \
            "endpoints in 'openstack catalog list'" % (action,
                                                       _not_the_api(exc))
    return None


class NotTheApi(Exception):
    """An answer read without the SDK that is not the API's: not JSON, or
    JSON of another shape. Raise it where ``response`` is a local."""


def is_cloud_error(exc):
    from keystoneauth1 import exceptions as ksa_exc
    from openstack import exceptions as sdk_exc
    return isinstance(exc, (sdk_exc.SDKException, ksa_exc.ClientException,
                            NotTheApi)) or broke_the_client(exc)


# The exceptions the SDK and keystoneauth raise, unwrapped, when an answer
# is not what the API sends: json's ValueError for an HTML page or an empty
# body, TypeError or KeyError for JSON of another shape or a version
# document whose microversion is missing or no version.
_MISREAD = (ValueError, TypeError, KeyError, AttributeError, IndexError)
_CLIENT_PACKAGES = ('openstack', 'keystoneauth1')


def broke_the_client(exc):
    """True if ``exc`` is a plain Python error raised inside the SDK or
    keystoneauth: the cloud's answer broke the client's reading of it."""
    if not isinstance(exc, _MISREAD):
        return False
    return any(frame.f_globals.get('__name__', '').split('.')[0]
               in _CLIENT_PACKAGES for frame in _frames(exc))


def _frames(exc):
    tb = exc.__traceback__
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _not_the_api(exc):
    """What the cloud answered instead of its API, as far as can be told."""
    version = re.match(r'Invalid version specified: (.*)', str(exc))
    if version:
        return ('a version document gives %s, which is not an API version'
                % echo.quoted(version.group(1)))
    response = _answer_in(exc)
    if response is None:
        return ('the cloud did not answer as the OpenStack API does: an HTML '
                'page, an empty body or JSON of another shape')
    body = re.sub(r'\s+', ' ', response.content[:200].decode(
        'utf-8', 'replace')).strip()
    return ('%s %s answered HTTP %s with %s, not the OpenStack API' % (
        response.request.method, echo.quoted(response.url, 100),
        response.status_code,
        '%s %s' % (response.headers.get('Content-Type') or 'a body',
                   echo.quoted(body, 40, count=False))
        if body else 'an empty body'))


def _answer_in(exc):
    """The HTTP response being read when ``exc`` was raised, if any (the
    innermost frame holding one)."""
    import requests
    found = None
    for frame in _frames(exc):
        for value in list(frame.f_locals.values()):
            if isinstance(value, requests.Response):
                found = value
    return found


class CloudError(exceptions.CommandError):
    """A cloud call failed; the message is one actionable line."""

    status_code = None

    @property
    def refused(self):
        """A 4xx: the service turned the request down and made nothing."""
        return self.status_code is not None and 400 <= self.status_code < 500


class Conflict(CloudError):
    """HTTP 409: e.g. a flavor name or id that is already taken."""

    status_code = 409


class NotFound(CloudError):
    status_code = 404


_BY_STATUS = {409: Conflict, 404: NotFound}


@contextlib.contextmanager
def reporting(action):
    """Re-raise SDK/transport failures of ``action`` as one-line errors."""
    try:
        yield
    except Exception as exc:
        line = describe(exc, action) if is_cloud_error(exc) else None
        if line is None:
            raise
        status = getattr(exc, 'status_code', None)
        error = _BY_STATUS.get(status, CloudError)(with_held_warnings(line))
        error.status_code = status
        raise error from exc


# -- keystoneauth's and the SDK's warnings, folded into the one line ------

# Loggers whose warnings are held while a command runs.
_HELD_LOGGERS = ('keystoneauth', 'keystoneauth1', 'openstack', 'urllib3')
_holders = []      # the active _HeldWarnings, innermost last


class _HeldWarnings(logging.Filter):
    """A console handler filter keeping back the client libraries'
    warnings (all of them are kept, shown or not)."""

    def __init__(self, show):
        super().__init__()
        self.show = show
        self.records = []

    def filter(self, record):
        if (record.levelno < logging.WARNING
                or record.name.split('.')[0] not in _HELD_LOGGERS):
            return True
        if not any(r is record for r in self.records):
            self.records.append(record)   # each handler asks again
        return self.show

    def gist(self, line):
        """The held warnings' first sentences that ``line`` lacks."""
        found = []
        for record in self.records:
            first = _one_line(record.getMessage()).split('. ')[0]
            first = first.rstrip('.')
            if first and first not in found and first not in line:
                found.append(first)
        return found


def with_held_warnings(line):
    """``line`` with the gist of the warnings held so far, if any."""
    found = _holders[-1].gist(line) if _holders else []
    if not found:
        return line
    return '%s; before that: %s' % (line, '; '.join(found))


def _console_handlers():
    return [h for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler)
            and not isinstance(h, logging.FileHandler)]


@contextlib.contextmanager
def warnings_folded(show=False):
    """Hold keystoneauth's and the SDK's warnings back from the console.

    A failure reported by :func:`reporting` meanwhile carries their gist
    in its one line. If the block succeeds, the held warnings are shown
    then, once each. With ``show`` (``--debug``, ``-v``) they pass as they
    come. A log file (``--log-file``) always gets them.
    """
    held = _HeldWarnings(show)
    handlers = _console_handlers()
    for handler in handlers:
        handler.addFilter(held)
    _holders.append(held)
    succeeded = False
    try:
        yield held
        succeeded = True
    finally:
        _holders.remove(held)
        for handler in handlers:
            handler.removeFilter(held)
        if succeeded and not show:
            _release(held.records, handlers)


def _release(records, handlers):
    shown = set()
    for record in records:
        if record.getMessage() in shown:
            continue
        shown.add(record.getMessage())
        for handler in handlers:
            if record.levelno >= handler.level:
                handler.handle(record)
