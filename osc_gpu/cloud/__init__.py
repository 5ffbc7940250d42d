"""The only code that talks to a cloud: openstacksdk behind one adapter.

``adapter`` wraps the SDK connection (compute, image, identity, network),
``placement`` reads PCI devices and allocations, ``errors`` turns SDK and
transport failures into one line; ``flavors``, ``servers`` and ``waiting``
are the multi-step workflows (atomic create, cleanup, polling).
"""
