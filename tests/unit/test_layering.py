"""The package's floors, checked from the source (ast; nothing imported).

    v1/            thin cliff commands              may use everything below
    host/ cloud/   compute node | a cloud's APIs    never each other
    rules/         pure facts and functions          standard library only

plugin.py is imported by every ``openstack`` run, so it may import only
``osc_lib.utils`` and ``os`` (loaded before any plugin); only cloud/ talks
to openstacksdk or keystoneauth.
"""

import ast
import pathlib
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / 'osc_gpu'
SDK = ('openstack', 'keystoneauth1')
OUTSIDE_PRODUCT = ('tools', 'tests', 'bench')
# What plugin.py may import: already loaded when OSC imports it.
PLUGIN_IMPORTS = ('osc_lib', 'osc_lib.utils', 'os')
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def imports_of(tree, name, is_package=False):
    """Absolute names of every module ``tree`` imports, at any depth."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = name.split('.')
                anchor = anchor[:len(anchor) - node.level + is_package]
                base = '.'.join(anchor + ([base] if base else []))
            found.add(base)
            # ``from pkg import mod`` imports pkg.mod when it is a module.
            found.update('%s.%s' % (base, alias.name) for alias in node.names)
    return found


def read_package(root):
    """``{module: (imports, tree, lines)}`` for every module under root."""
    modules = {}
    for path in sorted(root.rglob('*.py')):
        name = module_name(path, root)
        source = path.read_text(encoding='utf-8')
        tree = ast.parse(source, str(path))
        modules[name] = (imports_of(tree, name, path.name == '__init__.py'),
                         tree, source.count('\n'))
    return modules


def _top(name):
    return name.split('.')[0]


def _floor(module):
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def violations(modules):
    """Every layering rule broken in ``modules``, one line each."""
    package = _top(next(iter(modules)))
    found = []
    for module, (imports, _, _) in sorted(modules.items()):
        floor = _floor(module)
        inner = {i for i in imports if _top(i) == package and i in modules}
        for imported in sorted(imports):
            top = _top(imported)
            if top in SDK and floor != 'cloud':
                found.append('%s imports %s: only cloud/ may talk to the '
                             'SDK' % (module, imported))
            if top in OUTSIDE_PRODUCT:
                found.append('%s imports %s, which is not shipped'
                             % (module, imported))
            if floor == 'rules' and top != package and \
                    top not in sys.stdlib_module_names:
                found.append('%s imports %s: rules/ uses the standard '
                             'library only' % (module, imported))
            if floor == 'host' and (top == 'osc_lib' or _floor(imported)
                                    == 'cloud' and top == package):
                found.append('%s imports %s: host/ needs no cloud and no '
                             'osc-lib' % (module, imported))
            if module == package + '.plugin' and \
                    imported not in PLUGIN_IMPORTS:
                found.append('%s imports %s: plugin.py is loaded by every '
                             'openstack run; only osc_lib.utils'
                             % (module, imported))
        for imported in sorted(inner):
            if floor == 'rules' and _floor(imported) != 'rules' and \
                    imported != package:
                found.append('%s imports %s: rules/ imports only rules/'
                             % (module, imported))
            if floor == 'cloud' and _floor(imported) in ('host', 'v1'):
                found.append('%s imports %s: cloud/ sits below the '
                             'commands and beside host/' % (module, imported))
    found.extend('import cycle: %s' % ' -> '.join(c) for c in cycles(modules))
    return found


def cycles(modules):
    """Import cycles among the package's modules (each once)."""
    graph = {m: sorted(i for i in imports if i in modules and i != m)
             for m, (imports, _, _) in modules.items()}
    found, done = [], set()

    def visit(node, path):
        if node in path:
            cycle = path[path.index(node):] + [node]
            key = frozenset(cycle)
            if key not in done:
                done.add(key)
                found.append(cycle)
            return
        if node in visited:
            return
        visited.add(node)
        for nxt in graph[node]:
            visit(nxt, path + [node])

    visited = set()
    for start in sorted(graph):
        visit(start, [])
    return found


