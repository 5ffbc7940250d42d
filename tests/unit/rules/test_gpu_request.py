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
