"""OpenStack releases as the compute API reveals them, and what each offers.

Nova publishes no release name, but every release raises the compute API's
maximum microversion, so the maximum tells the oldest release the cloud can
be. Releases sharing a maximum (Ussuri and Victoria, 2.87) are reported as
the older one: rules built on that never use a feature the cloud may lack.
"""

import dataclasses


@dataclasses.dataclass(frozen=True, order=True)
class Microversion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text):
        major, _, minor = str(text).partition('.')
        try:
            return cls(int(major), int(minor or 0))
        except ValueError:
            raise ValueError(
                "invalid microversion '%s': expected MAJOR.MINOR, e.g. 2.86"
                % text) from None

    def __str__(self):
        return '%d.%d' % (self.major, self.minor)


@dataclasses.dataclass(frozen=True)
class Release:
    name: str
    nova_major: int
    max_microversion: Microversion

    def __str__(self):
        return '%s (nova %d)' % (self.name, self.nova_major)

    def at_least(self, name):
        return self.nova_major >= RELEASES_BY_NAME[name].nova_major

    def surely_at_least(self, name):
        """Whether every release with this one's maximum microversion is
        at least ``name``: what a cloud known only by its compute API's
        maximum surely offers (2.87 may be Ussuri or Victoria)."""
        return release_for_max_microversion(
            self.max_microversion).at_least(name)


def _r(name, nova_major, max_mv):
    return Release(name, nova_major, Microversion.parse(max_mv))


# Maximum compute microversion of each release, from nova's
# rest_api_version_history.
RELEASES = (
    _r('Kilo', 11, '2.3'),
    _r('Liberty', 12, '2.12'),
    _r('Mitaka', 13, '2.25'),
    _r('Newton', 14, '2.38'),
    _r('Ocata', 15, '2.42'),
    _r('Pike', 16, '2.53'),
    _r('Queens', 17, '2.60'),
    _r('Rocky', 18, '2.65'),
    _r('Stein', 19, '2.72'),
    _r('Train', 20, '2.79'),
    _r('Ussuri', 21, '2.87'),
    _r('Victoria', 22, '2.87'),
    _r('Wallaby', 23, '2.88'),
    _r('Xena', 24, '2.90'),
    _r('Yoga', 25, '2.90'),
    _r('Zed', 26, '2.93'),
    _r('2023.1 Antelope', 27, '2.95'),
    _r('2023.2 Bobcat', 28, '2.95'),
    _r('2024.1 Caracal', 29, '2.96'),
    _r('2024.2 Dalmatian', 30, '2.96'),
    _r('2025.1 Epoxy', 31, '2.100'),
    _r('2025.2 Flamingo', 32, '2.100'),
    _r('2026.1 Gazpacho', 33, '2.103'),
    _r('2026.2 Hibiscus', 34, '2.104'),
)
RELEASES_BY_NAME = {r.name: r for r in RELEASES}
RELEASES_BY_NAME.update({r.name.split()[-1]: r for r in RELEASES})

# Microversions osc-gpu relies on.
EXTRA_SPEC_VALIDATION = Microversion(2, 86)


def release_for_max_microversion(max_microversion):
    """The oldest release whose compute API reaches ``max_microversion``.

    A maximum newer than any known release is reported as the newest known.
    """
    wanted = (max_microversion if isinstance(max_microversion, Microversion)
              else Microversion.parse(max_microversion))
    for release in RELEASES:
        if release.max_microversion >= wanted:
            return release
    return RELEASES[-1]
