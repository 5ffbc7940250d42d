"""An operator defines GPU flavors, re-runs the script, and cleans up."""

from tests.functional.cli import unique


def test_create_show_list_delete(osc, cleanup):
    name = unique('flavor')
    flavor = osc.json(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1',
                       '--vcpus', '2', '--ram', '512', '--disk', '1',
                       '--numa-policy', 'preferred'])
    cleanup.append(('flavor', flavor['id']))
    assert flavor['gpus'] == 'P4:1'
    assert flavor['hide_hypervisor'] is True
    assert flavor['numa_policy'] == 'preferred'

    # What nova stored, read back through plain OSC.
    plain = osc.json(['flavor', 'show', name])
    assert plain['properties']['pci_passthrough:alias'] == 'P4:1'
    assert plain['properties']['hw:pci_numa_affinity_policy'] == 'preferred'

    listed = osc.json(['gpu', 'flavor', 'list'])
    assert name in [row['Name'] for row in listed]
    assert 'm1.tiny' not in [row['Name'] for row in listed]

    osc.run(['gpu', 'flavor', 'delete', name])
    assert osc.run(['flavor', 'show', name], check=False).returncode == 1


def test_or_show_makes_reruns_safe(osc, cleanup):
    name = unique('flavor')
    first = osc.json(['gpu', 'flavor', 'create', name, '--gpu', 'T4:1',
                      '--or-show'])
    cleanup.append(('flavor', first['id']))
    again = osc.json(['gpu', 'flavor', 'create', name, '--gpu', 'T4:1',
                      '--or-show'])
    assert again['id'] == first['id']
    line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', 'T4:2',
                      '--or-show'])
    assert line == ("flavor '%s' exists with pci_passthrough:alias=T4:1, not "
                    "T4:2 (use another name, or delete it first)" % name)


def test_bad_specs_are_refused_and_nothing_is_created(osc):
    name = unique('bad')
    for spec in ('P4:0', 'P4:abc', 'P4', ':1', 'P4:1:2', 'P4:-1',
                 'P4:1,P4:1', 'P4:100000'):
        line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', spec])
        assert spec.split(',')[0] in line
    assert osc.run(['flavor', 'show', name], check=False).returncode == 1


def test_name_taken_is_one_line(osc, cleanup):
    name = unique('taken')
    flavor = osc.json(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1'])
    cleanup.append(('flavor', flavor['id']))
    line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1'])
    assert line.startswith("creating flavor '%s' failed (HTTP 409)" % name)
