"""One nova judge per session, and the shared Hypothesis settings."""

import dataclasses
import json
import os
import pathlib
import select
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
JUDGE = HERE / 'nova_judge.py'
ANSWER_TIMEOUT = 20         # seconds for one answer (nova's regexes)
START_TIMEOUT = 120         # importing nova and glance


def nova_python():
    """Nova's interpreter: $NOVA_PYTHON, else the local cloud's venv."""
    if os.environ.get('NOVA_PYTHON'):
        return os.environ['NOVA_PYTHON']
    state = os.environ.get('DEVCLOUD_STATE') or REPO / '.state' / 'devcloud'
    python = pathlib.Path(state) / 'venv' / 'bin' / 'python'
    return str(python) if python.exists() else None


@dataclasses.dataclass
class Verdict:
    ok: bool
    why: str
    data: dict


class JudgeError(AssertionError):
    """The judge broke (a harness bug), as opposed to nova refusing."""


class NovaJudge:
    def __init__(self, python, log):
        self.log = log
        self.verdicts = {}
        self.process = subprocess.Popen(
            [python, '-W', 'ignore', str(JUDGE)], cwd=str(HERE),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            text=True, encoding='utf-8')
        ready = self._read(START_TIMEOUT, 'starting')
        self.families = set(ready['ready'])

    def _read(self, timeout, what):
        readable, _, _ = select.select([self.process.stdout], [], [],
                                       timeout)
        line = self.process.stdout.readline() if readable else ''
        if not line:
            self.close()
            raise JudgeError('nova judge gave no answer %s (see %s)'
                             % (what, self.log.name))
        return json.loads(line)

    def __call__(self, family, case):
        """nova's verdict on one case."""
        return self.many(family, [case])[0]

    def many(self, family, cases):
        """nova's verdicts on many cases, in one round trip."""
        if family not in self.families:
            raise JudgeError('the judge has no family %r' % family)
        keys = [json.dumps([family, case], sort_keys=True) for case in cases]
        # Generated inputs repeat; nova's verdict on one does not change.
        new = {key: case for key, case in zip(keys, cases)
               if key not in self.verdicts}
        if new:
            self.process.stdin.write(json.dumps(
                {'family': family, 'inputs': list(new.values())}) + '\n')
            self.process.stdin.flush()
            answers = self._read(ANSWER_TIMEOUT + len(new) / 100,
                                 'for %s %r' % (family, cases[:3]))
            for key, answer in zip(new, answers['answers']):
                self.verdicts[key] = self._verdict(family, new[key], answer)
        return [self.verdicts[key] for key in keys]

    @staticmethod
    def _verdict(family, case, answer):
        if 'error' in answer:
            raise JudgeError('nova judge failed on %s %r:\n%s'
                             % (family, case, answer['error']))
        ok, why = answer.pop('ok'), answer.pop('why')
        return Verdict(ok, why, answer)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope='session')
def nova_judge(tmp_path_factory):
    python = nova_python()
    if python is None:
        pytest.skip('differential tests need nova: set NOVA_PYTHON to a '
                    'python that imports nova 34, or start the local cloud '
                    '(tools/devcloud up) whose venv has it')
    log = open(tmp_path_factory.mktemp('judge') / 'nova_judge.log', 'w')
    judge = NovaJudge(python, log)
    yield judge
    judge.close()
    log.close()
