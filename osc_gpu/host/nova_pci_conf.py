"""Read a nova.conf and check its PCI options against this host's GPUs.

The file is read with ``rules.nova_conf`` (oslo.config's rules: repeated
options, deprecated names, case-insensitive sections, $ references), each
``alias`` / ``device_spec`` value as nova reads it (``rules.nova_pci``).
Only ``read_nova_conf`` touches the file system. Whatever the file holds,
the result is findings of one line each: values are echoed escaped and
cut short, never a traceback.
"""

import collections
import dataclasses
import json

from osc_gpu.rules import nova_conf
from osc_gpu.rules import nova_pci
from osc_gpu.rules.echo import shown
from osc_gpu.rules.nova_conf import NovaConf, Option  # noqa: F401
from osc_gpu.host.readiness import Finding, PROBLEM, WARNING

PCI = 'pci'
_UNREADABLE = object()


def parse_ini(text, path='nova.conf'):
    """nova.conf text -> NovaConf, as oslo.config reads it."""
    return nova_conf.parse_ini(text, path)


# Far above any nova.conf (a few hundred KiB at most), far below what
# would hurt to hold in memory; /dev/zero ends here too.
MAX_BYTES = 16 * 1024 * 1024


def read_nova_conf(path):
    """Read the file; bytes that are not UTF-8 become an error line.

    A file above MAX_BYTES is not read: one error, no options.
    """
    with open(path, 'rb') as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return NovaConf(path, (), ((None, (
            f'the file is larger than {MAX_BYTES >> 20} MiB, which no '
            'nova.conf is: not read')),))
    text, error = nova_conf.decode(data)
    conf = nova_conf.parse_ini(text, path)
    if error:
        conf = NovaConf(path, conf.options, (error,) + conf.errors)
    return conf


def _where(option):
    return f'line {option.lineno} [{option.section}] {option.key}'


def _json_error(exc):
    if isinstance(exc, RecursionError):
        return 'nested too deeply'
    if isinstance(exc, json.JSONDecodeError):
        return f'{exc.msg}: line {exc.lineno} column {exc.colno}'
    return 'a number has too many digits'


def _parse_json(option, findings):
    """The option's JSON value, or _UNREADABLE (and a finding)."""
    value, reference = nova_conf.substitute(option.value)
    if reference:
        findings.append(Finding(PROBLEM, 'nova-conf', str(option.lineno), (
            f'{_where(option)}: {shown(reference)} is a reference to another '
            'option, which oslo.config puts in its place'),
            'write $$ for a literal $'))
        return _UNREADABLE
    try:
        return json.loads(value)
    except (ValueError, RecursionError) as exc:
        findings.append(Finding(PROBLEM, 'nova-conf', str(option.lineno), (
            f'{_where(option)} is not valid JSON ({_json_error(exc)})'),
            'write one JSON object per line with double quotes, e.g. '
            f'{option.key} = {{"vendor_id": "10de", "product_id": "1bb3"}}'))
        return _UNREADABLE


def _issues(option, label, issues, findings):
    for issue in issues:
        findings.append(Finding(issue.severity, 'nova-conf',
                                str(option.lineno),
                                f'{_where(option)}{label}: {issue.message}'))
    return not any(i.severity == PROBLEM for i in issues)


def _flags(conf, findings):
    for group, name in (('filter_scheduler', 'pci_in_placement'),
                        (PCI, 'report_in_placement')):
        bad = conf.bad_flag(group, name)
        if bad:
            findings.append(Finding(PROBLEM, 'nova-conf', str(bad.lineno), (
                f'{_where(bad)} {shown(bad.value)} is not a boolean '
                'oslo.config reads'), 'write true or false'))


def _legacy(conf, findings):
    for (section, key), (new_section, new_key) in sorted(
            nova_pci.LEGACY_OPTIONS.items()):
        for option in conf.values(section, key):
            findings.append(Finding(WARNING, 'nova-conf', str(option.lineno),
                                    f'{_where(option)} is an old option name',
                                    f'rename it to [{new_section}] {new_key}'))


