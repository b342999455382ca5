"""What the usager reads when a login stops: one entry per error code, in French and English.

Codes are stable identifiers used by plugins (``FlowError(code)``) and by tests.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    # code: {lang: (title, explanation)}: the title says what happened, in plain words; the
    # explanation says briefly why when it helps, then what to do. The error page adds the way
    # back to the service (when known), the help desk and the code (idp/templates/erreur.html).
    "client_inconnu": {
        "fr": ("Service inconnu",
               "Le site qui vous a envoyé ici n'est pas inscrit auprès de NC Connect. "
               "Aucune information vous concernant ne lui a été transmise. Revenez sur ce site "
               "et signalez-lui le problème."),
        "en": ("Unknown service",
               "The site that sent you here is not registered with NC Connect. No information "
               "about you was sent to it. Go back to that site and tell it about the problem."),
    },
    "redirect_uri_invalide": {
        "fr": ("Adresse de retour non autorisée",
               "Le service a demandé à vous renvoyer vers une adresse qu'il n'a pas déclarée. "
               "Pour votre sécurité, la connexion est arrêtée et aucune information n'a été "
               "transmise. Revenez sur le site du service et signalez-lui le problème."),
        "en": ("Return address not allowed",
               "The service asked to send you back to an address it has not registered. For "
               "your safety the sign-in was stopped and no information was sent. Go back to "
               "the service's site and tell it about the problem."),
    },
    "requete_invalide": {
        "fr": ("Demande de connexion incorrecte",
               "La demande de connexion envoyée par le service est incomplète ou incorrecte. "
               "Aucune information n'a été transmise. Revenez sur le site du service et "
               "réessayez ; si le problème continue, signalez-le au service."),
        "en": ("Incorrect sign-in request",
               "The sign-in request sent by the service is incomplete or incorrect. No "
               "information was sent. Go back to the service's site and try again; if the "
               "problem goes on, tell the service."),
    },
    "service_non_autorise": {
        "fr": ("Service non autorisé",
               "Ce service n'est pas, ou plus, autorisé à utiliser NC Connect. Aucune "
               "information n'a été transmise. Revenez sur le site du service et "
               "signalez-lui le problème."),
        "en": ("Service not allowed",
               "This service is not, or no longer, allowed to use NC Connect. No information "
               "was sent. Go back to the service's site and tell it about the problem."),
    },
    "sp_inconnu": {
        "fr": ("Service inconnu",
               "Le site qui vous a envoyé ici n'est pas inscrit auprès de NC Connect. "
               "Aucune information vous concernant ne lui a été transmise. Revenez sur ce site "
               "et signalez-lui le problème."),
        "en": ("Unknown service",
               "The site that sent you here is not registered with NC Connect. No information "
               "about you was sent to it. Go back to that site and tell it about the problem."),
    },
    "reponse_source_invalide": {
        "fr": ("La connexion avec votre compte n'a pas pu être vérifiée",
               "La réponse du compte que vous avez choisi n'a pas pu être vérifiée. Pour votre "
               "sécurité, elle a été refusée et rien n'a été transmis au service. Recommencez "
               "la connexion depuis le site du service."),
        "en": ("Your sign-in could not be checked",
               "The answer from the account you chose could not be checked. For your safety it "
               "was refused and nothing was sent to the service. Start again from the "
               "service's site."),
    },
    "identite_incomplete": {
        "fr": ("Identité incomplète",
               "Le compte que vous avez choisi ne donne pas tout ce qu'il faut pour vous "
               "reconnaître (nom de naissance, prénoms, date, lieu et pays de naissance, sexe). "
               "Rien n'a été transmis au service. Choisissez un autre compte pour vous "
               "connecter, ou demandez à l'organisme qui gère ce compte de le compléter."),
        "en": ("Incomplete identity",
               "The account you chose does not give everything needed to recognise you (birth "
               "name, given names, date, place and country of birth, sex). Nothing was sent to "
               "the service. Sign in with another account, or ask the organisation that runs "
               "this account to complete it."),
    },
    "reponse_rejouee": {
        "fr": ("Réponse déjà utilisée",
               "Cette réponse de connexion a déjà servi : elle ne peut servir qu'une fois, pour "
               "votre sécurité. Recommencez la connexion depuis le site du service."),
        "en": ("Response already used",
               "This sign-in response was already used: for your safety it can only be used "
               "once. Start again from the service's site."),
    },
    "session_expiree": {
        "fr": ("Session expirée",
               "Votre connexion a pris trop de temps, ou elle est déjà terminée (par exemple "
               "après un retour en arrière dans le navigateur). Recommencez depuis le site du "
               "service."),
        "en": ("Session expired",
               "Your sign-in took too long, or it is already over (for instance after using "
               "the browser's back button). Start again from the service's site."),
    },
    "source_non_autorisee": {
        "fr": ("Compte non accepté par ce service",
               "Ce service n'accepte pas le compte choisi. Revenez à la page précédente et "
               "choisissez un autre compte."),
        "en": ("Account not accepted by this service",
               "This service does not accept the chosen account. Go back to the previous page "
               "and choose another account."),
    },
    "niveau_insuffisant": {
        "fr": ("Niveau de sécurité non atteint",
               "Le compte choisi n'a pas confirmé votre connexion au niveau de sécurité "
               "attendu. Pour votre sécurité, la connexion est arrêtée et rien n'a été "
               "transmis. Réessayez, ou choisissez un autre compte depuis le site du service."),
        "en": ("Security level not reached",
               "The chosen account did not confirm your sign-in at the expected security "
               "level. For your safety the sign-in was stopped and nothing was sent. Try "
               "again, or choose another account from the service's site."),
    },
    "niveau_indisponible": {
        "fr": ("Aucun compte ne convient pour ce service",
               "Ce service demande un niveau de sécurité qu'aucun des comptes qu'il accepte ne "
               "permet d'atteindre pour le moment. Rien n'a été transmis. Revenez sur le site "
               "du service et signalez-lui le problème."),
        "en": ("No account fits this service",
               "This service requires a security level that none of the accounts it accepts "
               "can reach at the moment. Nothing was sent. Go back to the service's site and "
               "tell it about the problem."),
    },
    "identite_non_verifiee": {
        "fr": ("Identité non vérifiée",
               "Ce service demande une identité vérifiée, et celle de votre compte NC Connect ne "
               "l'est pas encore. Pour la faire vérifier, présentez-vous avec une pièce "
               "d'identité à un guichet NC Connect (mairie, province ou agence OPT). Rien n'a "
               "été transmis au service. En attendant, revenez sur le site du service et "
               "choisissez un autre compte pour vous connecter."),
        "en": ("Identity not verified",
               "This service requires a verified identity, and your NC Connect account's is "
               "not verified yet. To have it verified, bring an identity document to an "
               "NC Connect counter (town hall, province or OPT agency). Nothing was sent to the "
               "service. Meanwhile, go back to the service's site and sign in with another "
               "account."),
    },
    "source_indisponible": {
        "fr": ("Fournisseur d'identité indisponible",
               "Le compte que vous avez choisi ne répond pas pour le moment. Réessayez dans "
               "quelques minutes, ou choisissez un autre compte depuis le site du service."),
        "en": ("Identity provider unavailable",
               "The account you chose is not answering right now. Try again in a few minutes, "
               "or choose another account from the service's site."),
    },
    "annuaire_indisponible": {
        "fr": ("Informations momentanément indisponibles",
               "Une administration qui doit compléter les informations demandées par ce "
               "service ne répond pas pour le moment. La connexion est arrêtée et rien n'a été "
               "transmis. Réessayez dans quelques minutes depuis le site du service."),
        "en": ("Information temporarily unavailable",
               "An administration that must complete the information this service asks for is "
               "not answering right now. The sign-in was stopped and nothing was sent. Try "
               "again in a few minutes from the service's site."),
    },
    "consentement_expire": {
        "fr": ("Demande de transmission expirée",
               "Cette page a expiré ou a déjà été validée. Rien n'a été transmis au service "
               "depuis cette page. Recommencez la connexion depuis le site du service."),
        "en": ("Sharing request expired",
               "This page has expired or was already submitted. Nothing was sent to the "
               "service from this page. Start again from the service's site."),
    },
    "csrf": {
        "fr": ("Formulaire expiré",
               "Ce formulaire n'est plus valable : il a expiré, a déjà servi, ou ne vient pas "
               "de NC Connect. Recommencez la connexion depuis le site du service."),
        "en": ("Form expired",
               "This form is no longer valid: it expired, was already used, or did not come "
               "from NC Connect. Start again from the service's site."),
    },
    "compte_formulaire_invalide": {
        "fr": ("Formulaire expiré",
               "Ce formulaire de votre espace NC Connect n'est plus valable (il a expiré ou ne "
               "vient pas de NC Connect). Rien n'a été modifié. Revenez à votre espace et "
               "recommencez."),
        "en": ("Form expired",
               "This form of your NC Connect space is no longer valid (it expired or did not "
               "come from NC Connect). Nothing was changed. Go back to your space and try "
               "again."),
    },
    "compte_connexion_annulee": {
        "fr": ("Connexion à votre espace interrompue",
               "Vous n'êtes pas connecté à votre espace NC Connect : la connexion a été annulée "
               "ou n'a pas été confirmée. Vous pouvez recommencer depuis la page « Mon espace "
               "NC Connect »."),
        "en": ("Sign-in to your space stopped",
               "You are not signed in to your NC Connect space: the sign-in was cancelled or "
               "not confirmed. You may start again from the “My NC Connect space” page."),
    },
    "deconnexion_invalide": {
        "fr": ("Demande de déconnexion refusée",
               "La demande de déconnexion envoyée par le service est incomplète ou n'a pas pu "
               "être vérifiée. Pour votre sécurité, elle a été refusée. Pour vous déconnecter, "
               "fermez votre navigateur ou utilisez « Mon espace NC Connect »."),
        "en": ("Sign-out request refused",
               "The sign-out request sent by the service is incomplete or could not be checked. "
               "For your safety it was refused. To sign out, close your browser or use “My "
               "NC Connect space”."),
    },
    "deconnexion_expiree": {
        "fr": ("Déconnexion déjà terminée",
               "Votre session NC Connect est bien terminée. Cette page ne correspond plus à "
               "une déconnexion en cours (elle a expiré ou a déjà été affichée). Vous n'avez "
               "rien d'autre à faire."),
        "en": ("Sign-out already complete",
               "Your NC Connect session has ended. This page no longer belongs to a sign-out "
               "in progress (it expired or was already shown). There is nothing else to do."),
    },
    "deconnexion_formulaire_invalide": {
        "fr": ("Formulaire de déconnexion expiré",
               "Ce formulaire de déconnexion n'est plus valable (il a expiré ou ne vient pas "
               "de NC Connect). Vous n'avez pas été déconnecté. Revenez sur le site du service "
               "et recommencez."),
        "en": ("Sign-out form expired",
               "This sign-out form is no longer valid (it expired or did not come from "
               "NC Connect). You were not signed out. Go back to the service's site and try "
               "again."),
    },
    "page_inconnue": {
        "fr": ("Page introuvable",
               "Cette adresse n'existe pas sur NC Connect. Vérifiez l'adresse, ou revenez sur "
               "le site du service qui vous a envoyé ici."),
        "en": ("Page not found",
               "This address does not exist on NC Connect. Check the address, or go back to "
               "the site of the service that sent you here."),
    },
    "methode_non_autorisee": {
        "fr": ("Demande non acceptée",
               "Cette adresse de NC Connect ne s'utilise pas de cette façon. Revenez sur le "
               "site du service et recommencez."),
        "en": ("Request not accepted",
               "This NC Connect address cannot be used this way. Go back to the service's "
               "site and start again."),
    },
    "requete_trop_grande": {
        "fr": ("Demande trop volumineuse",
               "La demande reçue est trop grande et a été refusée. Revenez sur le site du "
               "service et recommencez."),
        "en": ("Request too large",
               "The request received is too large and was refused. Go back to the service's "
               "site and start again."),
    },
    "service_indisponible": {
        "fr": ("Service momentanément indisponible",
               "NC Connect a un problème technique passager. Rien n'a été transmis. Réessayez "
               "dans quelques minutes."),
        "en": ("Temporarily unavailable",
               "NC Connect has a temporary technical problem. Nothing was sent. Try again in a "
               "few minutes."),
    },
    "erreur_interne": {
        "fr": ("Erreur inattendue",
               "Une erreur inattendue s'est produite. Rien n'a été transmis. Réessayez depuis "
               "le site du service ; si le problème continue, contactez l'assistance en "
               "donnant le code ci-dessous."),
        "en": ("Unexpected error",
               "An unexpected error occurred. Nothing was sent. Try again from the service's "
               "site; if the problem goes on, contact the help desk and give the code below."),
    },
}

def message(code: str, lang: str) -> tuple[str, str]:
    entry = MESSAGES.get(code) or MESSAGES["erreur_interne"]
    return entry.get(lang) or entry["fr"]
