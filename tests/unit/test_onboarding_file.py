"""The onboarding file: read with positions, every error found at once."""

import json
import pathlib
import textwrap

import pytest

from osc_gpu.rules import aliases
from osc_gpu.rules import onboarding
from osc_gpu.rules import onboarding_schema
from osc_gpu.v1 import onboarding_file

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / 'examples' / 'onboarding.yaml'
SCHEMA_DOC = REPO / 'doc' / 'source' / 'user' / 'onboarding.schema.json'


def errors_of(text, alias_map=None):
    """Every error line for ``text`` (``f.yaml:LINE:COL: ...``)."""
    text = textwrap.dedent(text)
    with pytest.raises(onboarding.InvalidFile) as refused:
        data, positions = onboarding_file.load(text, 'f.yaml')
        onboarding.read_onboarding(data, positions, alias_map)
    return [e.render('f.yaml') for e in refused.value.errors]


def model_of(text, alias_map=None):
    data, positions = onboarding_file.load(textwrap.dedent(text), 'f.yaml')
    return onboarding.read_onboarding(data, positions, alias_map)


def test_the_example_reads_as_two_projects_sharing_a_flavor():
    model = model_of(EXAMPLE.read_text())
    assert [p.name for p in model.projects] == ['example-ml-team',
                                                'example-viz-team']
    shared = {f.name: f for f in model.flavors}['example.p4']
    assert shared.projects == (('Default', 'example-ml-team'),
                               ('Default', 'example-viz-team'))
    assert sorted(r.limit_name for r in model.resources()) == [
        'class:CUSTOM_PCI_10DE_13F2', 'class:CUSTOM_PCI_10DE_1BB3',
        'class:CUSTOM_PCI_10DE_1EB8']


def test_the_docs_show_the_schema_the_code_checks():
    assert json.loads(SCHEMA_DOC.read_text()) == onboarding_schema.SCHEMA


def test_every_error_is_reported_with_its_line_and_column():
    lines = errors_of('''\
        version: 1
        name: team a
        projects:
          - name: ml
            quotas: {P4: two}
            flavors:
              - name: f
                gpu: P4:1
                ramm: 512
            images:
              - name: tiny-raw
                firmware: efi
        ''')
    assert lines == [
        "f.yaml:2:7: name: 'team a' does not match "
        + onboarding_schema.NAME_PATTERN,
        "f.yaml:5:18: projects[0].quotas.P4: must be a whole number or "
        "'unlimited', not 'two'",
        "f.yaml:9:9: projects[0].flavors[0].ramm: unknown key 'ramm' (did "
        "you mean 'ram'?)",
        "f.yaml:12:19: projects[0].images[0].firmware: 'efi' is not one of "
        "'uefi', 'bios'"]


def test_meanings_are_checked_with_the_single_commands_rules():
    lines = errors_of('''\
        version: 1
        name: team-a
        default_quotas:
          A100: 1
        projects:
          - name: ml
            quotas:
              P4: 1
              class:CUSTOM_PCI_10DE_1BB3: 2
            flavors:
              - {name: f, gpu: "P4:0"}
              - name: g
                gpu: P4:1
                properties: {pci_passthrough:alias: "P4:2"}
          - name: ml
        ''')
    assert lines == [
        "f.yaml:4:3: default_quotas.A100: GPU alias 'A100' stands for 3 "
        'resource classes (CUSTOM_PCI_10DE_20B0, CUSTOM_PCI_10DE_20B1, '
        'CUSTOM_PCI_10DE_20F1), which keystone limits one by one: give each '
        'its own limit as class:<RESOURCE_CLASS>',
        'f.yaml:9:7: projects[0].quotas.class:CUSTOM_PCI_10DE_1BB3: '
        'class:CUSTOM_PCI_10DE_1BB3 limits class:CUSTOM_PCI_10DE_1BB3, as '
        'P4 does: give it once',
        "f.yaml:11:24: projects[0].flavors[0].gpu: invalid GPU request "
        "'P4:0': count must be a whole number from 1 to 64 (e.g. gpu: P4:2)",
        'f.yaml:14:22: projects[0].flavors[1].properties.'
        'pci_passthrough:alias: set pci_passthrough:alias with gpu: '
        'ALIAS:COUNT, not properties: pci_passthrough:alias=P4:2',
        "f.yaml:15:11: projects[1].name: project 'ml' is already described "
        'at line 6: describe each project once']


def test_declared_aliases_are_the_only_ones():
    lines = errors_of('''\
        version: 1
        name: a
        public_flavors:
          - {name: f, gpu: "A100:1"}
        ''', aliases.AliasMap({'P4': ('CUSTOM_PCI_10DE_1BB3',)}))
    assert lines == ["f.yaml:4:20: public_flavors[0].gpu: unknown GPU alias "
                     "'A100': this cloud's aliases are P4 (from clouds.yaml "
                     "gpu_aliases); use one of them, or add the alias to "
                     "nova's [pci] alias and to gpu_aliases"]


def test_undeclared_aliases_no_model_suggests_make_a_note():
    model = model_of('''\
        version: 1
        name: a
        public_flavors:
          - {name: f, gpu: "X9:1"}
        ''')
    assert [n.split(':')[0] for n in model.notes] == ["GPU alias 'X9' cannot "
                                                      'be checked']


def test_a_flavor_described_twice_differently_is_refused():
    lines = errors_of('''\
        version: 1
        name: a
        projects:
          - name: one
            flavors: [{name: f, gpu: "P4:1"}]
          - name: two
            flavors: [{name: f, gpu: "P4:2"}]
        ''')
    assert lines == [
        "f.yaml:7:22: projects[1].flavors[0].name: flavor 'f' is described "
        'differently at line 5: describe it once and list it in each '
        'project with a YAML anchor (&name, then *name)']


@pytest.mark.parametrize('text, line', [
    ('version: 1\nname: [a\n', "f.yaml:3:1: not valid YAML: expected ',' "
                               "or ']', but got '<stream end>' (while "
                               'parsing a flow sequence)'),
    ('version: 1\nname: a\nname: b\n', "f.yaml:3:1: name: key 'name' is "
                                       'given twice (also at line 2): keep '
                                       'one'),
    ('- 1\n', 'f.yaml:1:1: the file must be a mapping with version: 1, '
              'name: and projects: (see examples/onboarding.yaml)'),
    ('name: a\n', "f.yaml:1:1: 'version' is missing"),
])
def test_broken_yaml_is_one_error_with_its_place(text, line):
    assert errors_of(text) == [line]


def test_merge_keys_and_anchors_work():
    model = model_of('''\
        version: 1
        name: a
        public_flavors:
          - &base {name: f, gpu: "P4:1", ram: 512}
          - <<: *base
            name: g
        ''')
    assert [(f.name, f.size('ram')) for f in model.flavors] == [
        ('f', 512), ('g', 512)]


def test_an_unreadable_file_is_one_error(tmp_path):
    with pytest.raises(onboarding.InvalidFile) as refused:
        onboarding_file.read(str(tmp_path / 'missing.yaml'))
    assert [e.message for e in refused.value.errors] == [
        'cannot read the file: No such file or directory']