def _read_aliases(conf, in_placement, findings):
    by_name = collections.defaultdict(list)
    for option in conf.option(PCI, 'alias'):
        spec = _parse_json(option, findings)
        if spec is _UNREADABLE:
            continue
        label = (f' {shown(spec["name"])}' if isinstance(spec, dict)
                 and isinstance(spec.get('name'), str) else '')
        if _issues(option, label, nova_pci.validate_alias(
                spec, in_placement), findings):
            by_name[nova_pci.alias_group_name(spec)].append(spec)
    for name, specs in by_name.items():
        for issue in nova_pci.check_alias_group(name, specs, in_placement):
            findings.append(Finding(issue.severity, 'nova-conf', shown(name),
                                    f'[pci] alias: {issue.message}'))
    return by_name


def _read_device_specs(conf, findings):
    specs = []
    report = conf.flag(PCI, 'report_in_placement')
    for option in conf.option(PCI, 'device_spec'):
        value = _parse_json(option, findings)
        if value is not _UNREADABLE and _issues(
                option, '', nova_pci.validate_device_spec(value, report),
                findings):
            specs += [(option, s) for s in nova_pci.device_spec_entries(value)]
    return specs


def _device_rc(spec, device):
    if 'resource_class' in spec:
        return nova_pci.normalize_resource_class(spec['resource_class'])
    return nova_pci.default_resource_class(device.vendor_id,
                                           device.product_id)


def _check_coverage(specs, host, gpus, findings):
    """Which GPUs a device_spec selects; device -> placement class."""
    covered = {}
    for entry in gpus:
        device = entry.device
        matching = [s for _, s in specs if nova_pci.device_spec_matches(
            s, device.vendor_id, device.product_id, device.address)]
        if matching:
            covered[entry.address] = _device_rc(matching[0], device)
            continue
        # A VF shares its PF's ids: select it by address, or the spec
        # would take the PF too and nova-compute refuses to start.
        address = device.address if device.nova_device_type == 'type-VF' \
            else None
        line = nova_pci.option_line('device_spec', nova_pci.device_spec(
            device.vendor_id, device.product_id, address))
        findings.append(Finding(PROBLEM, 'nova-conf', entry.address, (
            f'GPU {entry.label} is in no [pci] device_spec: nova-compute '
            'will not offer it'), f'add to [pci] on this compute: {line}'))
    gpu_addresses = {e.address for e in gpus}
    for option, spec in specs:
        if not set(spec) & {'vendor_id', 'product_id', 'address'}:
            continue  # validate_device_spec already warned: matches all
        extra = [d.address for d in sorted(host.devices.values(),
                                           key=lambda d: d.address)
                 if not d.is_gpu and d.address not in gpu_addresses
                 and nova_pci.device_spec_matches(
                     spec, d.vendor_id, d.product_id, d.address)]
        if extra:
            findings.append(Finding(WARNING, 'nova-conf', str(option.lineno), (
                f'{_where(option)} also selects {", ".join(extra[:3])}, '
                'which is not a GPU: nova would hand it out on its own'),
                'add product_id (or an address) so it selects only GPUs'))
    return covered


