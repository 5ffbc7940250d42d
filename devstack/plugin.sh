#!/bin/bash
# devstack plugin for osc-gpu.
#
# Installs osc-gpu into devstack's python, next to the openstack client
# devstack installs, and, when OSC_GPU_PCI_ALIASES is set, configures nova
# for PCI passthrough of those devices: [pci] alias (API and computes),
# [pci] device_spec, PciPassthroughFilter, optionally PCI in placement
# ([pci] report_in_placement with [filter_scheduler] pci_in_placement),
# and gpu_aliases in clouds.yaml. See devstack/settings for the variables.
# Nothing is needed in the test phase: the functional tests only need the
# cloud, selected with OS_CLOUD (e.g. OS_CLOUD=devstack-admin).

_XTRACE_OSC_GPU=$(set +o | grep xtrace)
set -o xtrace

# Refuse a malformed OSC_GPU_PCI_ALIASES before anything is written.
function _osc_gpu_check_aliases {
    local item name vendor product dev_type
    local names=" "
    for item in $(_osc_gpu_alias_items); do
        name=${item%%=*}
        IFS=: read -r vendor product dev_type <<< "${item#*=}"
        if [[ -z "$name" || "$name" == "$item" ]] \
                || ! [[ "$vendor" =~ ^[0-9a-fA-F]{4}$ ]] \
                || ! [[ "$product" =~ ^[0-9a-fA-F]{4}$ ]] \
                || ! [[ "${dev_type:-type-PCI}" =~ ^type-(PCI|PF|VF)$ ]]; then
            die $LINENO "OSC_GPU_PCI_ALIASES item '$item': use NAME=VENDOR:PRODUCT[:DEVICE_TYPE], e.g. P4=10de:1bb3 (ids of 4 hex digits; DEVICE_TYPE type-PCI, type-PF or type-VF)"
        fi
        # nova refuses every boot with an alias defined twice once
        # [filter_scheduler] pci_in_placement is on.
        if [[ "$OSC_GPU_REPORT_IN_PLACEMENT" == "True" && "$names" == *" $name "* ]]; then
            die $LINENO "OSC_GPU_PCI_ALIASES names $name twice: with OSC_GPU_REPORT_IN_PLACEMENT=True nova allows one PCI id per alias name"
        fi
        names="$names$name "
    done
}

# "P4=10de:1bb3" -> the JSON of one [pci] alias entry. Written without
# spaces: devstack's iniset_multiline splits its values on whitespace.
function _osc_gpu_alias_json {
    local item=$1
    local vendor product dev_type
    IFS=: read -r vendor product dev_type <<< "${item#*=}"
    echo "{\"name\":\"${item%%=*}\",\"vendor_id\":\"${vendor,,}\",\"product_id\":\"${product,,}\",\"device_type\":\"${dev_type:-type-PCI}\"}"
}

function _osc_gpu_alias_items {
    echo "${OSC_GPU_PCI_ALIASES//,/ }"
}

function install_osc_gpu {
    setup_develop "$OSC_GPU_DIR"
}

