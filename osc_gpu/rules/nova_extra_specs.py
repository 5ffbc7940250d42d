"""Every flavor extra spec nova 34 validates, as one table.

At compute microversion 2.86 and later nova checks an extra spec's value
against its validator (nova/api/validation/extra_specs/) and refuses a
key it does not know inside one of its own namespaces (``hw:``,
``quota:``, ``trait:``...). Keys in other namespaces, and keys without
one, pass untouched. ``check_extra_spec`` applies the same rules, in our
words, before any request is made, so ``hw:cpu_policy=bogus`` fails here
and not half way through ``gpu flavor create``.

Where nova is lenient about spelling we are not (the list, with reasons,
is ``strictness.DELIBERATE_STRICTNESS``): numbers are plain decimal
digits (nova's ``int()`` also takes ``' 7'``, ``'1_000'`` and non-ASCII
digits), booleans have no surrounding whitespace, patterns want ASCII
digits, and ``hw:numa_cpus.N``/``hw:numa_mem.N`` want a real dot.
"""

import dataclasses
import difflib
import re

from osc_gpu.rules import booleans
from osc_gpu.rules import echo
from osc_gpu.rules import placement_names

INT = 'int'
BOOL = 'bool'
TEXT = 'text'

# Nova's JSON schema caps every extra spec value (all microversions).
MAX_VALUE_LENGTH = 255

_CUSTOM = placement_names.CUSTOM_PREFIX + '[A-Z0-9_]+'


def _one_of(names):
    return '|'.join(re.escape(n) for n in sorted(names, key=len,
                                                 reverse=True))


# What each {parameter} in a rule's name stands for.
PARAMETERS = {
    'num': '[0-9]+',
    'group': '[a-zA-Z0-9_-]{0,64}',
    'resource': '%s|%s' % (
        _one_of(placement_names.STANDARD_RESOURCE_CLASSES), _CUSTOM),
    'trait': '%s|%s' % (_one_of(placement_names.STANDARD_TRAITS), _CUSTOM),
    'key': '.+',
    'filter': '(?::[A-Za-z0-9_]+)*',
}
_PARAMETER = re.compile(r'\{(\w+)\}')

# A CPU list such as 0-3,^2,6 (nova: hw:cpu_realtime_mask and friends).
CPU_LIST = r'\^?[0-9]+(?:-[0-9]+|,\^?[0-9]+)*'


class InvalidExtraSpec(ValueError):
    """A flavor property nova would refuse or misread."""


@dataclasses.dataclass(frozen=True)
class SpecRule:
    """One extra spec nova validates; ``{name}`` parts stand for any of
    ``PARAMETERS``."""

    name: str
    kind: str                   # INT, BOOL or TEXT
    summary: str = ''
    choices: tuple = ()         # TEXT: the only values
    pattern: str = ''           # TEXT: the whole value must match
    example: str = ''
    minimum: int = None
    maximum: int = None
    deprecated_for: str = ''

    def valid_values(self):
        """What nova takes, in words: 'one of a, b', 'a whole number...'."""
        if self.kind == BOOL:
            return 'true or false'
        if self.kind == INT:
            if self.minimum is not None and self.maximum is not None:
                return 'a whole number from %d to %d' % (
                    self.minimum, self.maximum)
            if self.minimum is not None:
                return 'a whole number of at least %d' % self.minimum
            return 'a whole number'
        if self.choices:
            return 'one of ' + ', '.join(self.choices)
        if self.pattern:
            return 'a value like %s' % self.example
        return 'any text'

    def example_value(self):
        if self.kind == BOOL:
            return 'true'
        if self.kind == INT:
            return str(self.minimum if self.minimum is not None else 1)
        return (self.choices or (self.example or 'x',))[0]

    def refuses(self, value):
        """True when nova refuses ``value`` (or we want it spelled better)."""
        if self.kind == BOOL:
            return value.lower() not in booleans.BOOLEAN_STRINGS
        if self.kind == INT:
            if not re.fullmatch('-?[0-9]+', value):
                return True
            number = int(value)
            return (self.minimum is not None and number < self.minimum
                    or self.maximum is not None and number > self.maximum)
        if self.choices:
            return value not in self.choices
        return bool(self.pattern) and not re.fullmatch(self.pattern, value)


