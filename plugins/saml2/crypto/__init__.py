"""XML security for every SAML message of the proxy: signing, verifying, encrypting and
decrypting, in process with python-xmlsec (:mod:`.backend`) or, when the settings say
``saml: {crypto: xmlsec1}``, with pysaml2's ``xmlsec1`` binary backend (:mod:`.binary`).
:func:`.context.install` puts the chosen one into each pysaml2 entity."""
