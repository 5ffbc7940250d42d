"""Keystone projects and unified limits, and nova's flavor access, faked at
the HTTP layer on a :class:`FakeCloud` (with the keystone rules that shape
osc-gpu's code: unique names, a registered limit before project limits, no
change to a registered limit that project limits use)."""

import re
import urllib.parse
import uuid


def _query(request):
    return {k: v[0] for k, v in urllib.parse.parse_qs(
        urllib.parse.urlsplit(request.url).query).items()}


def _error(context, status, message):
    context.status_code = status
    return {'error': {'code': status, 'message': message}}


class FakeKeystone:
    """Domains, projects, registered and project limits; flavor access;
    placement's per-project usage."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.url = cloud.auth_url
        self.domains = {'default': {'id': 'default', 'name': 'Default',
                                    'enabled': True}}
        self.projects = {}
        self.registered_limits = {}
        self.limits = {}
        self.access = {}            # flavor id -> [project ids]
        self.usages = {}            # project id -> {rc: used}
        self._register()

    # -- building ----------------------------------------------------------
    def add_project(self, name, domain_id='default', tags=(), **attrs):
        project = {'id': uuid.uuid4().hex, 'name': name,
                   'domain_id': domain_id, 'description': '',
                   'enabled': True, 'tags': list(tags), 'is_domain': False,
                   'parent_id': domain_id, 'links': {}}
        project.update(attrs)
        self.projects[project['id']] = project
        return project

    def add_limit(self, collection, **attrs):
        item = dict({'id': uuid.uuid4().hex, 'description': None,
                     'links': {}}, **attrs)
        getattr(self, collection)[item['id']] = item
        return item

    def compute_service_id(self):
        """The compute service's id in the token's catalog."""
        import requests
        token = requests.post(self.url + '/auth/tokens', json={}).json()
        return next(s['id'] for s in token['token']['catalog']
                    if s['type'] == 'compute')

    # -- routes ------------------------------------------------------------
    def _register(self):
        mock, base = self.cloud.mock, re.escape(self.url)
        one = r'/([^/?]+)$'
        many = r'(\?.*)?$'
        mock.get(re.compile(base + '/domains' + many), json=self._list(
            'domains'))
        mock.get(re.compile(base + '/domains' + one), json=self._get(
            'domains'))
        mock.get(re.compile(base + '/projects' + many), json=self._list(
            'projects'))
        mock.get(re.compile(base + '/projects' + one), json=self._get(
            'projects'))
        mock.post(self.url + '/projects', json=self._create_project,
                  status_code=201)
        mock.patch(re.compile(base + '/projects' + one), json=self._update(
            'projects'))
        mock.delete(re.compile(base + '/projects' + one),
                    json=self._delete('projects'), status_code=204)
        for name in ('registered_limits', 'limits'):
            mock.get(re.compile(base + '/' + name + many),
                     json=self._list(name))
            mock.post(self.url + '/' + name, json=self._create_limit(name),
                      status_code=201)
            mock.patch(re.compile(base + '/' + name + one),
                       json=self._update(name))
            mock.delete(re.compile(base + '/' + name + one),
                        json=self._delete(name), status_code=204)
        compute = re.escape(self.cloud.compute_url)
        mock.get(re.compile(compute + r'/flavors/([^/]+)/os-flavor-access$'),
                 json=self._flavor_access)
        mock.post(re.compile(compute + r'/flavors/([^/]+)/action$'),
                  json=self._flavor_action)
        mock.put(re.compile(compute + r'/flavors/([^/]+)$'),
                 json=self._update_flavor)
        mock.delete(re.compile(compute + r'/flavors/([^/]+)/os-extra_specs/'
                                         r'([^/]+)$'),
                    json=self._delete_spec)
        mock.get(re.compile(re.escape(self.cloud.placement_url)
                            + r'/usages(\?.*)?$'), json=self._usages)

    def _matches(self, item, query):
        for key, value in query.items():
            if key == 'tags':
                if value not in item.get('tags', ()):
                    return False
            elif str(item.get(key)) != value:
                return False
        return True

    def _list(self, collection):
        def answer(request, context):
            query = _query(request)
            return {collection: [i for i in getattr(self, collection).values()
                                 if self._matches(i, query)], 'links': {}}
        return answer

    def _get(self, collection):
        def answer(request, context):
            item = getattr(self, collection).get(
                request.path.rsplit('/', 1)[-1])
            if item is None:
                return _error(context, 404, 'Could not find %s' % collection)
            return {collection.rstrip('s'): item}
        return answer

    def _create_project(self, request, context):
        body = request.json()['project']
        if any(p['name'] == body['name'] and p['domain_id'] ==
               body.get('domain_id', 'default')
               for p in self.projects.values()):
            return _error(context, 409, 'Conflict occurred attempting to '
                          'store project - it is not permitted to have two '
                          'projects with the same name in the same domain')
        return {'project': self.add_project(**body)}

    def _update(self, collection):
        singular = collection[:-1]

        def answer(request, context):
            ident = request.path.rsplit('/', 1)[-1]
            item = getattr(self, collection)[ident]
            if collection == 'registered_limits' and self._used(item):
                return _error(context, 403, 'Unable to update or delete '
                              'registered limit %s because there are project '
                              'limits associated with it.' % ident)
            item.update(request.json()[singular])
            return {singular: item}
        return answer

    def _delete(self, collection):
        def answer(request, context):
            ident = request.path.rsplit('/', 1)[-1]
            item = getattr(self, collection).get(ident)
            if collection == 'registered_limits' and item and \
                    self._used(item):
                return _error(context, 403, 'Unable to update or delete '
                              'registered limit %s because there are project '
                              'limits associated with it.' % ident)
            getattr(self, collection).pop(ident, None)
            return None
        return answer

    def _used(self, registered):
        return any(lim['resource_name'] == registered['resource_name']
                   for lim in self.limits.values())

    def _create_limit(self, collection):
        def answer(request, context):
            [body] = request.json()[collection]
            key = ('service_id', 'region_id', 'resource_name')
            if collection == 'limits':
                key += ('project_id',)
                if not any(all(r.get(k) == body.get(k) for k in key[:3])
                           for r in self.registered_limits.values()):
                    return _error(context, 403, 'Unable to create a limit '
                                  'that has no corresponding registered '
                                  'limit.')
            if any(all(i.get(k) == body.get(k) for k in key)
                   for i in getattr(self, collection).values()):
                return _error(context, 409, 'Conflict occurred attempting to '
                              'store %s - Duplicate entry.' % collection)
            return {collection: [self.add_limit(collection, **body)]}
        return answer

    # -- nova flavor access, placement usage ----------------------------
    def _flavor_id(self, request):
        return request.path.split('/flavors/')[1].split('/')[0]

    def _flavor_access(self, request, context):
        flavor_id = self._flavor_id(request)
        return {'flavor_access': [
            {'flavor_id': flavor_id, 'tenant_id': pid}
            for pid in self.access.get(flavor_id, [])]}

    def _flavor_action(self, request, context):
        flavor_id = self._flavor_id(request)
        body = request.json()
        granted = self.access.setdefault(flavor_id, [])
        if 'addTenantAccess' in body:
            pid = body['addTenantAccess']['tenant']
            if pid in granted:
                return _error(context, 409, 'Flavor access already exists '
                              'for flavor %s and project %s combination.'
                              % (flavor_id, pid))
            granted.append(pid)
        else:
            pid = body['removeTenantAccess']['tenant']
            if pid not in granted:
                return _error(context, 404, 'Flavor access not found')
            granted.remove(pid)
        return self._flavor_access(request, context)

    def _update_flavor(self, request, context):
        flavor = self.cloud.flavors[self._flavor_id(request)]
        flavor['description'] = request.json()['flavor']['description']
        return {'flavor': flavor}

    def _delete_spec(self, request, context):
        flavor = self.cloud.flavors[self._flavor_id(request)]
        flavor['extra_specs'].pop(request.path.rsplit('/', 1)[-1], None)
        return None

    def _usages(self, request, context):
        return {'usages': dict(self.usages.get(
            _query(request).get('project_id'), {}))}