def _check_aliases(aliases, gpus, covered, findings, in_placement=False):
    requested = set()   # GPUs some alias asks for, rightly or not
    here = ', '.join(sorted({f'{e.device.ids} ({e.name})' for e in gpus}))
    for name, specs in aliases.items():
        matched = [e for e in gpus for s in specs
                   if e.address in covered and nova_pci.alias_matches(
                       s, e.device.vendor_id, e.device.product_id,
                       e.device.nova_device_type, covered[e.address],
                       in_placement)]
        requested.update(e.address for e in matched)
        if matched:
            continue
        same_ids = [(e, s) for e in gpus for s in specs
                    if str(s.get('vendor_id')).lower() == e.device.vendor_id
                    and str(s.get('product_id')).lower()
                    == e.device.product_id]
        wrong_type = [(e, s) for e, s in same_ids
                      if not nova_pci.alias_matches(
                          s, e.device.vendor_id, e.device.product_id,
                          e.device.nova_device_type)]
        other_class = [(e, s) for e, s in same_ids
                       if e.address in covered and (e, s) not in wrong_type]
        if in_placement and other_class:
            entry, spec = other_class[0]
            requested.update(e.address for e, _ in other_class)
            findings.append(Finding(PROBLEM, 'nova-conf', shown(name), (
                f'[pci] alias {shown(name)} asks placement for '
                f'{nova_pci.alias_resource_class(spec)} but its device_spec '
                f'puts GPU {entry.label} in {covered[entry.address]}, so the '
                'alias never gets it (pci_in_placement)'),
                f'set "resource_class": "{covered[entry.address]}" in the '
                'alias'))
            continue
        if same_ids and not wrong_type:
            continue  # its GPUs lack a device_spec, reported above
        if wrong_type:
            requested.update(e.address for e, _ in wrong_type)
            entry, spec = wrong_type[0]
            wanted = entry.device.nova_device_type
            asked = (f'asks for device_type {spec["device_type"]}'
                     if 'device_type' in spec else 'has no device_type')
            findings.append(Finding(PROBLEM, 'nova-conf', shown(name), (
                f'[pci] alias {shown(name)} {asked} but GPU {entry.label} is '
                f'{wanted} on this host, so the alias never gets it'),
                f'set "device_type": "{wanted}" in every alias named '
                f'{shown(name)}'))
        elif gpus:
            findings.append(Finding(WARNING, 'nova-conf', shown(name), (
                f'[pci] alias {shown(name)} matches no GPU on this host'),
                'fine on a controller for other hosts; otherwise compare '
                f'its vendor_id/product_id with the GPUs here: {here}'))
    for entry in gpus:
        if entry.address in covered and entry.address not in requested:
            line = nova_pci.option_line('alias', nova_pci.alias_spec(
                entry.alias, entry.device.vendor_id, entry.device.product_id,
                entry.device.nova_device_type))
            findings.append(Finding(WARNING, 'nova-conf', entry.address, (
                f'no [pci] alias requests GPU {entry.label}: flavors cannot '
                'ask for it'), f'add on the controller and computes: {line}'))


@dataclasses.dataclass(frozen=True)
class PciOptions:
    """The file's PCI options as nova reads them, and what is wrong."""

    aliases: dict           # stripped name -> [alias JSON object]
    device_specs: list      # [(Option, device_spec JSON object)]
    pci_in_placement: bool
    findings: list

    @property
    def problems(self):
        """The findings nova refuses to start (or to schedule) on."""
        return [f for f in self.findings if f.severity == PROBLEM]


def read_pci_options(conf):
    """Read and check the file alone, with no host: the lint."""
    findings = [Finding(PROBLEM, 'nova-conf', str(lineno or conf.path),
                        f'line {lineno}: {message}' if lineno else message,
                        'fix the line: nova refuses to start on it'
                        if lineno else 'give the path of a nova.conf')
                for lineno, message in conf.errors]
    _legacy(conf, findings)
    _flags(conf, findings)
    in_placement = conf.flag('filter_scheduler', 'pci_in_placement')
    aliases = _read_aliases(conf, in_placement, findings)
    specs = _read_device_specs(conf, findings)
    return PciOptions(aliases, specs, in_placement, findings)


def check_nova_conf(conf, host, gpus):
    """Check nova.conf's PCI options against the GPUs to pass through.

    Return a summary dict for the report and a list of ``Finding``.
    """
    pci = read_pci_options(conf)
    findings = list(pci.findings)
    covered = _check_coverage(pci.device_specs, host, gpus, findings)
    _check_aliases(pci.aliases, gpus, covered, findings,
                   pci.pci_in_placement)
    summary = {'path': conf.path,
               'aliases': [n if n.isprintable() else shown(n)
                           for n in sorted(pci.aliases)],
               'device_specs': len(pci.device_specs),
               'pci_in_placement': pci.pci_in_placement}
    return summary, findings
