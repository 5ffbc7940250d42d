"""The documented strictness and the tests' matchers are the same list.

Every ``*MATCHERS`` dict of a test module here maps strictness ids to
predicates; an id there that ``DELIBERATE_STRICTNESS`` does not document
would excuse a refusal nobody explained, and an entry no matcher uses is
documentation no test checks. Needs no nova: it reads the modules.
"""

import importlib
import pathlib

from osc_gpu.rules import strictness

HERE = pathlib.Path(__file__).resolve().parent


def matchers_by_module():
    found = {}
    for path in sorted(HERE.glob('test_*.py')):
        module = importlib.import_module(
            'tests.functional.differential.' + path.stem)
        for name, value in vars(module).items():
            if name.endswith('MATCHERS') and isinstance(value, dict):
                found['%s.%s' % (path.stem, name)] = set(value)
    return found


def test_every_matcher_excuses_only_documented_strictness():
    documented = set(strictness.BY_ID)
    for where, ids in matchers_by_module().items():
        assert ids <= documented, '%s: %s' % (where, sorted(ids - documented))


def test_every_documented_strictness_has_a_matcher():
    used = set().union(*matchers_by_module().values())
    assert set(strictness.BY_ID) - used == set()


def test_every_entry_says_where_what_and_why():
    assert len(strictness.BY_ID) == len(strictness.DELIBERATE_STRICTNESS)
    for entry in strictness.DELIBERATE_STRICTNESS:
        assert entry.where and entry.refused and entry.reason, entry.id
        assert entry.reason.endswith('.'), entry.id
