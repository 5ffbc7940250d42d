"""``pci_passthrough:alias`` as nova's API and its boot path read it.

- ``pci_alias_spec``: would ``POST /flavors/{id}/os-extra_specs`` at
  microversion 2.86 take the value (JSON schema, then the extra spec
  validator), and can a server then boot with it
  (``_translate_alias_to_requests``)? Input ``{"value": str}``.
- ``pci_alias_boot``: only the boot path, for flavors that exist already
  (written at an older microversion, or by hand). Input ``{"value": str}``.

Both answer ``requests``: ``[[alias, count], ...]`` as nova made them. For
the boot path every alias the value names is defined in ``[pci] alias``
(a name nova strips to '' as ``' '``), so the answer is "nova boots it
given a matching alias", which is what an operator's cloud has.
"""

import json

import nova.conf
from nova.api.openstack.compute.schemas import flavors_extraspecs
from nova.api.validation import validators as schema_validators
from nova.api.validation.extra_specs import validators
from nova import exception
from nova import objects
from nova.pci import request as pci_request

objects.register_all()
CONF = nova.conf.CONF
KEY = 'pci_passthrough:alias'
SCHEMA = schema_validators._SchemaValidator(flavors_extraspecs.create)


def api_refusal(key, value):
    """nova's 400 text for ``key=value`` at 2.86, or '' when accepted."""
    try:
        SCHEMA.validate({'extra_specs': {key: value}})
        validators.validate(key, value)
    except exception.ValidationError as exc:
        return exc.format_message()
    return ''


def _alias_names(value):
    names = []
    for item in value.split(','):
        parts = item.split(':')
        if len(parts) == 2 and parts[0].strip() not in names:
            names.append(parts[0].strip())
    return names


def _define_aliases(names):
    # '$$' is how nova.conf spells a literal '$' (oslo.config substitutes
    # $name otherwise).
    CONF.set_override('alias', [
        json.dumps({'name': name or ' ', 'vendor_id': '10de',
                    'product_id': '1bb3'}).replace('$', '$$')
        for name in names], group='pci')
    pci_request.get_alias_from_config.cache_clear()


def boot(value):
    _define_aliases(_alias_names(value))
    try:
        made = pci_request._translate_alias_to_requests(value)
    except (exception.PciRequestAliasNotDefined, exception.PciInvalidAlias,
            ValueError) as exc:
        return {'ok': False, 'why': 'boot: %s: %s'
                % (type(exc).__name__, exc)}
    return {'ok': True, 'requests': [[r.alias_name, r.count] for r in made]}


def alias_spec(case):
    why = api_refusal(KEY, case['value'])
    if why:
        return {'ok': False, 'why': 'API: ' + why}
    return boot(case['value'])


def alias_boot(case):
    return boot(case['value'])


FAMILIES = {'pci_alias_spec': alias_spec, 'pci_alias_boot': alias_boot}
