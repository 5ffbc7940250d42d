import pytest

from osc_gpu.rules import gpu_request as gr


@pytest.mark.parametrize('values, expected', [
    (['P4:2'], 'P4:2'),
    (['P4:2', 'M60:1'], 'P4:2,M60:1'),
    (['P4:2,M60:1'], 'P4:2,M60:1'),
    (['P4:2, M60:1'], 'P4:2,M60:1'),       # nova's own format allows spaces
    (['a100-80g:8'], 'a100-80g:8'),
    (['P4:64'], 'P4:64'),
    (['P4:007'], 'P4:7'),
])
def test_good_requests_render_as_nova_expects(values, expected):
    assert gr.render_alias_spec(gr.parse_gpu_requests(values)) == expected


@pytest.mark.parametrize('value, fragment', [
    ('P4:0', "'P4:0': count must be a whole number from 1 to 64"),
    ('P4:abc', "count 'abc' must be a whole number"),
    ('P4', "'P4': expected ALIAS:COUNT"),
    (':1', "':1': the alias name before ':' is empty"),
    ('P4:1:2', "'P4:1:2': expected ALIAS:COUNT"),
    ('P4:-1', "count '-1' must be a whole number"),
    ('P4:65', "'P4:65': count must be a whole number from 1 to 64"),
    ('P4:99999999999999999999', 'count must be a whole number'),
    ('P4:1,P4:2', "GPU alias 'P4' is requested twice (P4:1 and P4:2): ask "
                  "once with the total, e.g. --gpu P4:3"),
    ('P 4:1', "alias 'P 4' must not contain"),
    ('P4:1,', "invalid GPU request ''"),
    ('', "invalid GPU request ''"),
    ('P4:²', "count '²' must be a whole number"),
    ('x' * 300 + ':1', 'longer than 256 characters'),
])
def test_bad_requests_name_the_value_in_one_line(value, fragment):
    with pytest.raises(gr.InvalidGpuRequest) as err:
        gr.parse_gpu_requests([value])
    message = str(err.value)
    assert fragment in message
    assert '\n' not in message


def test_duplicates_across_options_are_refused():
    with pytest.raises(gr.InvalidGpuRequest, match="'M60' is requested twice"):
        gr.parse_gpu_requests(['M60:1', 'P4:1', 'M60:2'])


def test_no_request_at_all_is_refused():
    with pytest.raises(gr.InvalidGpuRequest, match='no GPU requested'):
        gr.parse_gpu_requests([])


def test_parsed_back_from_flavor_extra_specs():
    specs = {'pci_passthrough:alias': 'P4:2, M60:1', 'hw:cpu_policy': 'x'}
    assert gr.requests_from_extra_specs(specs) == (
        gr.GpuRequest('P4', 2), gr.GpuRequest('M60', 1))


def test_flavor_without_gpus_has_no_requests():
    assert gr.requests_from_extra_specs({'hw:cpu_policy': 'dedicated'}) == ()
    assert gr.requests_from_extra_specs(None) == ()


def test_hand_written_bad_spec_on_a_flavor_is_reported():
    with pytest.raises(gr.InvalidGpuRequest, match="'P4:abc'"):
        gr.requests_from_extra_specs({'pci_passthrough:alias': 'P4:abc'})


def test_a_value_nova_would_cut_at_255_characters_is_refused():
    # Each alias is within 256 characters, the value is not.
    values = ['x' * 200 + ':1', 'y' * 60 + ':1']
    with pytest.raises(gr.InvalidGpuRequest) as err:
        gr.parse_gpu_requests(values)
    assert str(err.value) == (
        "GPU request 'xxxxxxxxxxxxxxxxxxxx...' is 265 characters as "
        "pci_passthrough:alias; nova takes at most 255 (use shorter alias "
        "names)")
    assert len(gr.render_alias_spec(gr.parse_gpu_requests(
        ['x' * 200 + ':1', 'y' * 50 + ':1']))) == 255


@pytest.mark.parametrize('value, requests, notes', [
    ('P4:2', [('P4', 2)], 0),
    ('P4:65', [('P4', 65)], 1),                 # a note, not a refusal
    ('P4:1,P4:1', [('P4', 2)], 1),              # nova gives the sum
    (' P4 :1', [('P4', 1)], 0),                 # nova strips names
    ('P4: 2', [('P4', 2)], 0),                  # and reads counts by int()
    ('P 4:1', [('P 4', 1)], 0),
    ('P4:0,T4:1', [('T4', 1)], 1),
    ('P4:0', [], 1),
])
def test_existing_flavors_are_read_as_nova_boots_them(value, requests, notes):
    found, said = gr.read_alias_spec(value)
    assert [(r.alias, r.count) for r in found] == requests
    assert len(said) == notes
    assert all('\n' not in n for n in said)


@pytest.mark.parametrize('value, fragment', [
    ('P4', "item 'P4' is not ALIAS:COUNT"),
    ('a,b:1', "item 'a' is not ALIAS:COUNT"),
    ('P4:1:2', "item 'P4:1:2' is not ALIAS:COUNT"),
    ('P4:abc', "count 'abc' is not a number"),
    (' :1', "alias name '' is not 1 to 256 characters long"),
    ('', "item '' is not ALIAS:COUNT"),
])
def test_what_nova_cannot_boot_is_refused(value, fragment):
    with pytest.raises(gr.InvalidGpuRequest) as err:
        gr.read_alias_spec(value)
    assert fragment in str(err.value)
    assert 'nova cannot boot it' in str(err.value)
