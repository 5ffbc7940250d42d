"""The worked example (examples/onboarding.yaml) under a test's own names.

Every name in the example starts with ``example`` and its image is
``tiny-raw``; a test gets a copy whose names start with its own unique
prefix and whose image is one it uploaded, so tests can run side by side
(and beside other engineers' tests) and change what they like.
"""

import json
import pathlib

import openstack

from tests.functional.cli import unique

EXAMPLE = (pathlib.Path(__file__).resolve().parents[2] / 'examples'
           / 'onboarding.yaml')
MARK_SPEC = 'osc_gpu:onboarding'


class Onboarding:
    """One test's copy of the example, and how to remove what it made."""

    def __init__(self, folder, image):
        self.prefix = unique('onb')
        self.image = image
        self.name = self.prefix + '-gpu-onboarding'
        text = EXAMPLE.read_text().replace('example-gpu-onboarding',
                                           self.name)
        text = text.replace('example-', self.prefix + '-').replace(
            'example.', self.prefix + '.').replace('tiny-raw', image)
        self.path = pathlib.Path(folder) / (self.prefix + '.yaml')
        self.path.write_text(text)
        self.empty = pathlib.Path(folder) / (self.prefix + '-empty.yaml')
        self.empty.write_text('version: 1\nname: %s\n' % self.name)

    @property
    def projects(self):
        return [self.prefix + '-ml-team', self.prefix + '-viz-team']

    @property
    def flavors(self):
        return [self.prefix + s for s in ('.m60', '.p4', '.p4x2', '.t4')]

    def edited(self, old, new):
        """A copy of the file with ``old`` replaced by ``new``."""
        path = self.path.with_name(self.prefix + '-edited.yaml')
        path.write_text(self.path.read_text().replace(old, new))
        return str(path)

    def plan(self, osc, *extra, path=None):
        """``(exit code, rows)`` of ``gpu plan -f FILE -f json``."""
        result = osc.run(['gpu', 'plan', '-f', path or str(self.path),
                          '-f', 'json'] + list(extra), check=False)
        assert result.returncode in (0, 2), result.stderr
        return result.returncode, json.loads(result.stdout)

    def apply(self, osc, *extra, check=True):
        return osc.run(['gpu', 'apply', '-f', str(self.path), '--yes',
                        '-f', 'json'] + list(extra), check=check)

    def remove(self, osc, sdk, prune=True):
        """Delete everything the file made: by ``apply --prune`` of an empty
        file with its name, then by name whatever that left (only the
        latter, quicker, without ``prune``)."""
        if prune:
            osc.run(['gpu', 'apply', '-f', str(self.empty), '--prune',
                     '--yes'], check=False)
        for name in self.flavors:
            flavor = sdk.compute.find_flavor(name, ignore_missing=True)
            if flavor is not None:
                sdk.compute.delete_flavor(flavor, ignore_missing=True)
        for name in self.projects:
            project = sdk.identity.find_project(name, domain_id='default',
                                                ignore_missing=True)
            if project is None:
                continue
            for limit in sdk.identity.limits(project_id=project.id):
                sdk.identity.delete_limit(limit, ignore_missing=True)
            sdk.identity.delete_project(project, ignore_missing=True)
        mark = 'made by osc-gpu onboarding file %s' % self.name
        for registered in sdk.identity.registered_limits():
            if registered.description == mark:
                try:
                    sdk.identity.delete_registered_limit(registered)
                except openstack.exceptions.ForbiddenException:
                    pass    # project limits of someone else's use it


def connection(osc):
    """An SDK connection to the tests' cloud, to read and clean up."""
    files = ([osc.env['OS_CLIENT_CONFIG_FILE']]
             if osc.env.get('OS_CLIENT_CONFIG_FILE') else None)
    config = openstack.config.OpenStackConfig(config_files=files)
    return openstack.connection.Connection(
        config=config.get_one(cloud=osc.env['OS_CLOUD'], connect_retries=3))


def upload_image(sdk):
    return sdk.image.create_image(
        name=unique('onb-img'), data=b'\0' * 1024, disk_format='raw',
        container_format='bare', visibility='public', allow_duplicates=True)
