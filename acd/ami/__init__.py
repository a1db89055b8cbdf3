"""The AMI adapter: the only code in the ACD that speaks AMI (panoramisk).

``convert`` turns AMI dicts into typed facts, ``handlers`` hands them to the managers
(``rings``, ``callers``, ``contacts``, ``ring_ahead``, ...), ``actions`` builds every AMI
action; ``runtime.AcdRuntime`` is the façade that owns the connection and the router,
``agi_routes`` adds the waiting-caller and agent feature-code FastAGI routes.
"""
