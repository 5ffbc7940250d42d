"""Turn cloud and transport failures into one line an operator can act on."""

import json
import re

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
