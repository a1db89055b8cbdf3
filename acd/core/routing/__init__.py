"""The router's work, one concept per module, over one ``RoutingState``.

``acd.core.router.Router`` is the façade; the map of which module holds which rule is in
``acd/core/README.md``.
"""
