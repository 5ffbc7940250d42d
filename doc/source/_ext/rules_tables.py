"""Tables in the docs generated from osc-gpu's rule tables.

``.. deliberate-strictness::``, ``.. nova-extra-specs::`` and
``.. nova-image-properties::`` render ``osc_gpu.rules.strictness``,
``nova_extra_specs`` and ``image_meta``, so the pages say what the code
checks and cannot drift from it.
"""

from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from docutils import nodes

from osc_gpu.rules import image_meta
from osc_gpu.rules import nova_extra_specs
from osc_gpu.rules import strictness


def _cell(text):
    return text.replace('\n', ' ') or '\\-'


def _text(text):
    """Plain text in a cell: backslashes are RST escapes, so double them."""
    return text.replace('\\', '\\\\')


def _literal(text):
    return '``%s``' % text if text else '\\-'


def list_table(headers, rows, widths):
    lines = ['.. list-table::', '   :header-rows: 1',
             '   :widths: %s' % ' '.join(str(w) for w in widths), '']
    for row in [headers] + rows:
        lines.append('   * - %s' % _cell(row[0]))
        lines.extend('     - %s' % _cell(cell) for cell in row[1:])
    return lines


class _Table(Directive):

    def rows(self):
        raise NotImplementedError

    def run(self):
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(StringList(self.rows(), 'rules_tables'),
                                self.content_offset, node)
        return node.children


class DeliberateStrictness(_Table):

    def rows(self):
        return list_table(
            ('Where', 'Refused, though nova accepts it', 'Why'),
            [(_text(e.where), _text(e.refused), _text(e.reason))
             for e in strictness.DELIBERATE_STRICTNESS], (20, 35, 45))


def _spec_values(rule):
    values = rule.valid_values()
    if rule.pattern:
        values += ' (``%s``)' % rule.pattern
    return values


class NovaExtraSpecs(_Table):

    def rows(self):
        return list_table(
            ('Extra spec', 'Values', 'What it does'),
            [(_literal(r.name), _spec_values(r), _text(r.summary) + (
                ' (deprecated: use ``%s``)' % r.deprecated_for
                if r.deprecated_for else ''))
             for r in nova_extra_specs.EXTRA_SPEC_RULES], (30, 40, 30))


def _image_values(rule):
    if rule.kind == image_meta.NOT_BY_HAND:
        return 'not set by hand (structured data)'
    return rule.valid_values()


class NovaImageProperties(_Table):

    def rows(self):
        return list_table(
            ('Image property', 'Values', 'Read by nova as'),
            [(_literal(r.key), _image_values(r), _literal(r.reads_as))
             for r in image_meta.IMAGE_PROPERTY_RULES], (30, 50, 20))


def setup(app):
    app.add_directive('deliberate-strictness', DeliberateStrictness)
    app.add_directive('nova-extra-specs', NovaExtraSpecs)
    app.add_directive('nova-image-properties', NovaImageProperties)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
