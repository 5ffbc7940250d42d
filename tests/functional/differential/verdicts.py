"""The property every family checks, and the shared Hypothesis settings."""

import hypothesis

from osc_gpu.rules import strictness

# Deterministic (same examples on every run), no example database, no
# per-example deadline (the judge is a process away). Families pick
# max_examples with settings(DIFFERENTIAL, max_examples=N).
DIFFERENTIAL = hypothesis.settings(
    derandomize=True, database=None, deadline=None, max_examples=2000,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.data_too_large,
                           hypothesis.HealthCheck.filter_too_much],
    print_blob=False)


def ours(check, *args):
    """``(ok, message)`` of one of osc-gpu's checks."""
    try:
        check(*args)
    except ValueError as exc:
        return False, str(exc)
    return True, ''


def covering(matchers, case):
    """The ids of the deliberate strictness entries that cover ``case``."""
    return [sid for sid, applies in matchers.items() if applies(case)]


def check(nova, ours_ok, our_message, case, matchers):
    """Never looser than nova; stricter only as documented.

    ``nova`` is the judge's verdict, ``ours_ok``/``our_message`` osc-gpu's,
    ``matchers`` ``{strictness id: predicate(case)}``. Returns the ids that
    excused a refusal (empty when none was needed).
    """
    if ours_ok:
        assert nova.ok, ('osc-gpu accepts %r but nova refuses it: %s'
                         % (case, nova.why))
        return []
    if not nova.ok:
        return []
    ids = covering(matchers, case)
    assert ids, ('osc-gpu refuses %r (%s) but nova accepts it, and no '
                 'DELIBERATE_STRICTNESS entry covers it' % (case,
                                                            our_message))
    unknown = [i for i in ids if i not in strictness.BY_ID]
    assert not unknown, 'matchers for undocumented strictness: %s' % unknown
    return ids


def check_strict(nova, ours_ok, our_message, case, matchers, sid):
    """A deliberate strictness is real: osc-gpu refuses ``case``, nova
    takes it, and the strictness entry ``sid`` is what excuses that."""
    assert (ours_ok, nova.ok) == (False, True), (our_message, nova.why)
    assert sid in check(nova, ours_ok, our_message, case, matchers)


def sweep(cases, verdicts, ours, matchers, shown=10):
    """``check`` for many cases at once, reporting every failure.

    ``verdicts`` are nova's (``nova_judge.many``), ``ours(case)`` gives
    ``(ok, message)``. For table-driven rules a sweep of every entry with
    its candidate values complements Hypothesis, which only samples.
    """
    failures = []
    for case, nova in zip(cases, verdicts):
        ok, message = ours(case)
        try:
            check(nova, ok, message, case, matchers)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, '%d of %d cases fail, e.g.:\n%s' % (
        len(failures), len(cases), '\n'.join(failures[:shown]))
