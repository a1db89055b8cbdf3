"""The AMI adapter: the only code in the ACD that speaks AMI (panoramisk).

``convert`` turns AMI dicts into typed facts, ``runtime.AcdRuntime`` owns the connection and
the router, ``agi_routes`` adds the waiting-caller and agent feature-code FastAGI routes.
"""
