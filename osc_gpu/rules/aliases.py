"""Which placement resource classes a nova PCI alias stands for.

Nova has no API that lists ``[pci] alias`` entries, yet capacity and
preflight checks need to know that ``P4`` means ``CUSTOM_PCI_10DE_1BB3``.
The cloud's entry in clouds.yaml may say so under ``gpu_aliases``::

    clouds:
      mycloud:
        gpu_aliases:
          P4: "10de:1bb3"                 # vendor:product, as in [pci] alias
          A16: CUSTOM_A16_16A             # or the alias's resource_class

Aliases not declared there fall back to the suggested alias names of the
known GPU models (``P4``, ``T4``, ``A100``...), which is what
``openstack gpu host config`` writes.
"""

import dataclasses
import re

from osc_gpu.rules import gpu_models
from osc_gpu.rules import nova_pci

CONFIG_KEY = 'gpu_aliases'
_IDS = re.compile(r'^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$')
_PCI_RC = re.compile(r'^CUSTOM_PCI_([0-9A-F]{4})_([0-9A-F]{4})$')
UNCHECKED_ALIAS = (
    "GPU alias '%%s' cannot be checked: nova has no API that lists its "
    "[pci] aliases; declare them under %s in this cloud's clouds.yaml "
    "entry (e.g. %s: {P4: \"10de:1bb3\"}) to have them checked"
    % (CONFIG_KEY, CONFIG_KEY))


class InvalidAliasMap(ValueError):
    """clouds.yaml ``gpu_aliases`` holds something we cannot read."""


class UnknownAlias(ValueError):
    """An alias that is not among the aliases clouds.yaml declares."""


def ids_of_resource_class(resource_class):
    """``(vendor_id, product_id)`` of a default PCI class, else None."""
    match = _PCI_RC.match(resource_class or '')
    return (match.group(1).lower(), match.group(2).lower()) if match else None


def model_name_of_resource_class(resource_class):
    ids = ids_of_resource_class(resource_class)
    return gpu_models.model_name(*ids) if ids else resource_class


@dataclasses.dataclass(frozen=True)
class AliasMap:
    """Alias name -> resource classes, from clouds.yaml and known models."""

    declared: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_cloud_config(cls, config):
        raw = (config or {}).get(CONFIG_KEY) or {}
        if not isinstance(raw, dict):
            raise InvalidAliasMap(
                "clouds.yaml %s must map alias names to 'vendor:product' or a "
                "resource class, e.g. P4: \"10de:1bb3\"" % CONFIG_KEY)
        return cls({str(name): _resource_classes(name, value)
                    for name, value in raw.items()})

    @property
    def is_declared(self):
        return bool(self.declared)

    def declared_name(self, alias):
        """The declared name ``alias`` stands for, or None."""
        # openstacksdk rewrites '-' as '_' in clouds.yaml keys, nested ones
        # included, so a declared 'p4-small' arrives as 'p4_small'.
        for name in (alias, alias.replace('-', '_')):
            if name in self.declared:
                return name
        return None

    def undeclared(self, names):
        """The ``names`` that are not this cloud's declared aliases."""
        return [n for n in names if self.declared_name(n) is None]

    def check_aliases(self, names):
        """Refuse aliases the cloud does not have, where that is known.

        With ``gpu_aliases`` declared they are the cloud's aliases: any
        other name raises :class:`UnknownAlias` naming them. Without, nova
        cannot tell (it has no API that lists ``[pci] alias``): returns a
        warning for each name that is not even a known model's alias.
        """
        if self.is_declared:
            unknown = self.undeclared(names)
            if unknown:
                raise UnknownAlias(
                    "unknown GPU alias %s: this cloud's aliases are %s (from "
                    "clouds.yaml %s); use one of them, or add the alias to "
                    "nova's [pci] alias and to %s"
                    % (_quoted(unknown), ', '.join(sorted(self.declared)),
                       CONFIG_KEY, CONFIG_KEY))
            return []
        models = {m.alias for m in gpu_models.GPU_MODELS}
        return [UNCHECKED_ALIAS % name for name in names
                if name not in models]

    def names(self):
        """Alias names this map resolves: declared ones, then models'."""
        models = sorted({m.alias for m in gpu_models.GPU_MODELS}
                        - set(self.declared))
        return list(self.declared) + models

    def resource_classes(self, alias):
        """The classes ``alias`` may claim, or ``()`` when unknown."""
        name = self.declared_name(alias)
        if name is not None:
            return self.declared[name]
        return tuple(sorted({
            nova_pci.default_resource_class(m.vendor_id, m.product_id)
            for m in gpu_models.GPU_MODELS if m.alias == alias}))

    def aliases_of(self, resource_class):
        """Alias names that claim ``resource_class``, declared ones first."""
        names = [n for n, rcs in self.declared.items()
                 if resource_class in rcs]
        if names:
            return names
        ids = ids_of_resource_class(resource_class)
        model = gpu_models.find_model(*ids) if ids else None
        return [model.alias] if model else []


def _quoted(names):
    return ', '.join("'%s'" % n for n in names)


def _resource_classes(name, value):
    values = value if isinstance(value, list) else [value]
    classes = []
    for item in values:
        if isinstance(item, dict):
            item = '%s:%s' % (item.get('vendor_id'), item.get('product_id'))
        item = str(item).strip()
        ids = _IDS.match(item)
        if ids:
            classes.append(nova_pci.default_resource_class(*ids.groups()))
        elif re.match(r'^CUSTOM_[A-Z0-9_]+$', item):
            classes.append(item)
        else:
            raise InvalidAliasMap(
                "clouds.yaml %s: alias '%s' maps to '%s'; use "
                "'vendor:product' (e.g. \"10de:1bb3\") or a resource class "
                "(e.g. CUSTOM_A16_16A)" % (CONFIG_KEY, name, item))
    return tuple(classes)
