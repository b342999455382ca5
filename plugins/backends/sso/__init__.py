"""The SSO-session backend: answers a login from the citizen's single sign-on session."""