# Write the [pci] options into one nova config file.
function _osc_gpu_configure_pci {
    local conf=$1
    local aliases=()
    local specs=()
    local seen=" "
    local item ids
    for item in $(_osc_gpu_alias_items); do
        aliases+=("$(_osc_gpu_alias_json "$item")")
        ids=${item#*=}
        ids=${ids%:type-*}
        ids=${ids,,}
        if [[ "$seen" != *" $ids "* ]]; then
            seen="$seen$ids "
            specs+=("{\"vendor_id\":\"${ids%%:*}\",\"product_id\":\"${ids##*:}\"}")
        fi
    done
    if ! grep -q '^\[pci\]' "$conf"; then
        printf '\n[pci]\n' >> "$conf"
    fi
    iniset_multiline "$conf" pci alias "${aliases[@]}"
    if [[ "$OSC_GPU_DEVICE_SPEC" == "True" ]]; then
        iniset_multiline "$conf" pci device_spec "${specs[@]}"
    fi
}

# PCI devices in placement. nova needs both halves: the computes report
# their devices ([pci] report_in_placement) and nova-api, nova-scheduler
# and every nova-conductor ask placement for them and claim them there
# ([filter_scheduler] pci_in_placement). Without the second the scheduler
# ignores what the computes report; without the first no host offers
# what it asks for. nova.conf serves nova-api, nova-scheduler and the
# (super)conductor, and becomes nova-cpu.conf; a cell conductor reads
# only its own nova_cellN.conf.
function _osc_gpu_configure_pci_in_placement {
    local i conf
    iniset "$NOVA_CONF" pci report_in_placement True
    iniset "$NOVA_CONF" filter_scheduler pci_in_placement True
    for i in $(seq 1 "${NOVA_NUM_CELLS:-1}"); do
        conf=$(conductor_conf "$i")
        if [[ -f "$conf" ]]; then
            iniset "$conf" filter_scheduler pci_in_placement True
        fi
    done
}

# PciPassthroughFilter in the scheduler's filters, keeping devstack's own.
function _osc_gpu_enable_pci_filter {
    local filters
    filters=$(iniget "$NOVA_CONF" filter_scheduler enabled_filters)
    filters=${filters:-$NOVA_FILTERS}
    if [[ ",$filters," != *",PciPassthroughFilter,"* ]]; then
        iniset "$NOVA_CONF" filter_scheduler enabled_filters \
            "${filters:+$filters,}PciPassthroughFilter"
    fi
}

function configure_nova_for_osc_gpu {
    [[ -n "$OSC_GPU_PCI_ALIASES" ]] || return 0
    _osc_gpu_check_aliases
    # stack.sh starts configure_neutron_nova in the background just before
    # post-config, and it edits nova.conf (and nova_cellN.conf) with iniset,
    # a sed -i of the whole file, as this function does: running side by
    # side, either could drop the other's lines. Wait for it first (it is
    # waited for again before nova starts, which is then a no-op).
    if type -t async_wait > /dev/null; then
        async_wait configure_neutron_nova
    fi
    # nova.conf serves nova-api and nova-scheduler, and is what the
    # computes run with: devstack makes nova-cpu.conf a copy of it when it
    # starts nova-compute (which would also overwrite anything written to
    # nova-cpu.conf now).
    _osc_gpu_configure_pci "$NOVA_CONF"
    if [[ "$OSC_GPU_REPORT_IN_PLACEMENT" == "True" ]]; then
        _osc_gpu_configure_pci_in_placement
    fi
    _osc_gpu_enable_pci_filter
}

# gpu_aliases: {NAME: "vendor:product"} in every cloud of clouds.yaml.
function configure_clouds_yaml_for_osc_gpu {
    [[ -n "$OSC_GPU_PCI_ALIASES" ]] || return 0
    [[ -f "$OSC_GPU_CLOUDS_YAML" ]] || return 0
    _osc_gpu_check_aliases
    # One argument per alias item: the word splitting is wanted.
    # shellcheck disable=SC2046
    "$PYTHON" - "$OSC_GPU_CLOUDS_YAML" $(_osc_gpu_alias_items) <<'PYEOF'
import sys

import yaml

path, items = sys.argv[1], sys.argv[2:]
aliases = {}
for item in items:
    name, _, ids = item.partition('=')
    ids = ':'.join(ids.lower().split(':')[:2])
    aliases.setdefault(name, []).append(ids)
aliases = {n: v[0] if len(v) == 1 else v for n, v in aliases.items()}
with open(path) as f:
    data = yaml.safe_load(f) or {}
for cloud in (data.get('clouds') or {}).values():
    cloud['gpu_aliases'] = dict(aliases)
with open(path, 'w') as f:
    yaml.safe_dump(data, f, default_flow_style=False)
PYEOF
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing osc-gpu"
    install_osc_gpu
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    # post-config, not test-config: here nova.conf is complete (written by
    # configure_nova) and no nova service runs yet, so each one starts with
    # these options; test-config comes last but after nova started, and
    # would need every nova service restarted. After this phase stack.sh
    # merges local.conf's [[post-config|$NOVA_CONF]] (an operator's own
    # values win), sets [key_manager] fixed_key and copies nova.conf to
    # nova-cpu.conf: nothing that drops these options. The one writer that
    # could, configure_neutron_nova, is waited for first (see
    # configure_nova_for_osc_gpu).
    if is_service_enabled nova; then
        echo_summary "Configuring nova for GPU passthrough (osc-gpu)"
        configure_nova_for_osc_gpu
    fi
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    configure_clouds_yaml_for_osc_gpu
fi

# unstack and clean: nothing of osc-gpu runs, and devstack removes its
# own config files.

$_XTRACE_OSC_GPU
