"""Image properties as glance stores them and nova reads them.

- ``image_properties``: input ``{"properties": {key: value}}``, what one
  ``openstack gpu image prepare`` would PATCH onto an image. Glance's
  checks of a PATCH (read-only and reserved names, the ``os_glance``
  namespace, its image schema) for each property, then nova's reading of
  the lot: ``nova.image.glance`` decodes the JSON-valued ones and
  ``ImageMetaProps.from_dict`` coerces every property it knows.
- ``image_meta_catalogue``: input ignored; ``ImageMetaProps``' fields
  (type and allowed values) and its old-name map, for comparing with
  osc-gpu's table.
"""

from glance.api.v2 import images as glance_images
from glance.common import exception as glance_exception
from nova import exception
from nova.image import glance as nova_glance
from nova import objects

objects.register_all()
GLANCE_SCHEMA = glance_images.get_schema()
PATCH = glance_images.RequestDeserializer


def glance_refusal(key, value):
    if key in PATCH._readonly_properties or key in \
            PATCH._reserved_properties or any(
                key.startswith(ns) for ns in PATCH._reserved_namespaces):
        return "glance: attribute '%s' is read-only or reserved" % key
    try:
        GLANCE_SCHEMA.validate({key: value})
    except glance_exception.InvalidObject as exc:
        return 'glance: %s' % exc.msg.splitlines()[0]
    return ''


def image_properties(case):
    properties = case['properties']
    for key, value in properties.items():
        why = glance_refusal(key, value)
        if why:
            return {'ok': False, 'why': why}
    try:
        meta = nova_glance._convert_from_string({'properties':
                                                 dict(properties)})
        objects.ImageMetaProps.from_dict(meta['properties'])
    except (ValueError, TypeError, exception.NovaException) as exc:
        return {'ok': False, 'why': 'nova: %s: %s'
                % (type(exc).__name__, exc)}
    return {'ok': True}


def catalogue(_case):
    fields = {}
    for name, field in objects.ImageMetaProps.fields.items():
        fields[name] = {
            'field': type(field).__name__,
            'values': list(getattr(field._type, '_valid_values', None)
                           or ()),
        }
    return {'ok': True, 'fields': fields,
            'legacy': dict(objects.ImageMetaProps._legacy_property_map),
            'numa_nodes_max': objects.ImageMetaProps.NUMA_NODES_MAX,
            'glance_attributes': sorted(
                set(glance_images.get_base_properties())
                | set(PATCH._reserved_properties)),
            'glance_reserved_namespaces': list(PATCH._reserved_namespaces)}


FAMILIES = {'image_properties': image_properties,
            'image_meta_catalogue': catalogue}
