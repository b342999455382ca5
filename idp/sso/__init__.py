"""Single sign-on and single logout: the citizen's session (:mod:`.session`), the logout
orchestration (:mod:`.logout`, :mod:`.logout_plan`, :mod:`.logout_notices`), the messages it
carries through the browser (:mod:`.front_channel`) and its wiring into the assembled
configuration (:mod:`.logout_wiring`). Protocol plugins register what they can tell with the
orchestration; nothing here imports a plugin."""
