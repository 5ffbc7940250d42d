"""GPU tenant onboarding as a file: what it may say, checked all at once.

``openstack gpu plan|apply -f FILE`` read a YAML file (see
``examples/onboarding.yaml`` and the JSON Schema in
:mod:`onboarding_schema`). Every problem in it is found before any request
is sent, and each is reported with its line and column and the fix; the
checks are the single commands' own (``gpu flavor create``, ``gpu image
prepare``), so a file is refused exactly where a command line would be.
"""

import dataclasses

from osc_gpu.rules import aliases
from osc_gpu.rules import flavor_specs
from osc_gpu.rules import gpu_request
from osc_gpu.rules import image_properties
from osc_gpu.rules import onboarding_schema
from osc_gpu.rules import quotas

DEFAULT_DOMAIN = 'Default'
# The single commands' options, as the file spells them, for error texts.
_OPTION_WORDS = (('--gpu ', 'gpu: '), ('--property ', 'properties: '),
                 ('--numa-policy', 'numa_policy'),
                 ('--hide-hypervisor', 'hide_hypervisor'))
_FLAVOR_DEFAULTS = {'vcpus': 1, 'ram': 256, 'disk': 0, 'ephemeral': 0,
                    'swap': 0}


@dataclasses.dataclass(frozen=True)
class FileError:
    path: tuple
    message: str
    line: int = 0
    column: int = 0

    def render(self, filename):
        where = dotted(self.path)
        return '%s:%d:%d: %s%s' % (filename, self.line, self.column,
                                   where + ': ' if where else '',
                                   self.message)


class InvalidFile(ValueError):
    """The file has errors; ``errors`` lists every one, in file order."""

    def __init__(self, errors):
        super().__init__('%d errors' % len(errors))
        self.errors = sorted(errors, key=lambda e: (e.line, e.column))


def dotted(path):
    """``projects[0].flavors[1].gpu`` for a path tuple."""
    text = ''
    for part in path:
        text += '[%d]' % part if isinstance(part, int) else (
            ('.' if text else '') + str(part))
    return text


class Positions:
    """Where each value (and each mapping key) of a loaded file starts."""

    def __init__(self, values=None, keys=None):
        self.values = values or {}
        self.keys = keys or {}

    def of(self, path, at_key=False):
        path = tuple(path)
        if at_key and path in self.keys:
            return self.keys[path]
        while path and path not in self.values:
            path = path[:-1]
        return self.values.get(path, (1, 1))


@dataclasses.dataclass(frozen=True)
class QuotaSpec:
    resource: object           # quotas.GpuResource
    limit: int
    path: tuple = ()


@dataclasses.dataclass(frozen=True)
class ProjectSpec:
    name: str
    domain: str = DEFAULT_DOMAIN
    description: str = None    # None: not managed
    enabled: bool = None       # None: not managed (created enabled)
    quotas: tuple = ()
    path: tuple = ()

    @property
    def key(self):
        return (self.domain, self.name)

    def __str__(self):
        if self.domain == DEFAULT_DOMAIN:
            return self.name
        return '%s/%s' % (self.domain, self.name)


@dataclasses.dataclass(frozen=True)
class FlavorSpec:
    name: str
    requests: tuple
    is_public: bool
    sizes: tuple = ()          # ((field, value), ...) given in the file
    description: str = None
    hide_hypervisor: bool = True
    numa_policy: str = None
    properties: tuple = ()     # ((key, value), ...)
    projects: tuple = ()       # project keys (domain, name) with access
    path: tuple = ()

    def size(self, field):
        return dict(self.sizes).get(field, _FLAVOR_DEFAULTS[field])

    def definition(self):
        """What two places defining the same flavor must agree on."""
        return dataclasses.replace(self, projects=(), path=())


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    name: str
    wanted: tuple              # ((property, value), ...) to set
    path: tuple = ()


