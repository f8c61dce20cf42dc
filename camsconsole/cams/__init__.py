"""The CAMS side of the wire: signer, client, validation rules and the local sandbox.

Plain Python on purpose (no Django models), so that the client, the rules and the sandbox can be
used and tested alone.
"""