def _int(name, summary, minimum=None, maximum=None):
    return SpecRule(name, INT, summary, minimum=minimum, maximum=maximum)


def _bool(name, summary, deprecated_for=''):
    return SpecRule(name, BOOL, summary, deprecated_for=deprecated_for)


def _choice(name, summary, *choices):
    return SpecRule(name, TEXT, summary, choices=choices)


def _text(name, summary, pattern='', example=''):
    return SpecRule(name, TEXT, summary, pattern=pattern, example=example)


_HW = (
    _bool('hw:cpu_realtime', 'realtime priority for guest CPUs'),
    _text('hw:cpu_realtime_mask', 'guest CPUs kept out of realtime',
          CPU_LIST, '^0-1'),
    _bool('hw:hide_hypervisor_id', 'hide the KVM signature from the guest'),
    _choice('hw:cpu_policy', 'pinned or floating guest CPUs',
            'dedicated', 'shared', 'mixed'),
    _choice('hw:cpu_thread_policy', 'use of host hyperthreads',
            'prefer', 'isolate', 'require'),
    _choice('hw:emulator_threads_policy', 'where emulator threads run',
            'isolate', 'share'),
    _text('hw:cpu_dedicated_mask', 'pinned guest CPUs of a mixed policy',
          CPU_LIST, '0-3'),
    _text('hw:mem_page_size', 'guest memory page size',
          '(?:large|small|any|[0-9]+(?:[kKMGT]i?)?(?:b|bit|B)?)', '2MB'),
    _bool('hw:locked_memory', 'lock guest memory (no swapping)'),
    _int('hw:numa_nodes', 'number of guest NUMA nodes', 1),
    _text('hw:numa_cpus.{num}', 'guest CPUs of guest NUMA node {num}',
          CPU_LIST, '0-1'),
    _int('hw:numa_mem.{num}', 'MB of memory of guest NUMA node {num}', 1),
    _choice('hw:pci_numa_affinity_policy',
            'how close PCI devices must be to the guest CPUs',
            'required', 'preferred', 'legacy', 'socket'),
    _int('hw:cpu_sockets', 'guest CPU sockets', 1),
    _int('hw:cpu_cores', 'guest CPU cores per socket', 1),
    _int('hw:cpu_threads', 'guest CPU threads per core', 1),
    _int('hw:cpu_max_sockets', 'most CPU sockets an image may ask for', 1),
    _int('hw:cpu_max_cores', 'most CPU cores an image may ask for', 1),
    _int('hw:cpu_max_threads', 'most CPU threads an image may ask for', 1),
    _bool('hw:boot_menu', 'show a boot menu'),
    _bool('hw:vif_multiqueue_enabled', 'virtio-net multiqueue'),
    _bool('hw:mem_encryption', 'encrypt guest memory (AMD SEV)'),
    _choice('hw:mem_encryption_model', 'memory encryption technology',
            'amd-sev', 'amd-sev-es', 'amd-sev-snp', 'intel-tdx'),
    _text('hw:pmem', 'vPMEM labels, comma separated',
          '[a-zA-Z0-9_]+(?:,[a-zA-Z0-9_]+)*,?', 'SMALL,LARGE'),
    _bool('hw:pmu', 'virtual performance monitoring unit'),
    _int('hw:serial_port_count', 'serial ports', 0),
    _choice('hw:tpm_model', 'virtual TPM model', 'tpm-tis', 'tpm-crb'),
    _choice('hw:tpm_version', 'virtual TPM version', '1.2', '2.0'),
    _choice('hw:tpm_secret_security', 'who holds the vTPM secret',
            'user', 'host', 'deployment'),
    _choice('hw:watchdog_action', 'what the watchdog does on a hang',
            'none', 'pause', 'poweroff', 'reset', 'disabled'),
    _choice('hw:viommu_model', 'virtual IOMMU model',
            'intel', 'smmuv3', 'virtio', 'auto'),
    _bool('hw:virtio_packed_ring', 'virtio packed ring format'),
    _choice('hw:sound_model', 'sound device', 'sb16', 'es1370', 'pcspk',
            'ac97', 'ich6', 'ich9', 'usb', 'virtio'),
    _choice('hw:usb_model', 'USB controller', 'none', 'nec-xhci',
            'qemu-xhci'),
    _int('hw:redirected_usb_ports', 'redirected USB ports', 0, 15),
    _bool('hw:ephemeral_encryption', 'encrypt ephemeral disks'),
    _choice('hw:ephemeral_encryption_format', 'ephemeral encryption format',
            'plain', 'luks', 'luksv2'),
)

