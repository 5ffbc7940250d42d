"""cloud/errors.py: client warnings folded into the one line, answers that
are not the API described instead of the SDK's internal message."""

import io
import json
import logging

import pytest
import requests

from osc_gpu.cloud import errors


@pytest.fixture
def console():
    """A console handler on the root logger, as OSC's shell adds one."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


DISCOVERY = ('Failed to contact the endpoint at http://cloud/image for '
             'discovery. Fallback to using that endpoint as the base url.')


def _ksa_warning():
    logging.getLogger('keystoneauth.discover').warning(DISCOVERY)


def _failing_sdk_call():
    from openstack import exceptions as sdk_exc
    raise sdk_exc.SDKException('The image service exists but does not '
                               'have any supported versions.')


def test_a_failure_carries_the_warnings_gist_and_they_are_not_printed(
        console):
    with pytest.raises(errors.CloudError) as failed:
        with errors.warnings_folded():
            _ksa_warning()
            _ksa_warning()          # said twice, folded once
            with errors.reporting("looking up image 'x'"):
                _failing_sdk_call()
    assert str(failed.value) == (
        "looking up image 'x' failed: The image service exists but does "
        "not have any supported versions.; before that: Failed to contact "
        "the endpoint at http://cloud/image for discovery")
    assert console.getvalue() == ''


def test_on_success_the_held_warnings_are_shown_once(console):
    with errors.warnings_folded():
        _ksa_warning()
        _ksa_warning()
        logging.getLogger('osc_gpu').warning('ours pass at once')
        assert console.getvalue() == 'ours pass at once\n'
    assert console.getvalue() == 'ours pass at once\n%s\n' % DISCOVERY


def test_with_debug_they_pass_as_they_come(console):
    with pytest.raises(errors.CloudError):
        with errors.warnings_folded(show=True):
            _ksa_warning()
            assert console.getvalue() == DISCOVERY + '\n'
            with errors.reporting('x'):
                _failing_sdk_call()
    assert console.getvalue() == DISCOVERY + '\n'


def _response(body, content_type='text/html', status=200):
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers['Content-Type'] = content_type
    response.url = 'http://cloud/compute/v2.1/flavors/detail'
    response.request = requests.Request('GET', response.url).prepare()
    return response


def test_an_html_page_is_described_not_the_json_error():
    def sdk_reads(response):
        return response.json()
    with pytest.raises(errors.CloudError) as failed:
        with errors.reporting('listing flavors'):
            _as_sdk(lambda: sdk_reads(_response(b'<html>\n<b>hi</b>')))
    assert str(failed.value) == (
        "listing flavors failed: GET 'http://cloud/compute/v2.1/flavors/"
        "detail' answered HTTP 200 with text/html '<html> <b>hi</b>', not "
        "the OpenStack API; check auth_url in clouds.yaml and the endpoints "
        "in 'openstack catalog list'")


def _as_sdk(call):
    """Run ``call`` from a frame that counts as openstacksdk's."""
    namespace = {'__name__': 'openstack.resource', 'call': call}
    exec('def read():\n    return call()\n', namespace)
    return namespace['read']()


def test_a_bug_of_ours_is_not_passed_off_as_the_clouds():
    with pytest.raises(json.JSONDecodeError):
        with errors.reporting('x'):
            json.loads('')


def test_an_invalid_version_names_it():
    def discovery():
        raise TypeError('Invalid version specified: two point ninety')
    with pytest.raises(errors.CloudError) as failed:
        with errors.reporting('reading the compute API version'):
            _as_sdk(discovery)
    assert "gives 'two point ninety', which is not an API version" in str(
        failed.value)
