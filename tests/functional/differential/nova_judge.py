"""The judge: nova's own code says whether it accepts an input.

Run by the differential tests under nova's python (see __init__.py for
the protocol and how to add a family). Each module in judges/ contributes
``FAMILIES = {name: function}``. The protocol uses the process's real
stdout; anything nova's imports print goes to stderr instead.
"""

import importlib.util
import json
import os
import pathlib
import sys
import traceback
import warnings

JUDGES = pathlib.Path(__file__).resolve().parent / 'judges'


def keep_every_regex_compiled():
    """nova's extra spec lookup tries ~525 validator name patterns with
    ``re.fullmatch(pattern, name)``; Python's re cache holds 512, so each
    unknown key recompiled them all (50 ms). A larger cache changes no
    verdict."""
    import re
    re._MAXCACHE = max(getattr(re, '_MAXCACHE', 0), 4096)


def check_each_schema_once():
    """Make ``jsonschema.validate`` check a schema once, not every call.

    nova ([pci] alias) and glance (images) call ``jsonschema.validate``,
    which first validates the schema itself: 15-60 ms a call, most of a
    judge's time. The same schema gives the same verdict and the same
    error (``best_match``), so the validator is built once per schema.
    """
    import jsonschema

    validators = {}

    def validate(instance, schema, cls=None, *args, **kwargs):
        key = json.dumps(schema, sort_keys=True, default=repr)
        if key not in validators:
            kind = cls or jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            validators[key] = kind(schema, *args, **kwargs)
        error = jsonschema.exceptions.best_match(
            validators[key].iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validate


def load_families():
    families = {}
    for path in sorted(JUDGES.glob('*.py')):
        if path.name.startswith('_'):
            continue
        spec = importlib.util.spec_from_file_location(
            'judges.' + path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, judge in module.FAMILIES.items():
            if name in families:
                raise SystemExit('family %r is defined twice' % name)
            families[name] = judge
    return families


def judge_one(families, family, case):
    judge = families.get(family)
    if judge is None:
        return {'ok': False, 'why': '', 'error': 'no family %r' % family}
    try:
        verdict = judge(case)
    except Exception:
        return {'ok': False, 'why': '', 'error': traceback.format_exc()}
    if not isinstance(verdict, dict) or not isinstance(verdict.get('ok'),
                                                       bool):
        return {'ok': False, 'why': '', 'error': 'judge %r gave %r'
                % (family, verdict)}
    verdict.setdefault('why', '')
    return verdict


def answer(families, line):
    """One verdict for ``input``, or ``{"answers": [...]}`` for
    ``inputs`` (a batch: one round trip for many cases)."""
    try:
        request = json.loads(line)
        family = request['family']
    except (ValueError, KeyError, TypeError) as exc:
        return {'ok': False, 'why': '', 'error': 'bad request %r: %s'
                % (line[:200], exc)}
    if 'inputs' in request:
        return {'answers': [judge_one(families, family, case)
                            for case in request['inputs']]}
    return judge_one(families, family, request.get('input'))


def main():
    warnings.simplefilter('ignore')
    # Keep the real stdout for answers; point fd 1 (and sys.stdout) at
    # stderr so nothing else can write into the protocol.
    protocol = os.fdopen(os.dup(1), 'w', encoding='utf-8')
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    keep_every_regex_compiled()
    check_each_schema_once()
    families = load_families()
    protocol.write(json.dumps({'ready': sorted(families)}) + '\n')
    protocol.flush()
    for line in sys.stdin:
        protocol.write(json.dumps(answer(families, line)) + '\n')
        protocol.flush()


if __name__ == '__main__':
    main()
