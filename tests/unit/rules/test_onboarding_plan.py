"""The plan: the file against a cloud state, field by field."""

import pytest

from osc_gpu.rules import aliases
from osc_gpu.rules import gpu_request as gr
from osc_gpu.rules import onboarding as ob
from osc_gpu.rules import onboarding_plan as op
from osc_gpu.rules import onboarding_state as st
from osc_gpu.rules import quotas
from osc_gpu.rules import releases

HIBISCUS = releases.RELEASES_BY_NAME['Hibiscus']
P4 = quotas.gpu_resource('alias', 'P4', aliases.AliasMap())
ML = ('Default', 'ml')
MARK = st.limit_description('team')


def model(**changes):
    project = ob.ProjectSpec('ml', description='ML team',
                             quotas=(ob.QuotaSpec(P4, 2),))
    flavor = ob.FlavorSpec('gpu.p4', gr.parse_gpu_requests('P4:1'), False,
                           sizes=(('ram', 512),), projects=(ML,))
    image = ob.ImageSpec('ubuntu', (('img_hide_hypervisor_id', 'true'),))
    values = dict(name='team', projects=(project,), flavors=(flavor,),
                  images=(image,), default_quotas=(ob.QuotaSpec(P4, 0),))
    values.update(changes)
    return ob.Onboarding(**values)


def applied_state():
    """The cloud after the model was applied."""
    state = st.CloudState(HIBISCUS, nova_uses_unified_limits=True,
                          domains={'Default': 'default'})
    state.projects[ML] = st.ProjectState('pid', 'ml', 'ML team', True,
                                         (st.project_tag('team'),))
    state.registered[P4.limit_name] = st.LimitState('r1', P4.limit_name, 0,
                                                    MARK)
    state.limits[('pid', P4.limit_name)] = st.LimitState(
        'l1', P4.limit_name, 2, MARK, 'pid')
    state.flavors['gpu.p4'] = st.FlavorState(
        'f1', 'gpu.p4', 1, 512, is_public=False, extra_specs={
            'pci_passthrough:alias': 'P4:1', 'hw:hide_hypervisor_id': 'true',
            st.MARKER_SPEC: 'team'}, access=frozenset({'pid'}))
    state.images['ubuntu'] = {'img_hide_hypervisor_id': 'true'}
    return state


def actions(plan):
    return [(c.kind, c.name, c.action) for c in plan.changes]


def changed(plan):
    return [(c.kind, c.action, [(d.field, d.cloud, d.file)
                                for d in c.differences])
            for c in plan.to_make()]


def test_an_empty_cloud_gets_everything_in_dependency_order():
    state = st.CloudState(HIBISCUS, domains={'Default': 'default'})
    state.images['ubuntu'] = {}
    plan = op.make_plan(model(), state)
    assert [(c.kind, c.action) for c in plan.changes] == [
        ('project', 'create'), ('default quota', 'create'),
        ('quota', 'create'), ('flavor', 'create'), ('image', 'update')]
    flavor = plan.changes[3]
    assert flavor.target['specs'] == {
        'pci_passthrough:alias': 'P4:1', 'hw:hide_hypervisor_id': 'true',
        st.MARKER_SPEC: 'team'}
    assert ('access', None, 'ml') in [(d.field, d.cloud, d.file)
                                      for d in flavor.differences]


def test_the_applied_cloud_plans_nothing():
    plan = op.make_plan(model(), applied_state())
    assert plan.to_make() == []
    assert actions(plan) == [
        ('project', 'ml', 'unchanged'),
        ('default quota', 'P4 (class:CUSTOM_PCI_10DE_1BB3)', 'unchanged'),
        ('quota', 'ml: P4 (class:CUSTOM_PCI_10DE_1BB3)', 'unchanged'),
        ('flavor', 'gpu.p4', 'unchanged'),
        ('flavor access', 'gpu.p4: ml', 'unchanged'),
        ('image', 'ubuntu', 'unchanged')]


def test_hand_made_drift_shows_the_clouds_value_and_the_files():
    state = applied_state()
    state.flavors['gpu.p4'].extra_specs['hw:hide_hypervisor_id'] = 'false'
    state.flavors['gpu.p4'].access = frozenset()
    state.limits[('pid', P4.limit_name)].value = 5
    state.images['ubuntu'] = {}
    assert changed(op.make_plan(model(), state)) == [
        ('quota', 'update', [('resource_limit', '5', '2')]),
        ('flavor', 'update', [('hw:hide_hypervisor_id', 'false', 'true')]),
        ('flavor access', 'create', [('access', None, 'ml')]),
        ('image', 'update', [('img_hide_hypervisor_id', None, 'true')])]


