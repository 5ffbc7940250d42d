"""Read a nova.conf and check its PCI options against this host's GPUs.

nova.conf is an oslo.config file where ``alias`` and ``device_spec`` may be
repeated (MultiStrOpt), which configparser cannot keep, so ``parse_ini``
follows oslo.config's own ini rules: ``key = value`` or ``key: value``,
``#``/``;`` comment lines, indented continuation lines, one pair of
surrounding quotes stripped, every value of a repeated key kept in order.
Only ``read_nova_conf`` touches the file system.
"""

import collections
import dataclasses
import json

from osc_gpu.rules import booleans
from osc_gpu.rules import nova_pci
from osc_gpu.host.readiness import Finding, PROBLEM, WARNING

PCI = 'pci'
ALIAS_OPTIONS = (('pci', 'alias'), ('DEFAULT', 'pci_alias'))
DEVICE_SPEC_OPTIONS = (('pci', 'device_spec'),
                       ('pci', 'passthrough_whitelist'),
                       ('DEFAULT', 'pci_passthrough_whitelist'))


@dataclasses.dataclass(frozen=True)
class Option:
    section: str
    key: str
    value: str
    lineno: int


@dataclasses.dataclass(frozen=True)
class NovaConf:
    path: str
    options: tuple          # every Option, in file order
    errors: tuple = ()      # (lineno, message) for lines oslo would refuse

    def values(self, section, key):
        return [o for o in self.options
                if (o.section, o.key) == (section, key)]

    def flag(self, section, key):
        found = self.values(section, key)
        return bool(found) and booleans.is_true(found[-1].value)


def parse_ini(text, path='nova.conf'):
    options, errors = [], []
    section, key, value, start = None, None, [], 0

    def flush():
        if key is not None:
            options.append(Option(section, key, '\n'.join(value), start))

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if line and line[0] in ' \t':
            if key is not None:
                value.append(line.lstrip())
            else:
                errors.append((lineno, 'indented line continues no option'))
            continue
        flush()
        key, value = None, []
        if not line or line[0] in '#;':
            continue
        if line.startswith('['):
            if not line.endswith(']') or len(line) < 3:
                errors.append((lineno, f'bad section header {line!r}'))
            section = line[1:-1]
        elif section is None:
            errors.append((lineno, 'option before any [section]'))
        else:
            equal, colon = line.find('='), line.find(':')
            cut = equal if colon < 0 or 0 <= equal < colon else colon
            if cut <= 0:
                errors.append((lineno, f'not a "key = value" line: {line!r}'))
                continue
            key, start = line[:cut].strip(), lineno
            first = line[cut + 1:].strip()
            if len(first) > 1 and first[0] == first[-1] and first[0] in '"\'':
                first = first[1:-1]
            value = [first]
    flush()
    return NovaConf(path, tuple(options), tuple(errors))


def read_nova_conf(path):
    with open(path, encoding='utf-8') as f:
        return parse_ini(f.read(), path)


def _where(option):
    return f'line {option.lineno} [{option.section}] {option.key}'


def _parse_json(option, findings):
    try:
        return json.loads(option.value)
    except ValueError as exc:
        findings.append(Finding(PROBLEM, 'nova-conf', str(option.lineno), (
            f'{_where(option)} is not valid JSON ({exc})'),
            'write one JSON object per line with double quotes, e.g. '
            f'{option.key} = {{"vendor_id": "10de", "product_id": "1bb3"}}'))
        return None


def _issues(option, label, issues, findings):
    for issue in issues:
        findings.append(Finding(issue.severity, 'nova-conf',
                                str(option.lineno),
                                f'{_where(option)}{label}: {issue.message}'))
    return not any(i.severity == PROBLEM for i in issues)


def _legacy(conf, findings):
    for (section, key), (new_section, new_key) in sorted(
            nova_pci.LEGACY_OPTIONS.items()):
        for option in conf.values(section, key):
            findings.append(Finding(WARNING, 'nova-conf', str(option.lineno),
                                    f'{_where(option)} is an old option name',
                                    f'rename it to [{new_section}] {new_key}'))