@dataclasses.dataclass(frozen=True)
class Onboarding:
    name: str
    projects: tuple = ()
    flavors: tuple = ()
    images: tuple = ()
    default_quotas: tuple = ()
    vgpu_types: tuple = ()
    notes: tuple = ()          # what could not be checked, to tell

    def resources(self):
        """Every GPU resource the file limits, defaults included."""
        found = {q.resource.limit_name: q.resource
                 for p in self.projects for q in p.quotas}
        found.update({q.resource.limit_name: q.resource
                      for q in self.default_quotas})
        return list(found.values())


def _file_words(message):
    for option, key in _OPTION_WORDS:
        message = message.replace(option, key)
    return message


class _Reader:
    """Builds the model, collecting errors instead of stopping."""

    def __init__(self, positions, alias_map):
        self.positions = positions
        self.alias_map = alias_map
        self.errors = []
        self.vgpu_types = {}
        self.broken = set()        # paths the schema found wrong
        self.notes = []

    def intact(self, path, whole=True):
        """No schema error at ``path`` or above it (nor, if ``whole``,
        anywhere below it): its meaning can be checked."""
        path = tuple(path)
        for bad in self.broken:
            if path[:len(bad)] == bad or whole and bad[:len(path)] == path:
                return False
        return True

    def items(self, data, path, whole=True):
        """``(path, item)`` of the list at ``path`` whose shapes are right."""
        if not self.intact(path, whole=False):
            return []
        return [(path + (i,), item)
                for i, item in enumerate(data.get(path[-1]) or ())
                if self.intact(path + (i,), whole)]

    def error(self, path, message, at_key=False):
        line, column = self.positions.of(path, at_key)
        self.errors.append(FileError(tuple(path), _file_words(message),
                                     line, column))

    def quotas(self, mapping, path):
        found, classes = [], {}
        if not self.intact(path, whole=False):
            return ()
        for key, value in (mapping or {}).items():
            if not self.intact(path + (key,)):
                continue
            kind, name = quotas.split_quota_key(key)
            try:
                resource = quotas.gpu_resource(kind, name, self.alias_map,
                                               self.vgpu_types)
                limit = quotas.parse_limit(value)
            except quotas.InvalidQuota as exc:
                self.error(path + (key,), str(exc), at_key=True)
                continue
            if resource.limit_name in classes:
                self.error(path + (key,), "%s limits %s, as %s does: give "
                           "it once" % (key, resource.limit_name,
                                        classes[resource.limit_name]), True)
                continue
            classes[resource.limit_name] = key
            found.append(QuotaSpec(resource, limit, path + (key,)))
        return tuple(found)

    def flavor(self, data, path, is_public, project=None):
        gpu = data['gpu']
        try:
            requests = gpu_request.parse_gpu_requests(gpu)
        except gpu_request.InvalidGpuRequest as exc:
            self.error(path + ('gpu',), str(exc))
            requests = ()
        self._check_aliases(requests, path + ('gpu',))
        for key, value in (data.get('properties') or {}).items():
            try:
                flavor_specs.check_property(key, value)
            except ValueError as exc:
                self.error(path + ('properties', key), str(exc), True)
        return FlavorSpec(
            name=data['name'], requests=requests, is_public=is_public,
            sizes=tuple((k, data[k]) for k in _FLAVOR_DEFAULTS if k in data),
            description=data.get('description'),
            hide_hypervisor=data.get('hide_hypervisor', True),
            numa_policy=data.get('numa_policy'),
            properties=tuple(sorted((data.get('properties') or {}).items())),
            projects=(project.key,) if project else (), path=path)

    def _check_aliases(self, requests, path):
        """The single commands' alias check: declared aliases only (an
        error), else a note for names no known model suggests."""
        try:
            notes = self.alias_map.check_aliases([r.alias for r in requests])
        except aliases.UnknownAlias as exc:
            self.error(path, str(exc))
            return
        self.notes.extend(n for n in notes if n not in self.notes)

    def image(self, data, path):
        if isinstance(data, str):
            data = {'name': data}
        options = {onboarding_schema.IMAGE_KEYS[k]: v for k, v in
                   data.items() if k in onboarding_schema.IMAGE_KEYS
                   and k != 'hide_hypervisor'}
        try:
            wanted = image_properties.wanted_properties(
                data.get('hide_hypervisor', True), options,
                data.get('properties') or {})
        except ValueError as exc:
            self.error(path, str(exc))
            wanted = {}
        return ImageSpec(data['name'], tuple(wanted.items()), path)

    def project(self, data, path):
        if not all(self.intact(path + (key,)) for key in (
                'name', 'domain', 'description', 'enabled')):
            return None
        spec = ProjectSpec(
            name=data['name'], domain=data.get('domain', DEFAULT_DOMAIN),
            description=data.get('description'),
            enabled=data.get('enabled'), path=path)
        return dataclasses.replace(spec, quotas=self.quotas(
            data.get('quotas'), path + ('quotas',)))


