"""Where osc-gpu refuses what nova would accept, on purpose, and why.

The rule of the project is "never looser than nova": whatever osc-gpu
accepts, nova accepts too. It is sometimes stricter, and then only in the
ways listed here. The differential tests (tests/functional/differential)
let nova's own code judge thousands of generated inputs; a refusal of
something nova accepts fails them unless an entry below covers it. The
user guide's "Deliberate strictness" page is generated from this list.

A new entry needs: an ``id`` the differential tests name, where it
applies, what nova would accept, and why refusing it helps the operator.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Strictness:
    id: str
    where: str          # the command and option it applies to
    refused: str        # what nova accepts and osc-gpu refuses
    reason: str


_GPU = 'gpu flavor create --gpu'
_SPEC = 'gpu flavor create --property'
_IMAGE = 'gpu image prepare --property'

DELIBERATE_STRICTNESS = (
    Strictness(
        'gpu-count-range', _GPU,
        'a count below 1 or above 64 (P4:0, P4:65)',
        'P4:0 makes a "GPU flavor" without a GPU, and no server takes '
        'more than a few dozen passthrough devices: P4:200 is a typo for '
        'P4:2. Existing flavors with such counts still work with gpu '
        'server create, which notes them.'),
    Strictness(
        'gpu-repeated-alias', _GPU,
        'an alias named twice (P4:1,P4:1)',
        'nova gives the server the sum, but the operator almost always '
        'meant one of the two; ask once with the total (P4:2). Existing '
        'flavors are read as the sum, with a note.'),
    Strictness(
        'gpu-alias-whitespace', _GPU,
        "whitespace inside an alias name ('P 4:1')",
        'nova strips spaces around a name but keeps them inside, so such '
        'a name only matches an alias that has the same spaces; it is '
        'nearly always a typo, and shells split it.'),
    Strictness(
        'gpu-non-ascii-digits', _GPU,
        "a count written with non-ASCII digits ('P4:\u0662')",
        "nova's pattern and int() read any Unicode digit; a count an "
        'operator cannot read back at a glance is refused.'),
    Strictness(
        'spec-own-option', _SPEC,
        'pci_passthrough:alias, hw:hide_hypervisor_id, hide_hypervisor_id '
        'and hw:pci_numa_affinity_policy given as --property',
        'they have their own options (--gpu, --hide-hypervisor, '
        "--numa-policy), which check them and pick the key the cloud's "
        'release honours; two ways to set one would conflict.'),
    Strictness(
        'spec-int-spelling', _SPEC,
        "integers spelled other than as plain decimal digits ('+2', ' 2', "
        "'1_000', non-ASCII digits)",
        "nova reads them with Python's int(); an operator means 2, and "
        'plain digits are what every other tool reads the same way.'),
    Strictness(
        'spec-bool-spelling', _SPEC,
        "booleans with whitespace around them (' true')",
        'nova strips them; here they are almost always a quoting slip.'),
    Strictness(
        'spec-pattern-digits', _SPEC,
        'non-ASCII digits in values with a format, such as '
        'hw:cpu_realtime_mask or hw:mem_page_size',
        "nova's \\d matches any Unicode digit, but the libvirt driver "
        'that reads the value expects ASCII.'),
    Strictness(
        'spec-key-newline', _SPEC,
        'a key that ends in a newline (outside the namespaces nova '
        'validates)',
        "nova's JSON schema pattern ends in '$', which also matches before "
        'a final newline; such a key cannot be typed on purpose.'),
    Strictness(
        'spec-numa-cell-dot', _SPEC,
        'hw:numa_cpus.N and hw:numa_mem.N with another character in place '
        "of the dot ('hw:numa_cpus_0')",
        "nova's validator names are regular expressions and its '.' "
        'matches any character; the libvirt driver only reads the dotted '
        'names, so the others would be accepted and ignored.'),
    Strictness(
        'image-own-option', _IMAGE,
        'img_hide_hypervisor_id, hw_machine_type, hw_firmware_type, '
        'hw_video_model and os_type given as --property',
        'they have their own options, which check them and show them in '
        "the command's result."),
    Strictness(
        'image-glance-attribute', _IMAGE,
        'glance image attributes that glance lets a PATCH change (name, '
        'visibility, tags, protected, ...)',
        "they are the image's identity and access, not properties a GPU "
        "guest needs; change them with 'openstack image set'."),
    Strictness(
        'image-key-charset', _IMAGE,
        "property names with characters other than letters, digits and "
        "'_:.-' (spaces, control characters, other punctuation)",
        'glance stores any name, but nova only reads names of that shape '
        'and other tools choke on the rest.'),
    Strictness(
        'image-bool-words', _IMAGE,
        "boolean properties set to a word that is not a boolean "
        "('img_hide_hypervisor_id=ture')",
        'nova reads anything that is not true-like as false, so a typo '
        'silently turns the feature off.'),
    Strictness(
        'image-int-spelling', _IMAGE,
        "integers spelled other than as plain decimal digits (' 2', "
        "'1_000', non-ASCII digits)",
        "nova reads them with Python's int(); plain digits are what every "
        'other tool reads the same way.'),
    Strictness(
        'image-enum-spelling', _IMAGE + ', --os-type',
        "old or mixed-case spellings nova maps to a value (architecture="
        "amd64, os_type=Windows, hw_vif_model=VirtualE1000, vm_mode=pv)",
        'the property is stored as typed and other tools (placement '
        'traits, glance metadefs, scripts) compare it as typed: write the '
        'name nova stores.'),
    Strictness(
        'image-cpu-set-spelling', _IMAGE,
        "hw_numa_cpus.N lists with spaces or empty items ('0, 1', '0,,1', "
        "'')",
        'nova tolerates them; a plain list such as 0-3,^2 is what the '
        'operator means and what the docs show.'),
    Strictness(
        'image-numa-cells', _IMAGE,
        'hw_numa_cpus.N / hw_numa_mem.N values that nova never reads '
        '(after a gap in N, N above 127, or N with leading zeros)',
        'nova skips them silently, so a bad value there is a mistake '
        'waiting for the day the gap is filled.'),
    Strictness(
        'image-structured-data', _IMAGE,
        'img_mappings, img_block_device_mapping, img_hv_requested_version '
        'and their old names (mappings, block_device_mapping, '
        'hypervisor_version_requires)',
        'they are structured data that nova and glance tools write; by hand '
        'they are easy to get wrong in ways nova reports only at boot.'),
    Strictness(
        'machine-type-charset', 'gpu image prepare --machine-type',
        'an empty machine type, or one with whitespace, control characters '
        "or punctuation other than '._-'",
        'nova passes hw_machine_type to libvirt as it is, and no QEMU '
        'machine type looks like that; versioned names such as virt-8.2 '
        'or pc-q35-rhel9.4.0 are accepted.'),
    Strictness(
        'preflight-no-gpu', 'gpu server create',
        'a flavor that gives the server no GPU: no pci_passthrough:alias, '
        'or only counts below 1',
        "nova boots it, as a server without a GPU; 'gpu server create' is "
        "for GPU servers (use 'openstack server create' for others)."),
    Strictness(
        'blank-alias', 'gpu flavor create --gpu, gpu server create',
        "an alias name that is blank (' :1')",
        'nova matches it only to a [pci] alias whose name is blanks only; '
        'that is a broken flavor, not a plan.'),
)

_NOVA_CONF = 'gpu host check --nova-conf'

# nova.conf's [pci] options, read by 'gpu host check --nova-conf' (judged
# by nova's get_alias_from_config, its device_spec whitelist and
# oslo.config; tests/functional/differential/test_nova_pci_config.py and
# test_nova_conf_reading.py).
DELIBERATE_STRICTNESS += (
    Strictness(
        'nova-conf-reference', _NOVA_CONF,
        'a $name or ${name} in a value (alias = {"name": "gpu$x"}): '
        "oslo.config puts the value of the option 'name' there, and fails "
        'when there is none',
        'the check cannot know the value the reference will have on the '
        'host; write $$ for a literal $ (gpu host config writes it as a '
        'JSON unicode escape).'),
    Strictness(
        'pci-hex-id', _NOVA_CONF + ', [pci] alias and device_spec',
        'vendor_id / product_id other than 4 ASCII hex digits (or * in '
        "device_spec): in alias '10de' followed by a newline or written "
        "with non-ASCII digits, in device_spec also '0x10de', 'de', '-1', "
        "' 10de', ' * '",
        "nova's alias pattern lets those through and then matches no "
        'device; device_spec pads short ids with zeros, so "de" silently '
        'means 00de. Every device id has 4 hex digits, as lspci -nn shows.'),
    Strictness(
        'pci-tag-type', _NOVA_CONF + ', [pci] device_spec',
        'tags of another JSON type than nova documents: numbers, null, '
        'lists or objects for devname, physical_network, resource_class, '
        'traits and the yes/no tags (managed: 1), and words that are not '
        'booleans for trusted and remote_managed',
        'nova keeps such tags without a check (or reads 1 as true and null '
        'as unset); they fail later, in placement or at boot, or are read '
        'as false without a word.'),
    Strictness(
        'pci-address-form', _NOVA_CONF + ', [pci] device_spec',
        'an address that is neither a string nor an object (0, false, '
        'null, []), and keys other than domain, bus, slot and function in '
        'an address object',
        'nova reads the first as "any address" and ignores the unknown '
        'keys, so a typo (socket, fn) widens the spec to every device.'),
    Strictness(
        'pci-devname-combination', _NOVA_CONF + ', [pci] device_spec',
        'devname together with address (when one of them is empty), and '
        'devname with remote_managed true',
        'nova refuses both only in some cases: devname with a non-empty '
        'address, and remote_managed when the interface is missing on the '
        'host when nova-compute starts, which the check cannot see. GPUs '
        'are selected by ids or address.'),
    Strictness(
        'nova-conf-size', _NOVA_CONF,
        'a nova.conf larger than 16 MiB',
        'no nova.conf comes near that size (a few hundred KiB with every '
        'comment); reading on would let /dev/zero or a wrong path eat the '
        "host's memory."),
)

_MDEV = _NOVA_CONF + ', [devices] and [mdev_<type>]'

# nova.conf's vGPU options, read by 'gpu host check --nova-conf' (judged by
# oslo.config and nova-compute's LibvirtDriver._get_supported_vgpu_types;
# tests/functional/differential/test_nova_devices_config.py).
DELIBERATE_STRICTNESS += (
    Strictness(
        'mdev-address-form', _MDEV + ' device_addresses',
        'addresses not written as sysfs writes them: upper-case hex '
        "('0000:AF:00.0'), any character for the dot ('0000:84:00x0'), "
        'non-ASCII digits, and names of virtual devices '
        "(/sys/devices/virtual/<name>, such as the mtty sample)",
        'nova compares the address as written with the one it makes from '
        "libvirt's device name, so the first three never match a GPU; "
        'virtual parents are kernel samples, and whether one exists '
        'depends on the host nova-compute starts on.'),
    Strictness(
        'mdev-type-list', _MDEV + ' enabled_mdev_types',
        "an empty item ('nvidia-11,,nvidia-12', ' , ')",
        'nova enables a type with an empty name, which no device offers; '
        'it is always a stray comma.'),
    Strictness(
        'mdev-dropped-type', _MDEV,
        'a second enabled type without device_addresses',
        'nova-compute starts, makes the first such type the type of every '
        'GPU not listed, and drops the others with a warning in its log: '
        'the type the operator enabled is never offered.'),
    Strictness(
        'mdev-old-group-option', _MDEV,
        'mdev_class or max_instances in the old group [vgpu_<type>]',
        'nova reads only device_addresses there and ignores them without a '
        'word: vGPUs then land in VGPU instead of the custom class, or '
        'over the limit.'),
    Strictness(
        'mdev-int-spelling', _MDEV + ' max_instances',
        "numbers spelled other than as plain decimal digits ('+5', "
        "'1_0', non-ASCII digits) or above 2147483647",
        "oslo.config reads them with Python's int(); plain digits are what "
        'every other tool reads the same way, and no host has billions of '
        'vGPUs.'),
)

_VGPU = 'gpu flavor create --vgpu'

# vGPU requests (judged by nova's extra spec validators and its scheduler's
# ResourceRequest; tests/functional/differential/test_vgpu_specs.py).
DELIBERATE_STRICTNESS += (
    Strictness(
        'vgpu-count-range', _VGPU,
        'a count below 1 or above 16 (nvidia-11:0, nvidia-11:17)',
        'resources:VGPU=0 asks for nothing, and NVIDIA gives a guest at '
        'most one vGPU per physical GPU, 16 in its largest multi-vGPU '
        'guests: nvidia-11:40 is a typo for nvidia-11:4.'),
    Strictness(
        'vgpu-count-spelling', _VGPU,
        "a count spelled other than as plain decimal digits (' 2', '+2', "
        "'1_0', non-ASCII digits)",
        "nova reads resources amounts with Python's int(); plain digits "
        'are what every other tool reads the same way.'),
    Strictness(
        'vgpu-type-name', _VGPU,
        "a type that is not an mdev type name: empty before ':', with "
        "characters other than letters, digits and '_.-', longer than 64, "
        'or a trait name (CUSTOM_NVIDIA_11)',
        'the trait is the type upper-cased with every other character as _, '
        'which nova takes for almost any text; sysfs names types only so, '
        'and a trait given as a type (CUSTOM_NVIDIA_11) would become '
        'CUSTOM_CUSTOM_NVIDIA_11, which no GPU carries.'),
    Strictness(
        'vgpu-class-name', _VGPU + '-class',
        'a class other than VGPU or CUSTOM_* (PGPU, VCPU)',
        "nova's [mdev_<type>] mdev_class takes only these, so vGPUs are "
        'never counted in another class: such a flavor never boots on a '
        'vGPU.'),
)

BY_ID = {s.id: s for s in DELIBERATE_STRICTNESS}
