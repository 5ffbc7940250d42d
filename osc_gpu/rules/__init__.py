"""What osc-gpu knows about nova, as data and pure functions.

Nothing here does I/O, talks to a cloud or sleeps: each module is one
family of facts (GPU requests, flavor extra specs, image properties, nova's
[pci] schema, releases, ...) that the commands, the cloud workflows and the
host checks all read. ``tests/unit/test_layering.py`` keeps it so.
"""
