"""Known GPU models: PCI ids, marketing name and a suggested nova alias name.

Pure data plus lookups. To add a model, add one ``GpuModel`` line to
``GPU_MODELS``; ids are the lowercase 4-digit hex that sysfs and nova use
(names follow pci.ids). Several product ids may share one alias name (an
alias with the same name on several lines is ORed by nova), e.g. every
40GB A100 variant suggests ``A100``.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class GpuModel:
    vendor_id: str
    product_id: str
    name: str
    alias: str

    @property
    def ids(self):
        return f'{self.vendor_id}:{self.product_id}'


VENDOR_NAMES = {
    '10de': 'NVIDIA',
    '1002': 'AMD',
    '8086': 'Intel',
    '1a03': 'ASPEED',
    '102b': 'Matrox',
    '1da3': 'Habana Labs',
}

NVIDIA = '10de'
AMD = '1002'

GPU_MODELS = (
    # Maxwell / Pascal / Volta
    GpuModel(NVIDIA, '13f2', 'Tesla M60', 'M60'),
    GpuModel(NVIDIA, '13bd', 'Tesla M10', 'M10'),
    GpuModel(NVIDIA, '1bb3', 'Tesla P4', 'P4'),
    GpuModel(NVIDIA, '1b38', 'Tesla P40', 'P40'),
    GpuModel(NVIDIA, '15f7', 'Tesla P100 PCIe 12GB', 'P100'),
    GpuModel(NVIDIA, '15f8', 'Tesla P100 PCIe 16GB', 'P100'),
    GpuModel(NVIDIA, '1db4', 'Tesla V100 PCIe 16GB', 'V100'),
    GpuModel(NVIDIA, '1db6', 'Tesla V100 PCIe 32GB', 'V100-32G'),
    GpuModel(NVIDIA, '1db1', 'Tesla V100 SXM2 16GB', 'V100'),
    GpuModel(NVIDIA, '1db5', 'Tesla V100 SXM2 32GB', 'V100-32G'),
    # Turing
    GpuModel(NVIDIA, '1eb8', 'Tesla T4', 'T4'),
    # Ampere
    GpuModel(NVIDIA, '20b0', 'A100 SXM4 40GB', 'A100'),
    GpuModel(NVIDIA, '20b1', 'A100 PCIe 40GB', 'A100'),
    GpuModel(NVIDIA, '20f1', 'A100 PCIe 40GB', 'A100'),
    GpuModel(NVIDIA, '20b2', 'A100 SXM4 80GB', 'A100-80G'),
    GpuModel(NVIDIA, '20b5', 'A100 PCIe 80GB', 'A100-80G'),
    GpuModel(NVIDIA, '20b7', 'A30', 'A30'),
    GpuModel(NVIDIA, '2235', 'A40', 'A40'),
    GpuModel(NVIDIA, '2236', 'A10', 'A10'),
    GpuModel(NVIDIA, '2237', 'A10G', 'A10G'),
    # pci.ids gives one product id for both boards.
    GpuModel(NVIDIA, '25b6', 'A2 / A16', 'A2-A16'),
    GpuModel(NVIDIA, '2230', 'RTX A6000', 'RTXA6000'),
    # Ada Lovelace
    GpuModel(NVIDIA, '27b8', 'L4', 'L4'),
    GpuModel(NVIDIA, '26b5', 'L40', 'L40'),
    GpuModel(NVIDIA, '26b9', 'L40S', 'L40S'),
    # Hopper / Blackwell
    GpuModel(NVIDIA, '2330', 'H100 SXM5 80GB', 'H100'),
    GpuModel(NVIDIA, '2331', 'H100 PCIe', 'H100'),
    GpuModel(NVIDIA, '2321', 'H100L 94GB', 'H100L'),
    GpuModel(NVIDIA, '2339', 'H100 SXM5 94GB', 'H100-94G'),
    GpuModel(NVIDIA, '2335', 'H200 SXM 141GB', 'H200'),
    GpuModel(NVIDIA, '233b', 'H200 NVL', 'H200-NVL'),
    GpuModel(NVIDIA, '2901', 'B200', 'B200'),
    # AMD Instinct
    GpuModel(AMD, '738c', 'Instinct MI100', 'MI100'),
    GpuModel(AMD, '740f', 'Instinct MI210', 'MI210'),
    GpuModel(AMD, '740c', 'Instinct MI250X/MI250', 'MI250'),
    GpuModel(AMD, '74a1', 'Instinct MI300X', 'MI300X'),
)

# The display chips of BMCs (ASPEED AST2x00; Matrox G200 server variants,
# which HPE iLO, Nuvoton WPCM450 and other BMCs carry; names as pci.ids).
# They are the host's console, local and remote, whatever boot_vga says
# (a BMC chip is not the boot VGA when an add-in card is): never passed
# through, and never put in vfio-pci.ids.
CONSOLE_MODELS = (
    GpuModel('1a03', '2000', 'ASPEED Graphics Family', 'ASPEED'),
    GpuModel('102b', '0522', 'Matrox MGA G200e [Pilot] ServerEngines (SEP1)',
             'G200E'),
    GpuModel('102b', '0530', 'Matrox MGA G200EV', 'G200EV'),
    GpuModel('102b', '0532', 'Matrox MGA G200eW WPCM450', 'G200EW'),
    GpuModel('102b', '0533', 'Matrox MGA G200EH', 'G200EH'),
    GpuModel('102b', '0534', 'Matrox G200eR2', 'G200ER2'),
    GpuModel('102b', '0536', 'Matrox G200eW3', 'G200EW3'),
    GpuModel('102b', '0538', 'Matrox MGA G200eH3', 'G200EH3'),
)

_CONSOLE_IDS = {(m.vendor_id, m.product_id) for m in CONSOLE_MODELS}
_BY_IDS = {(m.vendor_id, m.product_id): m
           for m in GPU_MODELS + CONSOLE_MODELS}


def find_model(vendor_id, product_id):
    """Return the GpuModel for these ids, or None when it is not known."""
    return _BY_IDS.get((vendor_id.lower(), product_id.lower()))


def is_bmc_display(vendor_id, product_id):
    """Whether these ids are a BMC's display chip (``CONSOLE_MODELS``)."""
    return (vendor_id.lower(), product_id.lower()) in _CONSOLE_IDS


def vendor_name(vendor_id):
    """Return a short vendor name, or the id itself when unknown."""
    return VENDOR_NAMES.get(vendor_id.lower(), vendor_id.lower())


def model_name(vendor_id, product_id):
    """Return the model name, or '<vendor> device <product id>'."""
    model = find_model(vendor_id, product_id)
    if model:
        return model.name
    return f'{vendor_name(vendor_id)} device {product_id.lower()}'


def suggested_alias(vendor_id, product_id):
    """Return the alias name to suggest for a GPU with these ids.

    Unknown models get a name built from their ids, e.g. ``GPU-10DE-2BB5``,
    which the operator can replace with --alias-name.
    """
    model = find_model(vendor_id, product_id)
    if model:
        return model.alias
    return f'GPU-{vendor_id.upper()}-{product_id.upper()}'
