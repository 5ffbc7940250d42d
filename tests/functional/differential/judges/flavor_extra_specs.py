"""Flavor extra specs as nova's API takes them at microversion 2.86.

- ``flavor_extra_spec``: input ``{"key": str, "value": str}``; nova's JSON
  schema for ``POST /flavors/{id}/os-extra_specs`` (all microversions),
  then ``validators.validate(name, value)`` (2.86+).
- ``extra_spec_catalogue``: input ignored; every validator nova loaded
  (name, parameters, value type and limits) and the placement names it
  knows, for comparing with osc-gpu's table.
"""

import os_resource_classes
import os_traits

from nova.api.openstack.compute.schemas import flavors_extraspecs
from nova.api.validation import validators as schema_validators
from nova.api.validation.extra_specs import validators
from nova import exception

SCHEMA = schema_validators._SchemaValidator(flavors_extraspecs.create)


def extra_spec(case):
    try:
        SCHEMA.validate({'extra_specs': {case['key']: case['value']}})
        validators.validate(case['key'], case['value'])
    except exception.ValidationError as exc:
        return {'ok': False, 'why': exc.format_message()}
    return {'ok': True}


def catalogue(_case):
    entries = []
    for validator in validators.VALIDATORS.values():
        value = validator.value
        entries.append({
            'name': validator.name,
            'parameters': [p['name'] for p in validator.parameters],
            'type': value['type'].__name__,
            'enum': list(value.get('enum') or ()),
            'pattern': value.get('pattern', ''),
            'min': value.get('min'),
            'max': value.get('max'),
            'deprecated': validator.deprecated,
        })
    return {'ok': True, 'validators': entries,
            'namespaces': sorted(validators.NAMESPACES),
            'traits': sorted(os_traits.get_traits()),
            'resource_classes': list(os_resource_classes.STANDARDS)}


FAMILIES = {'flavor_extra_spec': extra_spec,
            'extra_spec_catalogue': catalogue}
