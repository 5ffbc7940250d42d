"""Running the real ``openstack`` CLI, as operators and scripts do."""

import json
import os
import pathlib
import subprocess
import sys
import uuid

# The openstack of the venv running the tests, which has osc-gpu installed.
OPENSTACK = str(pathlib.Path(sys.executable).parent / 'openstack')


def unique(prefix):
    return 'ft-%s-%s' % (prefix, uuid.uuid4().hex[:8])


class CommandFailed(AssertionError):
    def __init__(self, args, result):
        super().__init__('openstack %s -> exit %d: %s' % (
            ' '.join(args), result.returncode, result.stderr.strip()))
        self.result = result


class OpenStack:
    def __init__(self, env, cloud=None):
        self.env = dict(os.environ, **env)
        if cloud:
            self.env['OS_CLOUD'] = cloud

    def as_cloud(self, cloud):
        return OpenStack({k: v for k, v in self.env.items()}, cloud)

    def run(self, args, check=True, timeout=300):
        result = subprocess.run([OPENSTACK] + list(args), env=self.env,
                                capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise CommandFailed(args, result)
        return result

    def start(self, args):
        """Start ``openstack ARGS`` in the background (a Popen)."""
        return subprocess.Popen([OPENSTACK] + list(args), env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def json(self, args):
        """Run with ``-f json`` and return the decoded output."""
        out = self.run(list(args) + ['-f', 'json']).stdout
        return json.loads(out) if out.strip() else None

    def fails(self, args):
        """Run expecting refusal; returns stderr's one line."""
        result = self.run(args, check=False)
        assert result.returncode == 1, (result.returncode, result.stdout,
                                        result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert 'Traceback' not in result.stderr, result.stderr
        assert len(lines) == 1, result.stderr
        return lines[0]


class DevCloud:
    def __init__(self, script):
        self.script = str(script)

    def domain_xml(self, server):
        return subprocess.run([self.script, 'xml', server], check=True,
                              capture_output=True, text=True).stdout
