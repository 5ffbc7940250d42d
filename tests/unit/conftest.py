"""Every unit test runs as if no openrc were sourced.

An operator's shell often has OS_CLOUD, OS_AUTH_URL, OS_REGION_NAME...
set; openstacksdk and OSC read them on top of any clouds.yaml, so one
stray OS_REGION_NAME turns a fake cloud's answers into errors and an
OS_CLOUD could even send a unit test to a real cloud.
"""

import os

import pytest


@pytest.fixture(autouse=True)
def no_os_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith('OS_'):
            monkeypatch.delenv(name)
