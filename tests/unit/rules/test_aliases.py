"""Which aliases a cloud has, where clouds.yaml says so."""

import pytest

from osc_gpu.rules import aliases

DECLARED = aliases.AliasMap.from_cloud_config(
    {'gpu_aliases': {'P4': '10de:1bb3', 'T4': '10de:1eb8',
                     'p4_small': '10de:1bb3'}})


def test_declared_aliases_pass():
    assert DECLARED.check_aliases(['P4', 'T4']) == []


def test_sdk_rewritten_dash_still_matches():
    assert DECLARED.check_aliases(['p4-small']) == []
    assert DECLARED.declared_name('p4-small') == 'p4_small'


def test_unknown_alias_is_refused_listing_the_cloud_aliases():
    with pytest.raises(aliases.UnknownAlias) as err:
        DECLARED.check_aliases(['P4', 'NOPE'])
    assert str(err.value) == (
        "unknown GPU alias 'NOPE': this cloud's aliases are P4, T4, p4_small "
        "(from clouds.yaml gpu_aliases); use one of them, or add the alias "
        "to nova's [pci] alias and to gpu_aliases")


def test_declared_list_is_the_whole_list_even_for_known_models():
    with pytest.raises(aliases.UnknownAlias, match="'A100', 'NOPE'"):
        DECLARED.check_aliases(['A100', 'NOPE'])


def test_without_declarations_unknown_names_get_a_warning():
    notes = aliases.AliasMap().check_aliases(['P4', 'NOPE'])
    assert notes == [
        "GPU alias 'NOPE' cannot be checked: nova has no API that lists its "
        "[pci] aliases; declare them under gpu_aliases in this cloud's "
        "clouds.yaml entry (e.g. gpu_aliases: {P4: \"10de:1bb3\"}) to have "
        "them checked"]


def test_undeclared_lists_what_is_missing():
    assert DECLARED.undeclared(['P4', 'X', 'p4-small', 'Y']) == ['X', 'Y']
