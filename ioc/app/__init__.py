"""Composition root: wires processes together (store, bus, engine, API, background services).

``worker`` starts an ``ioc worker`` node. ``ioc serve``'s wiring still lives in
``ioc/api/serve.py`` and moves here once the branches editing it have merged.
"""
