import re

import pytest

from osc_gpu.rules import gpu_models
from osc_gpu.rules import nova_pci


@pytest.mark.parametrize('ids, name, alias', [
    (('10de', '1bb3'), 'Tesla P4', 'P4'),
    (('10de', '13f2'), 'Tesla M60', 'M60'),
    (('10de', '1eb8'), 'Tesla T4', 'T4'),
    (('10de', '20b5'), 'A100 PCIe 80GB', 'A100-80G'),
    (('10de', '2331'), 'H100 PCIe', 'H100'),
    (('10de', '26b9'), 'L40S', 'L40S'),
    (('1002', '740f'), 'Instinct MI210', 'MI210'),
])
def test_known_models(ids, name, alias):
    model = gpu_models.find_model(*ids)
    assert (model.name, model.alias) == (name, alias)
    assert gpu_models.suggested_alias(*ids) == alias


def test_lookup_ignores_case():
    assert gpu_models.find_model('10DE', '1BB3').alias == 'P4'


def test_unknown_model_gets_a_name_and_an_alias_from_its_ids():
    assert gpu_models.find_model('10de', '2bb5') is None
    assert gpu_models.model_name('10de', '2bb5') == 'NVIDIA device 2bb5'
    assert gpu_models.model_name('abcd', '0001') == 'abcd device 0001'
    assert gpu_models.suggested_alias('10de', '2bb5') == 'GPU-10DE-2BB5'


def test_console_chips_are_named():
    assert gpu_models.model_name('1a03', '2000') == 'ASPEED Graphics Family'


@pytest.mark.parametrize('model',
                         gpu_models.GPU_MODELS + gpu_models.CONSOLE_MODELS)
def test_table_rows_are_usable_by_nova(model):
    assert re.fullmatch('[0-9a-f]{4}', model.vendor_id)
    assert re.fullmatch('[0-9a-f]{4}', model.product_id)
    assert nova_pci.validate_alias_name(model.alias) is None
    assert model.ids == f'{model.vendor_id}:{model.product_id}'


def test_ids_are_unique():
    ids = [m.ids for m in gpu_models.GPU_MODELS + gpu_models.CONSOLE_MODELS]
    assert len(ids) == len(set(ids))
