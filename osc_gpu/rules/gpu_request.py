"""GPU requests: ``ALIAS:COUNT`` pairs and nova's ``pci_passthrough:alias``.

Two readings, on purpose:

- ``parse_gpu_requests`` checks what an operator asks ``gpu flavor
  create`` for. Nova only checks ``[^:]+:\\d+(,...)*`` (and only at
  microversion 2.86+), so ``P4:0`` or a duplicated alias would reach the
  scheduler; the rules here are stricter (the deliberate strictness is
  listed in :mod:`osc_gpu.rules.strictness`), and every refusal names the
  value and what is valid.
- ``read_alias_spec`` reads a flavor that already exists the way nova
  reads it when it boots a server (``_translate_alias_to_requests`` in
  nova/pci/request.py): split on ``,`` then ``:``, names stripped, counts
  through ``int()``. What nova boots is never refused there, only noted.
"""

import dataclasses

from osc_gpu.rules import echo
from osc_gpu.rules import nova_extra_specs
from osc_gpu.rules import nova_pci

ALIAS_SPEC_KEY = 'pci_passthrough:alias'
# Nova's JSON schema caps every extra spec value at 255 characters.
MAX_SPEC_LENGTH = nova_extra_specs.MAX_VALUE_LENGTH

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
    spec = render_alias_spec(requests)
    if len(spec) > MAX_SPEC_LENGTH:
        raise InvalidGpuRequest(
            "GPU request '%s...' is %d characters as %s; nova takes at most "
            "%d (use shorter alias names)"
            % (spec[:20], len(spec), ALIAS_SPEC_KEY, MAX_SPEC_LENGTH))
    return tuple(requests)


def render_alias_spec(requests):
    """Render requests as nova's ``pci_passthrough:alias`` value."""
    return ','.join(str(r) for r in requests)


def _read_item(item):
    """``(alias, count)`` of one item as nova reads it; ValueError if it
    cannot."""
    parts = item.split(':')
    if len(parts) != 2:
        raise ValueError("item %s is not ALIAS:COUNT" % echo.quoted(item))
    alias = parts[0].strip()
    if not alias or len(alias) > MAX_ALIAS_LENGTH:
        raise ValueError("alias name %s is not 1 to %d characters long"
                         % (echo.quoted(alias), MAX_ALIAS_LENGTH))
    try:
        # int(), exactly as nova reads it: ' 2', '+2' and '2_0' included.
        return alias, int(parts[1])
    except ValueError:
        raise ValueError("count %s is not a number"
                         % echo.quoted(parts[1])) from None


def read_alias_spec(value):
    """``(requests, notes)`` of an existing flavor's alias spec.

    Read as nova reads it when it boots a server, so a flavor nova boots
    is never refused: an alias named twice is one request for the total
    (nova asks for each entry, so the server gets the sum), counts of 0 or
    less ask for nothing, and what looks like a slip is explained in
    ``notes``. Raises :class:`InvalidGpuRequest` only for what nova
    cannot boot.
    """
    counts = {}
    for item in value.split(','):
        try:
            alias, count = _read_item(item)
        except ValueError as exc:
            raise InvalidGpuRequest("%s %s: %s, so nova cannot boot it"
                                    % (ALIAS_SPEC_KEY, echo.quoted(value),
                                       exc)) from None
        counts.setdefault(alias, []).append(count)
    notes = []
    requests = []
    for alias, asked in counts.items():
        total = sum(c for c in asked if c > 0)
        if len(asked) > 1:
            notes.append("%s asks for alias %s %d times (%s): nova gives "
                         "the server %d" % (ALIAS_SPEC_KEY, echo.quoted(alias),
                                            len(asked), echo.quoted(value),
                                            total))
        if any(c < 1 for c in asked):
            notes.append("%s %s asks for no %s device with a count below 1"
                         % (ALIAS_SPEC_KEY, echo.quoted(value),
                            echo.quoted(alias)))
        if total > MAX_GPU_COUNT:
            notes.append("%s asks for %d %s devices, more than the %d "
                         "'gpu flavor create' allows: is it a typo?"
                         % (ALIAS_SPEC_KEY, total, echo.quoted(alias),
                            MAX_GPU_COUNT))
        if total:
            requests.append(GpuRequest(alias, total))
    return tuple(requests), notes


def requests_from_extra_specs(extra_specs):
    """GPU requests stored on a flavor, or ``()`` when it asks for none.

    Read as nova boots it (:func:`read_alias_spec`); raises
    :class:`InvalidGpuRequest` for a value nova cannot boot, so a flavor
    written by hand with a typo is reported instead of ignored.
    """
    value = (extra_specs or {}).get(ALIAS_SPEC_KEY)
    if value is None:
        return ()
    return read_alias_spec(value)[0]
