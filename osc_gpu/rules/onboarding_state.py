"""The cloud as an onboarding plan sees it: plain records, no SDK objects.

``osc_gpu.cloud.onboarding`` fills a :class:`CloudState` with what the file
names (and, for ``--prune``, what carries the file's mark);
:mod:`onboarding_plan` compares it with the file.
"""

import dataclasses

CREATE, UPDATE, REPLACE, DELETE, UNCHANGED = (
    'create', 'update', 'replace', 'delete', 'unchanged')
# The marks of what an onboarding file made (``name`` is the file's name).
MARKER_SPEC = 'osc_gpu:onboarding'


def project_tag(name):
    return 'osc-gpu:%s' % name


def limit_description(name):
    return 'made by osc-gpu onboarding file %s' % name


@dataclasses.dataclass
class ProjectState:
    id: str
    name: str
    description: str = ''
    enabled: bool = True
    tags: tuple = ()
    servers: int = 0          # read only for projects --prune may delete


@dataclasses.dataclass
class FlavorState:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int = 0
    ephemeral: int = 0
    swap: int = 0
    is_public: bool = True
    description: str = None
    extra_specs: dict = dataclasses.field(default_factory=dict)
    access: frozenset = None  # project ids, for private flavors


@dataclasses.dataclass
class LimitState:
    id: str
    resource_name: str
    value: int
    description: str = ''
    project_id: str = None


@dataclasses.dataclass
class CloudState:
    """What the file names, as the cloud has it (missing ones absent)."""

    release: object
    nova_uses_unified_limits: bool = False
    domains: dict = dataclasses.field(default_factory=dict)   # name: id
    projects: dict = dataclasses.field(default_factory=dict)  # key: state
    registered: dict = dataclasses.field(default_factory=dict)
    limits: dict = dataclasses.field(default_factory=dict)    # (pid, rn)
    flavors: dict = dataclasses.field(default_factory=dict)
    images: dict = dataclasses.field(default_factory=dict)    # name: props
    image_ids: dict = dataclasses.field(default_factory=dict)
    # Projects tagged with the file's mark, by key (for --prune).
    tagged_projects: dict = dataclasses.field(default_factory=dict)
