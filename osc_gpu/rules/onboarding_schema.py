"""The onboarding file's JSON Schema, and a checker that reports every error.

The schema is data: the docs show it as it is here (a unit test keeps
``doc/source/user/onboarding.schema.json`` equal to it), and
:func:`schema_errors` checks a loaded file against it. The checker knows
the handful of keywords the schema uses and reports every problem with its
place in the file, instead of stopping at the first one.
"""

import difflib
import re

from osc_gpu.rules import flavor_specs
from osc_gpu.rules import image_properties

NAME_PATTERN = r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'

_STRING = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_LIMIT = {
    'description': 'GPUs the project may hold at once; -1 or "unlimited" '
                   'for no limit',
    'anyOf': [{'type': 'integer', 'minimum': -1},
              {'enum': ['unlimited']}]}
_QUOTAS = {
    'description': 'GPU limits by alias (P4), vGPU type (vgpu:nvidia-36) '
                   'or resource class (class:CUSTOM_PCI_10DE_1BB3); stored '
                   'as keystone limits on class:<RESOURCE_CLASS> of nova',
    'type': 'object',
    'propertyNames': {'pattern': r'^(class:|vgpu:)?[A-Za-z0-9][^,: ]*$'},
    'additionalProperties': _LIMIT}
_PROPERTIES = {'type': 'object',
               'additionalProperties': {'type': 'string', 'maxLength': 255}}
_FLAVOR = {
    'description': "A GPU flavor, as 'openstack gpu flavor create' makes it",
    'type': 'object',
    'required': ['name', 'gpu'],
    'additionalProperties': False,
    'properties': {
        'name': _STRING,
        'gpu': {'description': 'ALIAS:COUNT, a comma list or a list of them',
                'anyOf': [{'type': 'string', 'minLength': 1},
                          {'type': 'array', 'minItems': 1,
                           'items': {'type': 'string', 'minLength': 1}}]},
        'vcpus': {'type': 'integer', 'minimum': 1},
        'ram': {'description': 'MB', 'type': 'integer', 'minimum': 1},
        'disk': {'description': 'GB', 'type': 'integer', 'minimum': 0},
        'ephemeral': {'description': 'GB', 'type': 'integer', 'minimum': 0},
        'swap': {'description': 'MB', 'type': 'integer', 'minimum': 0},
        'description': {'type': 'string', 'maxLength': 65535},
        'hide_hypervisor': {'description': 'default true',
                            'type': 'boolean'},
        'numa_policy': {'enum': list(flavor_specs.NUMA_POLICIES)},
        'properties': _PROPERTIES}}
_IMAGE = {
    'description': "An existing glance image, prepared as 'openstack gpu "
                   "image prepare' does; a bare name takes the defaults",
    'anyOf': [
        _STRING,
        {'type': 'object', 'required': ['name'],
         'additionalProperties': False,
         'properties': {
             'name': _STRING,
             'hide_hypervisor': {'description': 'default true',
                                 'type': 'boolean'},
             'machine_type': {'type': 'string', 'pattern': image_properties
                              .GPU_IMAGE_PROPERTIES_BY_KEY[
                                  'hw_machine_type'].pattern},
             'firmware': {'enum': list(image_properties
                                       .GPU_IMAGE_PROPERTIES_BY_KEY[
                                           'hw_firmware_type'].values)},
             'video_model': {'enum': list(image_properties
                                          .GPU_IMAGE_PROPERTIES_BY_KEY[
                                              'hw_video_model'].values)},
             'os_type': {'enum': list(image_properties
                                      .GPU_IMAGE_PROPERTIES_BY_KEY[
                                          'os_type'].values)},
             'properties': _PROPERTIES}}]}
_PROJECT = {
    'type': 'object',
    'required': ['name'],
    'additionalProperties': False,
    'properties': {
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 64},
        'domain': {'description': 'default Default', 'type': 'string',
                   'minLength': 1, 'maxLength': 64},
        'description': {'type': 'string', 'maxLength': 65535},
        'enabled': {'type': 'boolean'},
        'quotas': _QUOTAS,
        'flavors': {'description': 'private GPU flavors this project may '
                                   'use (the same flavor may be listed by '
                                   'several projects)',
                    'type': 'array', 'items': _FLAVOR},
        'images': {'type': 'array', 'items': _IMAGE}}}