_OTHER = (
    _bool('hw_rng:allowed', 'images may add a random number generator'),
    _int('hw_rng:rate_bytes', 'RNG bytes per period', 0),
    _int('hw_rng:rate_period', 'RNG period in milliseconds', 0),
    _int('hw_video:ram_max_mb', 'most video RAM an image may ask for', 0),
    _bool('hide_hypervisor_id', 'hide the KVM signature (old name)',
          deprecated_for='hw:hide_hypervisor_id'),
    _choice('group_policy', 'granular resource groups on one provider or '
            'not', 'isolate', 'none'),
    _choice('os:secure_boot', 'UEFI secure boot', 'disabled', 'required'),
    _text('pci_passthrough:alias', 'PCI devices as ALIAS:COUNT[,...]',
          r'[^:]+:[0-9]+(?:\s*,\s*[^:]+:[0-9]+)*', 'P4:1'),
    _text('accel:device_profile', 'Cyborg device profile name'),
    _text('aggregate_instance_extra_specs:{key}',
          'host aggregate metadata to match'),
    _text('vmware:hw_version', 'VMware hardware version'),
    _text('vmware:storage_policy', 'VMware storage policy'),
    _int('resources{group}:{resource}', 'amount of a placement resource'),
    _choice('trait{group}:{trait}', 'require or forbid a placement trait',
            'required', 'forbidden'),
)


def _quota_rules():
    rules = []
    for key, what in (('cpu', 'CPU MHz'), ('memory', 'memory MB'),
                      ('disk_io', 'disk IOPS'), ('vif', 'VIF Mbps')):
        rules += [
            _int('quota:%s_limit' % key, 'upper limit of %s (VMware)'
                 % what, 0),
            _int('quota:%s_reservation' % key, 'guaranteed %s (VMware)'
                 % what),
            _choice('quota:%s_shares_level' % key, 'share level (VMware)',
                    'custom', 'high', 'normal', 'low'),
            _int('quota:%s_shares_share' % key, 'custom shares (VMware)', 0),
        ]
    rules += [_int('quota:cpu_shares', 'relative CPU weight', 0),
              _int('quota:cpu_period', 'CPU quota period in microseconds',
                   0),
              _int('quota:cpu_quota', 'CPU time per period in microseconds')]
    rules += [_int('quota:disk_%s_%s_sec' % (op, unit), 'disk %s %s per '
                   'second' % (op, unit), 0)
              for op in ('read', 'write', 'total')
              for unit in ('bytes', 'iops')]
    rules += [_int('quota:vif_%s_%s' % (way, what), 'VIF %s %s' % (way, what),
                   0)
              for way in ('inbound', 'outbound')
              for what in ('average', 'peak', 'burst')]
    return tuple(rules)


