import pytest

from osc_gpu.rules import releases


@pytest.mark.parametrize('max_mv, name', [
    ('2.1', 'Kilo'),
    ('2.42', 'Ocata'),
    ('2.53', 'Pike'),
    ('2.60', 'Queens'),
    ('2.65', 'Rocky'),
    ('2.79', 'Train'),
    ('2.87', 'Ussuri'),          # shared with Victoria: the older one
    ('2.88', 'Wallaby'),
    ('2.95', '2023.1 Antelope'),
    ('2.100', '2025.1 Epoxy'),
    ('2.104', '2026.2 Hibiscus'),
    ('2.999', '2026.2 Hibiscus'),  # newer than we know: newest known
])
def test_release_from_max_microversion(max_mv, name):
    assert releases.release_for_max_microversion(max_mv).name == name


def test_microversions_compare_numerically():
    assert releases.Microversion.parse('2.100') > releases.Microversion.parse(
        '2.99')


def test_bad_microversion_is_named():
    with pytest.raises(ValueError, match="'two.x'"):
        releases.Microversion.parse('two.x')


def test_release_table_is_ordered():
    majors = [r.nova_major for r in releases.RELEASES]
    assert majors == sorted(majors)
    mvs = [r.max_microversion for r in releases.RELEASES]
    assert mvs == sorted(mvs)
