"""vGPU flavor extra specs as nova's API takes them and its scheduler reads
them.

- ``vgpu_flavor_specs``: input ``{"specs": {key: value, ...}}``. Would
  ``POST /flavors/{id}/os-extra_specs`` at microversion 2.86 take every
  spec (JSON schema, then the extra spec validators), and which request
  groups does the scheduler make of them
  (``ResourceRequest._process_extra_specs``, as
  ``ResourceRequest.from_request_spec`` calls it)? Answers ``groups``:
  ``{suffix or '': {"resources": {...}, "required": [...]}}``, and
  ``group_policy``.
"""

from nova.api.openstack.compute.schemas import flavors_extraspecs
from nova.api.validation import validators as schema_validators
from nova.api.validation.extra_specs import validators
from nova import exception
from nova import objects
from nova.scheduler import utils as scheduler_utils

objects.register_all()
SCHEMA = schema_validators._SchemaValidator(flavors_extraspecs.create)


def specs(case):
    extra_specs = case['specs']
    try:
        SCHEMA.validate({'extra_specs': extra_specs})
        for key, value in extra_specs.items():
            validators.validate(key, value)
    except exception.ValidationError as exc:
        return {'ok': False, 'why': exc.format_message()}
    request = scheduler_utils.ResourceRequest()
    request._process_extra_specs(objects.Flavor(extra_specs=extra_specs))
    groups = {(suffix or ''): {'resources': dict(group.resources),
                               'required': sorted(group.required_traits)}
              for suffix, group in request._rg_by_id.items()}
    return {'ok': True, 'why': '', 'groups': groups,
            'group_policy': request.group_policy}


FAMILIES = {'vgpu_flavor_specs': specs}
