"""Differential tests: nova's own code judges what osc-gpu accepts.

The rule is "never looser than nova": whatever osc-gpu accepts, nova
accepts; where osc-gpu refuses what nova accepts, the case is one of the
documented entries of ``osc_gpu.rules.strictness.DELIBERATE_STRICTNESS``.
Hypothesis generates thousands of inputs per family (deterministically:
``derandomize=True``), osc-gpu's rules give their verdict in the test
process, and nova gives its verdict in a judge process.

The judge
    ``nova_judge.py`` runs under nova's python, once per test session
    (``$NOVA_PYTHON``, else the local cloud's venv under
    ``$DEVCLOUD_STATE`` or ``.state/devcloud``; without one the suite is
    skipped, saying so). It reads one JSON object per line on stdin,
    ``{"family": NAME, "input": ...}``, and answers one per line,
    ``{"ok": bool, "why": str, ...}``: ``why`` is nova's reason when it
    refuses, and a family may add keys (what nova parsed, say). A batch,
    ``{"family": NAME, "inputs": [...]}``, gets ``{"answers": [...]}`` in
    one round trip (``nova_judge.many(family, cases)``). A judge function
    that raises is a harness bug: the answer then carries ``"error"`` and
    the test fails with nova's traceback.

Adding a family (e.g. for ``[pci] alias``, ``device_spec`` or nova.conf)
    1. Add ``judges/<topic>.py`` (nova's python runs it: import nova,
       never osc_gpu) with ``FAMILIES = {'<family>': judge}``, where
       ``judge(input)`` returns ``{'ok': ..., 'why': ...}``. Catch the
       exceptions by which nova refuses, and only those. Every module in
       judges/ not starting with ``_`` is loaded; family names must be
       unique.
    2. Add ``test_<topic>.py`` here: a Hypothesis strategy of inputs (mix
       structured near-misses with raw text), ``@DIFFERENTIAL`` (the
       shared settings in ``verdicts.py``) or ``settings(DIFFERENTIAL,
       max_examples=...)``, and per example call
       ``verdicts.check(nova_judge(family, input), ours_ok, our_message,
       case, matchers)``. Hypothesis samples; where a rule is a table,
       also sweep every entry with its candidate values in one batch
       (``verdicts.sweep(cases, nova_judge.many(family, inputs), ours,
       matchers)``), so that no entry is left out by chance.
    3. For every way osc-gpu is deliberately stricter, add a
       ``Strictness`` entry (id, where, what, why) to
       ``osc_gpu/rules/strictness.py`` and a matcher ``{id: predicate}``
       in the test module that says when a case is covered by it.
       ``test_strictness_registry.py`` fails on entries without a matcher
       and on matchers without an entry.

Keep the whole suite well under two minutes: it runs with ``make test``.
"""
