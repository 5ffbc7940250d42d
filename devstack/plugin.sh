#!/bin/bash
# devstack plugin for osc-gpu.
#
# Installs osc-gpu into devstack's python, next to the openstack client
# devstack installs, and, when OSC_GPU_PCI_ALIASES is set, configures nova
# for PCI passthrough of those devices: [pci] alias (API and computes),
# [pci] device_spec, PciPassthroughFilter, optionally report_in_placement,
# and gpu_aliases in clouds.yaml. See devstack/settings for the variables.
# Nothing is needed in the test phase: the functional tests only need the
# cloud, selected with OS_CLOUD (e.g. OS_CLOUD=devstack-admin).

_XTRACE_OSC_GPU=$(set +o | grep xtrace)
set -o xtrace

# Refuse a malformed OSC_GPU_PCI_ALIASES before anything is written.
function _osc_gpu_check_aliases {
    local item name vendor product dev_type
    for item in $(_osc_gpu_alias_items); do
        name=${item%%=*}
        IFS=: read -r vendor product dev_type <<< "${item#*=}"
        if [[ -z "$name" || "$name" == "$item" ]] \
                || ! [[ "$vendor" =~ ^[0-9a-fA-F]{4}$ ]] \
                || ! [[ "$product" =~ ^[0-9a-fA-F]{4}$ ]] \
                || ! [[ "${dev_type:-type-PCI}" =~ ^type-(PCI|PF|VF)$ ]]; then
            die $LINENO "OSC_GPU_PCI_ALIASES item '$item': use NAME=VENDOR:PRODUCT[:DEVICE_TYPE], e.g. P4=10de:1bb3 (ids of 4 hex digits; DEVICE_TYPE type-PCI, type-PF or type-VF)"
        fi
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
    setup_develop $OSC_GPU_DIR
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
    if [[ "$OSC_GPU_REPORT_IN_PLACEMENT" == "True" ]]; then
        iniset "$conf" pci report_in_placement True
    fi
}

# PciPassthroughFilter in the scheduler's filters, keeping devstack's own.
function _osc_gpu_enable_pci_filter {
    local filters
    filters=$(iniget $NOVA_CONF filter_scheduler enabled_filters)
    filters=${filters:-$FILTERS}
    if [[ ",$filters," != *",PciPassthroughFilter,"* ]]; then
        iniset $NOVA_CONF filter_scheduler enabled_filters \
            "${filters:+$filters,}PciPassthroughFilter"
    fi
}

function configure_nova_for_osc_gpu {
    [[ -n "$OSC_GPU_PCI_ALIASES" ]] || return 0
    _osc_gpu_check_aliases
    # nova.conf serves nova-api and the scheduler, and devstack copies it
    # to nova-cpu.conf when it starts nova-compute; a nova-cpu.conf that
    # exists already (e.g. on a subnode) is written too.
    _osc_gpu_configure_pci $NOVA_CONF
    if [[ -n "$NOVA_CPU_CONF" && -f "$NOVA_CPU_CONF" ]]; then
        _osc_gpu_configure_pci $NOVA_CPU_CONF
    fi
    _osc_gpu_enable_pci_filter
}

# gpu_aliases: {NAME: "vendor:product"} in every cloud of clouds.yaml.
function configure_clouds_yaml_for_osc_gpu {
    [[ -n "$OSC_GPU_PCI_ALIASES" ]] || return 0
    [[ -f "$OSC_GPU_CLOUDS_YAML" ]] || return 0
    _osc_gpu_check_aliases
    $PYTHON - "$OSC_GPU_CLOUDS_YAML" $(_osc_gpu_alias_items) <<'PYEOF'
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
    if is_service_enabled n-api n-sch n-cpu; then
        echo_summary "Configuring nova for GPU passthrough (osc-gpu)"
        configure_nova_for_osc_gpu
    fi
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    configure_clouds_yaml_for_osc_gpu
fi

# unstack and clean: nothing of osc-gpu runs, and devstack removes its
# own config files.

$_XTRACE_OSC_GPU
