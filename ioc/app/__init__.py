"""Composition root: wires processes together (store, bus, engine, API, background services).

``serve`` starts the one-process default or an API node (``ioc serve``); ``worker`` starts an
``ioc worker`` node; ``users_cli`` is ``ioc users`` / ``ioc token``; ``settings_check`` turns
settings errors into one-line messages for all of them.
``ioc/api/`` holds only HTTP (``create_app`` and its routers); ``ioc/pipeline/`` only the running
pipeline. Nothing in ``ingest``, ``pipeline`` or ``api`` imports from here.
"""