def test_unmanaged_fields_and_extra_specs_are_left_alone():
    state = applied_state()
    state.flavors['gpu.p4'].extra_specs['hw:cpu_policy'] = 'dedicated'
    state.flavors['gpu.p4'].vcpus = 8      # the file gives no vcpus
    state.projects[ML].enabled = False     # nor enabled
    assert op.make_plan(model(), state).to_make() == []


def test_a_size_change_replaces_a_flavor_this_file_made():
    state = applied_state()
    state.flavors['gpu.p4'].ram = 256
    [change] = op.make_plan(model(), state).to_make()
    assert (change.action, change.differences[0]) == (
        'replace', op.Difference('ram', 256, 512))


def test_a_size_change_on_someone_elses_flavor_is_refused():
    state = applied_state()
    state.flavors['gpu.p4'].ram = 256
    del state.flavors['gpu.p4'].extra_specs[st.MARKER_SPEC]
    with pytest.raises(op.PlanError) as refused:
        op.make_plan(model(), state)
    [(path, message)] = refused.value.errors
    assert message == ("flavor 'gpu.p4' exists with ram=256, not 512, which "
                       'nova cannot change, and this file did not make it: '
                       'use another name, or delete it first')


def test_a_missing_image_or_domain_is_refused_with_the_fix():
    state = applied_state()
    del state.images['ubuntu']
    state.domains = {}
    with pytest.raises(op.PlanError) as refused:
        op.make_plan(model(), state)
    assert [m.split(':')[0] for _, m in refused.value.errors] == [
        "domain 'Default' not found", "image 'ubuntu' not found"]


def test_a_new_default_recreates_the_files_project_limits_first():
    state = applied_state()
    new = model(default_quotas=(ob.QuotaSpec(P4, 1),))
    assert [(c.kind, c.action) for c in op.make_plan(new, state).to_make()] \
        == [('quota', 'delete'), ('default quota', 'update'),
            ('quota', 'create')]


def test_a_new_default_under_others_project_limits_is_refused():
    state = applied_state()
    state.limits[('other', P4.limit_name)] = st.LimitState(
        'l2', P4.limit_name, 1, '', 'other')
    with pytest.raises(op.PlanError, match='1 project'):
        op.make_plan(model(default_quotas=(ob.QuotaSpec(P4, 1),)), state)


def test_project_limits_get_an_unlimited_default_when_none_is_given():
    state = applied_state()
    state.registered.clear()
    state.limits.clear()
    plan = op.make_plan(model(default_quotas=()), state)
    assert changed(plan)[:2] == [
        ('default quota', 'create', [('default_limit', None, 'unlimited')]),
        ('quota', 'create', [('resource_limit', None, '2')])]


def test_prune_deletes_only_what_this_file_made():
    state = applied_state()
    state.flavors['old'] = st.FlavorState('f2', 'old', 1, 256, extra_specs={
        st.MARKER_SPEC: 'team'})
    state.flavors['theirs'] = st.FlavorState('f3', 'theirs', 1, 256,
                                             extra_specs={
                                                 st.MARKER_SPEC: 'other'})
    state.tagged_projects[('Default', 'gone')] = st.ProjectState('p2', 'gone')
    state.limits[('p2', P4.limit_name)] = st.LimitState(
        'l2', P4.limit_name, 1, MARK, 'p2')
    state.flavors['gpu.p4'].access = frozenset({'pid', 'p2'})
    plan = op.make_plan(model(), state, prune=True)
    assert [(c.kind, c.name, c.action) for c in plan.to_make()] == [
        ('flavor access', 'gpu.p4: gone', 'delete'),
        ('flavor', 'old', 'delete'),
        ('quota', 'gone: class:CUSTOM_PCI_10DE_1BB3', 'delete'),
        ('project', 'gone', 'delete')]
    assert op.make_plan(model(), state).to_make() == []


def test_prune_keeps_a_project_that_still_has_servers():
    state = applied_state()
    state.tagged_projects[('Default', 'gone')] = st.ProjectState(
        'p2', 'gone', servers=2)
    with pytest.raises(op.PlanError, match="project 'gone' .* still has 2 "
                                           'server'):
        op.make_plan(model(), state, prune=True)


def test_hiding_off_removes_a_true_hide_key():
    flavor = model().flavors[0]
    off = model(flavors=(ob.FlavorSpec(
        flavor.name, flavor.requests, False, flavor.sizes,
        hide_hypervisor=False, projects=flavor.projects),))
    [change] = op.make_plan(off, applied_state()).to_make()
    assert change.target['specs'] == {'hw:hide_hypervisor_id': None}
