"""The errors derive raises, each carrying a one-line message for the user."""


class DeriveError(Exception):
    """A failure the user can act on; its message is one line."""


class UnknownFunction(DeriveError, LookupError):
    """No function of that name is registered."""


class InvalidInput(DeriveError, ValueError):
    """An argument is out of range or malformed."""


class ProofFailed(DeriveError, AssertionError):
    """A derived result could not be proven equal to what it claims to be."""


class NotApplicable(DeriveError):
    """A route or target does not apply to this function."""
