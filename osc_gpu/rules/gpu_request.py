"""GPU requests: ``ALIAS:COUNT`` pairs and nova's ``pci_passthrough:alias``.

Nova only checks ``[^:]+:\\d+(,...)*`` (and only at microversion 2.86+), so
``P4:0`` or a duplicated alias reach the scheduler and fail late. The rules
here are stricter, and every refusal names the value and what is valid.
"""

import dataclasses

from osc_gpu.rules import nova_pci

ALIAS_SPEC_KEY = 'pci_passthrough:alias'

MAX_ALIAS_LENGTH = nova_pci.ALIAS_NAME_MAX
# No server takes more than a few dozen passthrough devices; a larger
# count is a typo (P4:200 for P4:2), not a plan.
MAX_GPU_COUNT = 64

_FORBIDDEN_IN_ALIAS = nova_pci.ALIAS_NAME_FORBIDDEN


class InvalidGpuRequest(ValueError):
    """A GPU request that nova would reject or misread."""


@dataclasses.dataclass(frozen=True)
class GpuRequest:
    """``count`` devices of the PCI alias ``alias``."""

    alias: str
    count: int

    def __str__(self):
        return '%s:%d' % (self.alias, self.count)


def _example(alias='P4'):
    return 'e.g. --gpu %s:2' % (alias or 'P4')


def parse_gpu_request(text):
    """Parse one ``ALIAS:COUNT`` item into a :class:`GpuRequest`."""
    item = text.strip()
    if item.count(':') != 1:
        raise InvalidGpuRequest(
            "invalid GPU request '%s': expected ALIAS:COUNT with one ':' "
            "(%s)" % (text, _example()))
    alias, count_text = (part.strip() for part in item.split(':'))
    if not alias:
        raise InvalidGpuRequest(
            "invalid GPU request '%s': the alias name before ':' is empty "
            "(%s)" % (text, _example()))
    if _FORBIDDEN_IN_ALIAS.search(alias):
        raise InvalidGpuRequest(
            "invalid GPU request '%s': alias '%s' must not contain ':', ',' "
            "or spaces (%s)" % (text, alias, _example()))
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidGpuRequest(
            "invalid GPU request '%s...': alias is longer than %d characters"
            % (text[:20], MAX_ALIAS_LENGTH))
    if not (count_text.isascii() and count_text.isdigit()):
        raise InvalidGpuRequest(
            "invalid GPU request '%s': count '%s' must be a whole number "
            "from 1 to %d (%s)"
            % (text, count_text, MAX_GPU_COUNT, _example(alias)))
    count = int(count_text)
    if not 1 <= count <= MAX_GPU_COUNT:
        raise InvalidGpuRequest(
            "invalid GPU request '%s': count must be a whole number from 1 "
            "to %d (%s)" % (text, MAX_GPU_COUNT, _example(alias)))
    return GpuRequest(alias, count)


def parse_gpu_requests(values):
    """Parse ``--gpu`` values (each one item or a comma list) in order.

    An alias asked for twice is refused rather than merged: nova turns each
    entry into its own request group, and with PCI in placement a repeated
    alias cannot be expressed at all, so ``P4:1,P4:1`` is almost always a
    mistake for ``P4:2`` and the operator should say which.
    """
    if isinstance(values, str):
        values = [values]
    requests = []
    seen = {}
    for value in values:
        if not value.strip():
            raise InvalidGpuRequest(
                "invalid GPU request '': expected ALIAS:COUNT (%s)"
                % _example())
        for item in value.split(','):
            request = parse_gpu_request(item)
            if request.alias in seen:
                raise InvalidGpuRequest(
                    "GPU alias '%s' is requested twice (%s and %s): ask once "
                    "with the total, e.g. --gpu %s:%d" % (
                        request.alias, seen[request.alias], request,
                        request.alias,
                        seen[request.alias].count + request.count))
            seen[request.alias] = request
            requests.append(request)
    if not requests:
        raise InvalidGpuRequest(
            'no GPU requested: give at least one --gpu ALIAS:COUNT (%s)'
            % _example())
    return tuple(requests)


def render_alias_spec(requests):
    """Render requests as nova's ``pci_passthrough:alias`` value."""
    return ','.join(str(r) for r in requests)


def requests_from_extra_specs(extra_specs):
    """GPU requests stored on a flavor, or ``()`` when it asks for none.

    Raises :class:`InvalidGpuRequest` for a value nova would choke on, so a
    flavor written by hand with a typo is reported instead of ignored.
    """
    value = (extra_specs or {}).get(ALIAS_SPEC_KEY)
    if value is None:
        return ()
    return parse_gpu_requests(value)
