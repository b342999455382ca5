"""What the usager reads when a login stops: one entry per error code, in French and English.

Codes are stable identifiers used by plugins (``FlowError(code)``) and by tests.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    # code: {lang: (title, explanation)}
    "client_inconnu": {
        "fr": ("Service inconnu",
               "Le service qui vous a envoyé ici n'est pas enregistré auprès de NC Connect. "
               "Aucune donnée n'a été transmise. Revenez sur le site du service et contactez-le."),
        "en": ("Unknown service",
               "The service that sent you here is not registered with NC Connect. "
               "No data was sent. Go back to the service's site and contact it."),
    },
    "redirect_uri_invalide": {
        "fr": ("Adresse de retour non autorisée",
               "Le service a demandé à vous renvoyer vers une adresse qu'il n'a pas déclarée. "
               "Par sécurité, la connexion est interrompue et aucune donnée n'a été transmise."),
        "en": ("Return address not allowed",
               "The service asked to send you back to an address it has not registered. "
               "For your safety the sign-in was stopped and no data was sent."),
    },
    "requete_invalide": {
        "fr": ("Demande de connexion invalide",
               "La demande de connexion reçue du service est incomplète ou mal formée. "
               "Aucune donnée n'a été transmise. Revenez sur le site du service et réessayez."),
        "en": ("Invalid sign-in request",
               "The sign-in request from the service is incomplete or malformed. "
               "No data was sent. Go back to the service's site and try again."),
    },
    "service_non_autorise": {
        "fr": ("Service non autorisé",
               "Le service qui vous a envoyé ici n'est pas, ou plus, autorisé à recevoir des "
               "données de NC Connect. Aucune donnée n'a été transmise. Contactez le service."),
        "en": ("Service not authorised",
               "The service that sent you here is not, or no longer, authorised to receive data "
               "from NC Connect. No data was sent. Contact the service."),
    },
    "sp_inconnu": {
        "fr": ("Service inconnu",
               "Le service (SAML) qui vous a envoyé ici n'est pas enregistré auprès de NC Connect. "
               "Aucune donnée n'a été transmise."),
        "en": ("Unknown service",
               "The (SAML) service that sent you here is not registered with NC Connect. "
               "No data was sent."),
    },
    "reponse_source_invalide": {
        "fr": ("Réponse du fournisseur d'identité refusée",
               "La réponse reçue de votre fournisseur d'identité n'a pas pu être vérifiée "
               "(signature, destinataire ou validité). Par sécurité, elle a été refusée et aucune "
               "donnée n'a été transmise au service. Vous pouvez recommencer la connexion."),
        "en": ("Identity provider response refused",
               "The response from your identity provider could not be verified (signature, "
               "audience or validity). For your safety it was refused and no data was sent to "
               "the service. You may start the sign-in again."),
    },
    "identite_incomplete": {
        "fr": ("Identité incomplète",
               "Votre fournisseur d'identité n'a pas transmis tout ce qu'il faut pour vous "
               "reconnaître (nom de naissance, prénoms, date, lieu et pays de naissance, sexe). "
               "Aucune donnée n'a été transmise au service. Choisissez un autre compte pour vous "
               "connecter, ou demandez à votre fournisseur d'identité de compléter votre compte."),
        "en": ("Incomplete identity",
               "Your identity provider did not send everything needed to recognise you (birth "
               "name, given names, date, place and country of birth, sex). No data was sent to "
               "the service. Sign in with another account, or ask your identity provider to "
               "complete your account."),
    },
    "reponse_rejouee": {
        "fr": ("Réponse déjà utilisée",
               "Cette réponse de connexion a déjà été utilisée. Par sécurité, elle ne peut "
               "servir qu'une fois. Recommencez la connexion depuis le site du service."),
        "en": ("Response already used",
               "This sign-in response has already been used and can only be used once. "
               "Start again from the service's site."),
    },
    "session_expiree": {
        "fr": ("Session expirée",
               "Votre demande de connexion a expiré ou a déjà été terminée (par exemple après "
               "un retour arrière du navigateur). Recommencez depuis le site du service."),
        "en": ("Session expired",
               "Your sign-in request has expired or was already completed (for instance after "
               "using the browser's back button). Start again from the service's site."),
    },
    "source_non_autorisee": {
        "fr": ("Compte non accepté par ce service",
               "Le compte choisi n'est pas accepté par ce service. Choisissez un autre compte."),
        "en": ("Account not accepted by this service",
               "The chosen account is not accepted by this service. Choose another account."),
    },
    "niveau_insuffisant": {
        "fr": ("Niveau de sécurité non atteint",
               "Votre fournisseur d'identité n'a pas confirmé votre connexion au niveau de "
               "sécurité attendu pour ce compte. Par sécurité, la connexion est interrompue et "
               "aucune donnée n'a été transmise. Réessayez ou choisissez un autre compte."),
        "en": ("Security level not reached",
               "Your identity provider did not confirm your sign-in at the security level "
               "expected for this account. For your safety the sign-in was stopped and no data "
               "was sent. Try again or choose another account."),
    },
    "niveau_indisponible": {
        "fr": ("Aucun compte ne convient pour ce service",
               "Ce service demande un niveau de sécurité qu'aucun des comptes qu'il accepte ne "
               "permet d'atteindre pour le moment. Aucune donnée n'a été transmise. Revenez sur "
               "le site du service et contactez-le."),
        "en": ("No account fits this service",
               "This service requires a security level that none of the accounts it accepts "
               "can reach at the moment. No data was sent. Go back to the service's site and "
               "contact it."),
    },
    "identite_non_verifiee": {
        "fr": ("Identité non vérifiée",
               "Ce service demande une identité vérifiée, et celle de votre compte NC Connect ne "
               "l'est pas encore. Pour la faire vérifier, présentez-vous avec une pièce "
               "d'identité à un guichet NC Connect (mairie, province ou agence OPT). Aucune "
               "donnée n'a été transmise au service. En attendant, revenez sur le site du "
               "service et choisissez un autre compte pour vous connecter."),
        "en": ("Identity not verified",
               "This service requires a verified identity, and your NC Connect account's is "
               "not verified yet. To have it verified, bring an identity document to an "
               "NC Connect counter (town hall, province or OPT agency). No data was sent to the "
               "service. Meanwhile, go back to the service's site and sign in with another "
               "account."),
    },
    "source_indisponible": {
        "fr": ("Fournisseur d'identité indisponible",
               "Votre fournisseur d'identité ne répond pas pour le moment. Réessayez dans "
               "quelques minutes ou choisissez un autre compte."),
        "en": ("Identity provider unavailable",
               "Your identity provider is not answering right now. Try again in a few minutes "
               "or choose another account."),
    },
    "annuaire_indisponible": {
        "fr": ("Informations momentanément indisponibles",
               "Un annuaire de l'administration qui doit compléter les informations demandées "
               "par ce service ne répond pas pour le moment. Par sécurité, la connexion est "
               "interrompue et aucune donnée n'a été transmise. Réessayez dans quelques minutes."),
        "en": ("Information temporarily unavailable",
               "An administration directory that must complete the information this service "
               "asks for is not answering right now. For your safety the sign-in was stopped "
               "and no data was sent. Try again in a few minutes."),
    },
    "consentement_expire": {
        "fr": ("Demande de transmission expirée",
               "Cette page de transmission d'informations a expiré ou a déjà été validée. "
               "Aucune information n'a été transmise au service par cette page. Recommencez la "
               "connexion depuis le site du service."),
        "en": ("Sharing request expired",
               "This information-sharing page has expired or was already submitted. Nothing was "
               "sent to the service from this page. Start again from the service's site."),
    },
    "csrf": {
        "fr": ("Formulaire expiré",
               "Ce formulaire n'est plus valide (il a expiré ou ne provient pas de NC Connect). "
               "Recommencez la connexion depuis le site du service."),
        "en": ("Form expired",
               "This form is no longer valid (it expired or did not come from NC Connect). "
               "Start again from the service's site."),
    },
    "compte_formulaire_invalide": {
        "fr": ("Formulaire expiré",
               "Ce formulaire de votre espace NC Connect n'est plus valide (il a expiré ou ne "
               "provient pas de NC Connect). Rien n'a été modifié. Revenez à votre espace et "
               "recommencez."),
        "en": ("Form expired",
               "This form of your NC Connect space is no longer valid (it expired or did not "
               "come from NC Connect). Nothing was changed. Go back to your space and try again."),
    },
    "compte_connexion_annulee": {
        "fr": ("Connexion à votre espace interrompue",
               "Votre fournisseur d'identité n'a pas confirmé votre connexion. Vous n'êtes pas "
               "connecté à votre espace NC Connect. Vous pouvez recommencer depuis la page "
               "« Mon espace NC Connect »."),
        "en": ("Sign-in to your space stopped",
               "Your identity provider did not confirm your sign-in. You are not signed in to "
               "your NC Connect space. You may start again from the “My NC Connect space” page."),
    },
    "deconnexion_invalide": {
        "fr": ("Demande de déconnexion refusée",
               "La demande de déconnexion reçue du service est incomplète, mal formée ou n'a "
               "pas pu être vérifiée. Par sécurité, elle a été refusée. Pour vous déconnecter, "
               "fermez votre navigateur ou utilisez « Mon espace NC Connect »."),
        "en": ("Sign-out request refused",
               "The sign-out request from the service is incomplete, malformed or could not "
               "be verified. For your safety it was refused. To sign out, close your browser "
               "or use “My NC Connect space”."),
    },
    "deconnexion_expiree": {
        "fr": ("Déconnexion déjà terminée",
               "Votre session NC Connect est bien terminée. Cette page ne correspond plus à "
               "une déconnexion en cours (elle a expiré ou a déjà été affichée)."),
        "en": ("Sign-out already complete",
               "Your NC Connect session has ended. This page no longer belongs to a sign-out "
               "in progress (it expired or was already shown)."),
    },
    "deconnexion_formulaire_invalide": {
        "fr": ("Formulaire de déconnexion expiré",
               "Ce formulaire de déconnexion n'est plus valide (il a expiré ou ne provient pas "
               "de NC Connect). Vous n'avez pas été déconnecté. Revenez sur le site du service "
               "et recommencez."),
        "en": ("Sign-out form expired",
               "This sign-out form is no longer valid (it expired or did not come from "
               "NC Connect). You were not signed out. Go back to the service's site and try "
               "again."),
    },
    "page_inconnue": {
        "fr": ("Page introuvable", "L'adresse demandée n'existe pas sur NC Connect."),
        "en": ("Page not found", "The requested address does not exist on NC Connect."),
    },
    "methode_non_autorisee": {
        "fr": ("Méthode non autorisée", "Cette adresse n'accepte pas ce type de requête."),
        "en": ("Method not allowed", "This address does not accept this kind of request."),
    },
    "requete_trop_grande": {
        "fr": ("Requête trop volumineuse",
               "La requête reçue dépasse la taille autorisée et a été refusée."),
        "en": ("Request too large", "The request exceeds the allowed size and was refused."),
    },
    "service_indisponible": {
        "fr": ("Service momentanément indisponible",
               "NC Connect rencontre une difficulté technique passagère. Aucune donnée n'a été "
               "transmise. Réessayez dans quelques minutes."),
        "en": ("Temporarily unavailable",
               "NC Connect has a temporary technical problem. No data was sent. "
               "Try again in a few minutes."),
    },
    "erreur_interne": {
        "fr": ("Erreur inattendue",
               "Une erreur inattendue s'est produite. Aucune donnée n'a été transmise. "
               "Si le problème persiste, communiquez la référence ci-dessous à l'assistance."),
        "en": ("Unexpected error",
               "An unexpected error occurred. No data was sent. If the problem persists, "
               "give the reference below to the help desk."),
    },
}


def message(code: str, lang: str) -> tuple[str, str]:
    entry = MESSAGES.get(code) or MESSAGES["erreur_interne"]
    return entry.get(lang) or entry["fr"]