def read_onboarding(data, positions=None, alias_map=None):
    """The :class:`Onboarding` a loaded file describes.

    ``data`` is the file as plain values, ``positions`` where each one
    starts, ``alias_map`` the cloud's aliases (clouds.yaml). Raises
    :class:`InvalidFile` with every error found: the schema's, then the
    meanings of every part whose shape was right.
    """
    reader = _Reader(positions or Positions(), alias_map or aliases.AliasMap())
    if not isinstance(data, dict):
        reader.error((), 'the file must be a mapping with version: 1, '
                     'name: and projects: (see examples/onboarding.yaml)')
        raise InvalidFile(reader.errors)
    for path, message, at_key in onboarding_schema.schema_errors(data):
        reader.error(path, message, at_key)
        reader.broken.add(path)
    if reader.intact(('vgpu_types',)):
        reader.vgpu_types = dict(data.get('vgpu_types') or {})
    model = Onboarding(
        name=data.get('name'),
        default_quotas=reader.quotas(data.get('default_quotas'),
                                     ('default_quotas',)),
        vgpu_types=tuple(sorted(reader.vgpu_types.items())))
    projects, flavors, images = [], [], []
    for path, item in reader.items(data, ('public_flavors',)):
        flavors.append(reader.flavor(item, path, True))
    for path, item in reader.items(data, ('images',)):
        images.append(reader.image(item, path))
    for path, item in reader.items(data, ('projects',), whole=False):
        project = reader.project(item, path)
        if project is None:
            continue
        projects.append(project)
        for place, flavor in reader.items(item, path + ('flavors',)):
            flavors.append(reader.flavor(flavor, place, False, project))
        for place, image in reader.items(item, path + ('images',)):
            images.append(reader.image(image, place))
    model = dataclasses.replace(
        model, projects=_unique_projects(reader, projects),
        flavors=_merged_flavors(reader, flavors),
        images=_merged_images(reader, images), notes=tuple(reader.notes))
    if reader.errors:
        raise InvalidFile(reader.errors)
    return model


def _line_of(reader, path):
    return reader.positions.of(path)[0]


def _unique_projects(reader, projects):
    seen = {}
    for project in projects:
        if project.key in seen:
            reader.error(project.path + ('name',), "project '%s' is already "
                         'described at line %d: describe each project once'
                         % (project, _line_of(reader, seen[project.key])))
            continue
        seen[project.key] = project.path
    return tuple(projects)


def _merged_flavors(reader, flavors):
    """One spec per flavor name; private ones list every project."""
    merged = {}
    for flavor in flavors:
        first = merged.get(flavor.name)
        if first is None:
            merged[flavor.name] = flavor
        elif first.definition() != flavor.definition():
            reader.error(flavor.path + ('name',), "flavor '%s' is described "
                         'differently at line %d: describe it once and '
                         'list it in each project with a YAML anchor '
                         '(&name, then *name)' % (
                             flavor.name, _line_of(reader, first.path)))
        elif flavor.projects and not set(flavor.projects) <= set(
                first.projects):
            merged[flavor.name] = dataclasses.replace(
                first, projects=first.projects + flavor.projects)
    return tuple(merged.values())


def _merged_images(reader, images):
    merged = {}
    for image in images:
        first = merged.get(image.name)
        if first is None:
            merged[image.name] = image
        elif dict(first.wanted) != dict(image.wanted):
            reader.error(image.path, "image '%s' is prepared differently at "
                         'line %d: give it the same settings everywhere'
                         % (image.name, _line_of(reader, first.path)))
    return tuple(merged.values())
