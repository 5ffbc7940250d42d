"""Reading an onboarding YAML file with the place of every value.

PyYAML's composer keeps a start mark (line, column) on every node; the
values are built from those nodes here, so each error can point at its
line and column. Anchors, aliases and ``<<`` merge keys work as usual.
Duplicate keys, which PyYAML would silently let the last one win, are
errors.
"""

import yaml

from osc_gpu.rules import onboarding

_MERGE_TAG = 'tag:yaml.org,2002:merge'
# Deeper than any onboarding file; stops recursive anchors.
_MAX_DEPTH = 50


class _Builder:
    def __init__(self, loader):
        self.loader = loader
        self.values = {}
        self.keys = {}
        self.errors = []

    def mark(self, node):
        return node.start_mark.line + 1, node.start_mark.column + 1

    def error(self, node, path, message):
        line, column = self.mark(node)
        self.errors.append(onboarding.FileError(path, message, line, column))

    def build(self, node, path=()):
        self.values[path] = self.mark(node)
        if len(path) > _MAX_DEPTH:
            self.error(node, path, 'nested too deeply (a recursive anchor?)')
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,))
                    for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node, path):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            if key in seen:
                self.error(key_node, path + (key,), "key '%s' is given twice "
                           '(also at line %d): keep one' % (key, seen[key]))
            seen[key] = key_node.start_mark.line + 1
        self.loader.flatten_mapping(node)
        result = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            self.keys[path + (key,)] = self.mark(key_node)
            result[key] = self.build(value_node, path + (key,))
        return result

    def _key(self, node):
        key = self.loader.construct_object(node, deep=True)
        return key if isinstance(key, (str, int, bool, float)) or key is None\
            else str(key)


def load(text, filename):
    """``(data, Positions)`` of an onboarding file's text.

    Raises :class:`onboarding.InvalidFile` for a YAML syntax error or
    duplicate keys.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, onboarding.Positions()
        builder = _Builder(loader)
        data = builder.build(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise onboarding.InvalidFile([onboarding.FileError(
            (), 'not valid YAML: %s%s' % (
                exc.problem or exc.context,
                ' (%s)' % exc.context if exc.context and exc.problem else ''),
            mark.line + 1 if mark else 1,
            mark.column + 1 if mark else 1)]) from None
    except yaml.YAMLError as exc:
        raise onboarding.InvalidFile([onboarding.FileError(
            (), 'not valid YAML: %s' % exc, 1, 1)]) from None
    finally:
        loader.dispose()
    if builder.errors:
        raise onboarding.InvalidFile(builder.errors)
    return data, onboarding.Positions(builder.values, builder.keys)


def read(path):
    """The file's text; a one-line error when it cannot be read."""
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise onboarding.InvalidFile([onboarding.FileError(
            (), 'cannot read the file: %s' % (
                getattr(exc, 'strerror', None) or exc), 1, 1)]) from None
