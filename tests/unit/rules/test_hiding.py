"""The one table of where nova hides the hypervisor, per release."""

import pytest

from osc_gpu.rules import hiding
from osc_gpu.rules import releases


def release(name):
    return releases.RELEASES_BY_NAME[name]


@pytest.mark.parametrize('name, key', [
    ('2026.2 Hibiscus', 'hw:hide_hypervisor_id'),
    ('Wallaby', 'hw:hide_hypervisor_id'),
    ('Victoria', 'hide_hypervisor_id'),     # 2.87 could be early Ussuri
    ('Rocky', 'hide_hypervisor_id'),
    ('Queens', None),                        # image property only
    ('Ocata', None),
])
def test_hide_hypervisor_key_per_release(name, key):
    assert hiding.flavor_key(release(name)) == key


@pytest.mark.parametrize('specs, hidden', [
    ({'hw:hide_hypervisor_id': 'true'}, True),
    ({'hide_hypervisor_id': 'Yes'}, True),
    ({'hw:hide_hypervisor_id': 'false'}, False),
    ({}, False),
])
def test_hides_hypervisor(specs, hidden):
    assert hiding.flavor_hides(specs) is hidden


def test_image_property_is_honoured_from_pike():
    assert hiding.image_property_honoured(release('Pike'))
    assert not hiding.image_property_honoured(release('Ocata'))


def test_every_place_names_a_known_release():
    for place in hiding.HIDE_PLACES:
        assert place.since in releases.RELEASES_BY_NAME
    assert hiding.IMAGE_KEY == 'img_hide_hypervisor_id'