def oversized(modules):
    too_big = []
    for module, (_, tree, lines) in sorted(modules.items()):
        if lines > MAX_MODULE_LINES:
            too_big.append('%s has %d lines' % (module, lines))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_big.append('%s.%s has %d lines'
                                   % (module, node.name, length))
    return too_big


def test_the_package_keeps_its_floors():
    assert violations(read_package(PACKAGE)) == []


def test_no_module_or_function_is_too_long_to_read():
    assert oversized(read_package(PACKAGE)) == []


def test_the_floors_are_visible_from_ls():
    floors = {p.name for p in PACKAGE.iterdir() if p.is_dir()
              and (p / '__init__.py').exists()}
    assert floors == {'rules', 'cloud', 'host', 'v1'}


# The checker itself must be able to fail: synthetic trees -----------------

def synthetic(tmp_path, files):
    root = tmp_path / 'pkg'
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        init = path.parent / '__init__.py'
        if not init.exists():
            init.write_text('')
    (root / '__init__.py').write_text('')
    return read_package(root)


@pytest.mark.parametrize('files, expected', [
    ({'rules/a.py': 'from openstack import exceptions\n'},
     'pkg.rules.a imports openstack: only cloud/ may talk to the SDK'),
    ({'rules/a.py': 'def f():\n    import keystoneauth1\n'},
     'pkg.rules.a imports keystoneauth1: only cloud/ may talk to the SDK'),
    ({'rules/a.py': 'import yaml\n'},
     'pkg.rules.a imports yaml: rules/ uses the standard library only'),
    ({'rules/a.py': 'from pkg.cloud import b\n', 'cloud/b.py': ''},
     'pkg.rules.a imports pkg.cloud.b: rules/ imports only rules/'),
    ({'host/a.py': 'from osc_lib.cli import format_columns\n'},
     'pkg.host.a imports osc_lib.cli: host/ needs no cloud and no osc-lib'),
    ({'host/a.py': 'from pkg.cloud import b\n', 'cloud/b.py': ''},
     'pkg.host.a imports pkg.cloud.b: host/ needs no cloud and no osc-lib'),
    ({'plugin.py': 'from pkg.v1 import base\n', 'v1/base.py': ''},
     'pkg.plugin imports pkg.v1.base: plugin.py is loaded by every '
     'openstack run; only osc_lib.utils'),
    ({'v1/a.py': 'import tests.unit.fakecloud\n'},
     'pkg.v1.a imports tests.unit.fakecloud, which is not shipped'),
    ({'cloud/a.py': 'from . import b\n', 'cloud/b.py': 'from .a import x\n'},
     'import cycle: pkg.cloud.a -> pkg.cloud.b -> pkg.cloud.a'),
])
def test_each_rule_catches_its_breach(tmp_path, files, expected):
    assert expected in violations(synthetic(tmp_path, files))


def test_a_clean_synthetic_tree_passes(tmp_path):
    modules = synthetic(tmp_path, {
        'plugin.py': 'from osc_lib import utils\n',
        'rules/a.py': 'import re\nfrom pkg.rules import b\n',
        'rules/b.py': 'import dataclasses\n',
        'cloud/c.py': 'import openstack\nfrom pkg.rules import a\n',
        'host/h.py': 'from pkg.rules import b\n',
        'v1/cmd.py': 'from osc_lib.command import command\n'
                     'from pkg.cloud import c\nfrom pkg.host import h\n'})
    assert violations(modules) == []


def test_length_limits_catch_a_long_function(tmp_path):
    body = 'def f():\n' + '    x = 1\n' * MAX_FUNCTION_LINES
    modules = synthetic(tmp_path, {'rules/a.py': body})
    assert oversized(modules) == ['pkg.rules.a.f has %d lines'
                                  % (MAX_FUNCTION_LINES + 1)]