def _read_aliases(conf, in_placement, findings):
    by_name = collections.defaultdict(list)
    for section, key in ALIAS_OPTIONS:
        for option in conf.values(section, key):
            spec = _parse_json(option, findings)
            if spec is None:
                continue
            label = (f' {spec["name"]!r}' if isinstance(spec, dict)
                     and isinstance(spec.get('name'), str) else '')
            if _issues(option, label, nova_pci.validate_alias(
                    spec, in_placement), findings):
                by_name[spec['name']].append(spec)
    for name, specs in by_name.items():
        for issue in nova_pci.check_alias_group(name, specs, in_placement):
            findings.append(Finding(issue.severity, 'nova-conf', name,
                                    f'[pci] alias: {issue.message}'))
    return by_name


def _read_device_specs(conf, findings):
    specs = []
    for section, key in DEVICE_SPEC_OPTIONS:
        for option in conf.values(section, key):
            value = _parse_json(option, findings)
            if value is not None and _issues(
                    option, '', nova_pci.validate_device_spec(value),
                    findings):
                specs += [(option, s)
                          for s in nova_pci.device_spec_entries(value)]
    report = conf.flag(PCI, 'report_in_placement')
    for option, spec in specs:
        if booleans.is_true(spec.get('one_time_use', '')) and not report:
            findings.append(Finding(PROBLEM, 'nova-conf', str(option.lineno),
                                    f'{_where(option)}: one_time_use needs '
                                    '[pci] report_in_placement = true',
                                    'set it, or drop one_time_use'))
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
        line = nova_pci.option_line('device_spec', nova_pci.device_spec(
            device.vendor_id, device.product_id))
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


def _check_aliases(aliases, gpus, covered, findings):
    requested = set()   # GPUs some alias asks for, rightly or not
    here = ', '.join(sorted({f'{e.device.ids} ({e.name})' for e in gpus}))
    for name, specs in aliases.items():
        matched = [e for e in gpus for s in specs
                   if e.address in covered and nova_pci.alias_matches(
                       s, e.device.vendor_id, e.device.product_id,
                       e.device.nova_device_type, covered[e.address])]
        requested.update(e.address for e in matched)
        if matched:
            continue
        same_ids = [(e, s) for e in gpus for s in specs
                    if s.get('vendor_id') == e.device.vendor_id
                    and s.get('product_id') == e.device.product_id]
        wrong_type = [(e, s) for e, s in same_ids
                      if not nova_pci.alias_matches(
                          s, e.device.vendor_id, e.device.product_id,
                          e.device.nova_device_type)]
        if same_ids and not wrong_type:
            continue  # its GPUs lack a device_spec, reported above
        if wrong_type:
            requested.update(e.address for e, _ in wrong_type)
            entry, spec = wrong_type[0]
            wanted = entry.device.nova_device_type
            asked = (f'asks for device_type {spec["device_type"]}'
                     if 'device_type' in spec else 'has no device_type')
            findings.append(Finding(PROBLEM, 'nova-conf', name, (
                f'[pci] alias {name!r} {asked} but GPU {entry.label} is '
                f'{wanted} on this host, so the alias never gets it'),
                f'set "device_type": "{wanted}" in every alias named '
                f'{name!r}'))
        elif gpus:
            findings.append(Finding(WARNING, 'nova-conf', name, (
                f'[pci] alias {name!r} matches no GPU on this host'),
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


def check_nova_conf(conf, host, gpus):
    """Check nova.conf's PCI options against the GPUs to pass through.

    Return a summary dict for the report and a list of ``Finding``.
    """
    findings = [Finding(PROBLEM, 'nova-conf', str(lineno),
                        f'line {lineno}: {message}',
                        'fix the line: nova refuses to start on it')
                for lineno, message in conf.errors]
    _legacy(conf, findings)
    in_placement = conf.flag('filter_scheduler', 'pci_in_placement')
    aliases = _read_aliases(conf, in_placement, findings)
    specs = _read_device_specs(conf, findings)
    covered = _check_coverage(specs, host, gpus, findings)
    _check_aliases(aliases, gpus, covered, findings)
    summary = {'path': conf.path,
               'aliases': sorted(aliases),
               'device_specs': len(specs),
               'pci_in_placement': in_placement}
    return summary, findings
