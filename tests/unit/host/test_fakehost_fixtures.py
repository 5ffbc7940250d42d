"""The committed fixture trees are exactly what fakehost.HOSTS describes."""

import os

import pytest

from tests.unit.host import fakehost

# The trees' symlinks are in git only: an sdist (built from git by pbr)
# cannot carry them, so it leaves the trees out, and the tests, which build
# their hosts with fakehost.fixture_root(), need them nowhere.
in_git_checkout = pytest.mark.skipif(
    not os.path.exists(os.path.join(fakehost.REPO, '.git')),
    reason='the committed fixture trees exist in a git checkout only')


def committed(name):
    return os.path.join(fakehost.FIXTURES, name)


def snapshot(root):
    tree = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            key = os.path.relpath(path, root)
            if os.path.islink(path):
                tree[key] = ('link', os.readlink(path))
            elif os.path.isfile(path):
                with open(path, encoding='utf-8') as f:
                    tree[key] = ('file', f.read())
    return tree


@in_git_checkout
@pytest.mark.parametrize('name', sorted(fakehost.HOSTS))
def test_committed_tree_matches_its_description(name, tmp_path):
    built = fakehost.build(fakehost.HOSTS[name], tmp_path / name)
    assert snapshot(committed(name)) == snapshot(built), (
        'rebuild with: .venv/bin/python -m tests.unit.host.fakehost')


@pytest.mark.parametrize('name', sorted(fakehost.HOSTS))
def test_every_symlink_resolves_inside_the_tree(name):
    # The tree tests read; in git, the committed one is the same.
    root = fakehost.fixture_root(name)
    for directory, dirs, files in os.walk(root):
        for entry in dirs + files:
            path = os.path.join(directory, entry)
            if os.path.islink(path):
                target = os.path.realpath(path)
                assert os.path.exists(target), path
                assert target.startswith(os.path.realpath(root)), path


@in_git_checkout
def test_no_unknown_fixture_directories():
    assert sorted(os.listdir(fakehost.FIXTURES)) == sorted(fakehost.HOSTS)
