"""Cloud and transport failures as one line an operator can act on.

Every SDK or keystoneauth exception leaves ``osc_gpu.cloud`` as a
:class:`CloudError` (an osc-lib ``CommandError``, so OSC prints its one line
and exits 1), built inside :func:`reporting`.
"""

import contextlib
import json
import re

from osc_lib import exceptions

_HINTS = {
    401: 'check the credentials of the cloud in clouds.yaml / OS_* variables',
    403: 'this needs the admin role (or a policy that allows it)',
}


def _one_line(text):
    return re.sub(r'\s+', ' ', str(text or '')).strip()


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
    if isinstance(exc, ksa_exc.ClientException):
        return '%s failed: %s' % (action, _one_line(exc))
    if isinstance(exc, sdk_exc.SDKException):
        return '%s failed: %s' % (action, _one_line(exc))
    return None


def is_cloud_error(exc):
    from keystoneauth1 import exceptions as ksa_exc
    from openstack import exceptions as sdk_exc
    return isinstance(exc, (sdk_exc.SDKException, ksa_exc.ClientException))


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
        error = _BY_STATUS.get(status, CloudError)(line)
        error.status_code = status
        raise error from exc
