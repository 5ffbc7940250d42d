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


def test_or_show_compares_the_whole_request(osc, cleanup):
    name = unique('whole')
    first = osc.json(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1',
                      '--ram', '256', '--or-show'])
    cleanup.append(('flavor', first['id']))
    line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1',
                      '--ram', '65536', '--vcpus', '16', '--or-show'])
    assert line == ("flavor '%s' exists with ram=256, not 65536; vcpus=1, "
                    "not 16 (use another name, or delete it first)" % name)
    line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1',
                      '--private', '--project', 'demo', '--or-show'])
    assert line == ("flavor '%s' exists with is_public=True, not False (use "
                    "another name, or delete it first)" % name)
    line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', 'P4:1',
                      '--property', 'hw:cpu_policy=dedicated', '--or-show'])
    assert 'hw:cpu_policy=(unset), not dedicated' in line
    # Nothing changed.
    shown = osc.json(['flavor', 'show', name])
    assert (shown['id'], shown['ram'], shown['vcpus'],
            shown['os-flavor-access:is_public']) == (first['id'], 256, 1,
                                                     True)


def test_private_flavor_reruns_compare_project_access(osc, cleanup):
    name = unique('private')
    args = ['gpu', 'flavor', 'create', name, '--gpu', 'T4:1', '--private',
            '--project', 'demo', '--or-show']
    first = osc.json(args)
    cleanup.append(('flavor', first['id']))
    assert first['is_public'] is False
    assert osc.json(args)['id'] == first['id']
    line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', 'T4:1',
                      '--private', '--or-show'])
    assert line == ("flavor '%s' exists with projects=demo, not (none) (use "
                    "another name, or delete it first)" % name)


def test_alias_the_cloud_does_not_have_is_refused(osc):
    # The local cloud's clouds.yaml declares gpu_aliases P4, M60 and T4.
    name = unique('nope')
    line = osc.fails(['gpu', 'flavor', 'create', name, '--gpu', 'NOPE:1'])
    assert line.startswith("unknown GPU alias 'NOPE': this cloud's aliases "
                           "are ")
    assert 'P4' in line and 'gpu_aliases' in line
    assert osc.run(['flavor', 'show', name], check=False).returncode == 1