# Host facts the ComputeCapabilitiesFilter compares; the nested ones may
# be followed by :sub:keys.
CAPABILITIES = (
    'id', 'uuid', 'service_id', 'host', 'vcpus', 'memory_mb', 'local_gb',
    'vcpus_used', 'memory_mb_used', 'local_gb_used', 'hypervisor_type',
    'hypervisor_version', 'hypervisor_hostname', 'free_ram_mb',
    'free_disk_gb', 'current_workload', 'running_vms',
    'disk_available_least', 'host_ip', 'mapped', 'cpu_allocation_ratio',
    'ram_allocation_ratio', 'disk_allocation_ratio', 'total_usable_ram_mb',
    'total_usable_disk_gb', 'disk_mb_used', 'free_disk_mb', 'vcpus_total',
    'num_instances', 'num_io_ops', 'failed_builds', 'aggregates',
    'cell_uuid', 'updated')
NESTED_CAPABILITIES = (
    'cpu_info', 'metrics', 'stats', 'numa_topology', 'supported_hv_specs',
    'pci_device_pools', 'nodename', 'pci_stats', 'supported_instances',
    'limits', 'instances')

_CAPABILITY_RULES = tuple(
    _text('capabilities:%s' % c, 'host capability to match')
    for c in CAPABILITIES) + tuple(
    _text('capabilities:%s{filter}' % c, 'host capability to match')
    for c in NESTED_CAPABILITIES)

EXTRA_SPEC_RULES = _HW + _OTHER + _quota_rules() + _CAPABILITY_RULES


def _name_regex(name):
    parts = _PARAMETER.split(name)
    # split() alternates literal text and parameter names.
    return ''.join(re.escape(p) if i % 2 == 0 else '(?:%s)' % PARAMETERS[p]
                   for i, p in enumerate(parts))


_EXACT = {r.name: r for r in EXTRA_SPEC_RULES if '{' not in r.name}
_TEMPLATED = tuple((re.compile(_name_regex(r.name)), r)
                   for r in EXTRA_SPEC_RULES if '{' in r.name)
NAMESPACES = tuple(sorted({r.name.split(':', 1)[0]
                           for r in EXTRA_SPEC_RULES if ':' in r.name}))
_NAMESPACE_PATTERNS = tuple(re.compile(_name_regex(n)) for n in NAMESPACES)


def rule_for(key):
    """The rule nova applies to ``key``, or None for a key it lets pass."""
    rule = _EXACT.get(key)
    if rule is not None:
        return rule
    for pattern, rule in _TEMPLATED:
        if pattern.fullmatch(key):
            return rule
    return None


def known_namespace(key):
    """``key``'s namespace when it is one nova validates, else ''."""
    if ':' not in key:
        return ''
    namespace = key.split(':', 1)[0]
    if any(p.fullmatch(namespace) for p in _NAMESPACE_PATTERNS):
        return namespace
    return ''


def _hint(key, namespace):
    if namespace.startswith(('trait', 'resources')):
        return (' (placement names are the standard ones or start with %s)'
                % placement_names.CUSTOM_PREFIX)
    close = difflib.get_close_matches(key, _EXACT, n=1)
    return " (did you mean '%s'?)" % close[0] if close else ''


def check_extra_spec(key, value):
    """Refuse what nova refuses for ``key=value`` at microversion 2.86+."""
    rule = rule_for(key)
    if rule is None:
        namespace = known_namespace(key)
        if namespace:
            raise InvalidExtraSpec(
                "unknown flavor property %s: nova knows no such extra spec "
                "in its %s: namespace%s"
                % (echo.quoted(key), namespace, _hint(key, namespace)))
        return
    if rule.refuses(value):
        raise InvalidExtraSpec(
            "invalid flavor property %s: use %s (e.g. --property %s=%s)"
            % (echo.quoted('%s=%s' % (key, value)), rule.valid_values(),
               key, rule.example_value()))