SCHEMA = {
    '$schema': 'https://json-schema.org/draft/2020-12/schema',
    'title': 'osc-gpu onboarding file',
    'type': 'object',
    'required': ['version', 'name'],
    'additionalProperties': False,
    'properties': {
        'version': {'enum': [1]},
        'name': {'description': 'what this file manages; marks what apply '
                                'creates, so --prune removes only that',
                 'type': 'string', 'pattern': NAME_PATTERN},
        'vgpu_types': {'description': 'vGPU type -> its [mdev_<type>] '
                                      'mdev_class (default VGPU)',
                       'type': 'object',
                       'additionalProperties': {
                           'type': 'string',
                           'pattern': r'^(VGPU|CUSTOM_[A-Z0-9_]+)$'}},
        'default_quotas': dict(_QUOTAS, description=(
            'cloud-wide defaults (keystone registered limits) for projects '
            'without a limit of their own')),
        'public_flavors': {'type': 'array', 'items': _FLAVOR},
        'images': {'type': 'array', 'items': _IMAGE},
        'projects': {'type': 'array', 'items': _PROJECT}}}

# Onboarding image keys -> gpu image prepare's property keys.
IMAGE_KEYS = {'hide_hypervisor': image_properties.HIDE_KEY,
              'machine_type': 'hw_machine_type',
              'firmware': 'hw_firmware_type',
              'video_model': 'hw_video_model', 'os_type': 'os_type'}

_TYPES = {'object': dict, 'array': list, 'string': str, 'boolean': bool,
          'integer': int}


def _type_ok(value, name):
    if name == 'integer' and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _shown(value):
    return "'%s'" % value if isinstance(value, str) else repr(value)


def _wording(schema):
    if 'enum' in schema:
        values = [_shown(v) for v in schema['enum']]
        return values[0] if len(values) == 1 else 'one of ' + ', '.join(
            values)
    kind = schema.get('type')
    return {'object': 'a mapping', 'array': 'a list', 'string': 'a string',
            'boolean': 'true or false',
            'integer': 'a whole number'}.get(kind, kind)


def schema_errors(value, schema=None, path=()):
    """``[(path, message, at_key)]`` for every place ``value`` breaks
    ``schema``; ``at_key`` is True when the error is about a mapping key."""
    schema = SCHEMA if schema is None else schema
    if 'anyOf' in schema:
        return _any_of(value, schema['anyOf'], path)
    if 'enum' in schema and value not in schema['enum']:
        return [(path, '%s is not %s' % (_shown(value), _wording(schema)),
                 False)]
    kind = schema.get('type')
    if kind and not _type_ok(value, kind):
        hint = ''
        if kind == 'string' and isinstance(value, (bool, int, float)):
            hint = " (quote it: '%s')" % str(value).lower() \
                if isinstance(value, bool) else " (quote it: '%s')" % value
        return [(path, 'must be %s, not %s%s' % (
            _wording(schema), _shown(value), hint), False)]
    if kind == 'object':
        return _object_errors(value, schema, path)
    if kind == 'array':
        found = []
        if len(value) < schema.get('minItems', 0):
            found.append((path, 'must not be empty', False))
        for index, item in enumerate(value):
            found += schema_errors(item, schema.get('items', {}),
                                   path + (index,))
        return found
    return _scalar_errors(value, schema, path)


def _scalar_errors(value, schema, path):
    if isinstance(value, str):
        if len(value) < schema.get('minLength', 0):
            return [(path, 'must not be empty', False)]
        if len(value) > schema.get('maxLength', len(value)):
            return [(path, 'is longer than %d characters'
                     % schema['maxLength'], False)]
        if 'pattern' in schema and not re.match(schema['pattern'], value):
            return [(path, '%s does not match %s' % (
                _shown(value), schema['pattern']), False)]
    if isinstance(value, int) and value < schema.get('minimum', value):
        return [(path, '%s is less than %d' % (value, schema['minimum']),
                 False)]
    return []


def _any_of(value, options, path):
    fitting = [o for o in options if 'enum' in o and value in o['enum']
               or o.get('type') and _type_ok(value, o['type'])]
    if fitting:
        return schema_errors(value, fitting[0], path)
    return [(path, 'must be %s, not %s' % (
        ' or '.join(_wording(o) for o in options), _shown(value)), False)]


def _object_errors(value, schema, path):
    found = []
    props = schema.get('properties', {})
    for key in schema.get('required', ()):
        if key not in value:
            found.append((path, "'%s' is missing" % key, False))
    names = schema.get('propertyNames', {}).get('pattern')
    for key, item in value.items():
        if key in props:
            found += schema_errors(item, props[key], path + (key,))
            continue
        extra = schema.get('additionalProperties', True)
        if extra is False:
            close = difflib.get_close_matches(str(key), list(props), 1)
            found.append((path + (key,), "unknown key '%s' (%s)" % (
                key, "did you mean '%s'?" % close[0] if close else
                'valid keys: ' + ', '.join(props)), True))
            continue
        if names and not re.match(names, str(key)):
            found.append((path + (key,), "invalid key '%s'" % key, True))
            continue
        if isinstance(extra, dict):
            found += schema_errors(item, extra, path + (key,))
    return found
