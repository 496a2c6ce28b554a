# Die Kataloge (forms.toml, payments.toml) auf Deutsch. Die Kataloge selbst sind englisch; jede
# Zeile hier übersetzt einen Eintrag über seine Kennung. Ein neuer Eintrag ohne Übersetzung lässt
# `cargo test` scheitern.

## Themen

topic-api-management = API-Management
topic-integration = Integration
topic-identity = Identitäts- und Zugriffsverwaltung
topic-cloud = WSO2 Cloud
topic-events = Veranstaltungen und Workshops
topic-careers = Neuigkeiten zu Stellen

## Formulare

form-registration-title = Konto anlegen
form-registration-purpose-account = Ihr Online-Profil und Konto anlegen und führen.
form-registration-purpose-service-updates = Ihnen wichtige Neuigkeiten zur Website und zu den Diensten senden, die Sie nutzen.
form-registration-purpose-marketing = Ihnen Informationen zu den gewählten Themen senden.

form-event-registration-title = Für eine Veranstaltung anmelden
form-event-registration-purpose-event-registration = Sie für die Veranstaltung anmelden und sie durchführen.
form-event-registration-purpose-marketing = Ihnen Informationen zu den gewählten Themen senden.

form-cloud-signup-title = Für WSO2 Cloud registrieren
form-cloud-signup-purpose-cloud-service = Das gebuchte WSO2-Cloud-Abonnement bereitstellen und abrechnen.
form-cloud-signup-purpose-service-updates = Ihnen wichtige Neuigkeiten zum Dienst senden.
form-cloud-signup-purpose-marketing = Ihnen Informationen zu den gewählten Themen senden.

form-product-download-title = Ein Produkt herunterladen
form-product-download-purpose-product-download = Ihnen den gewünschten Download geben.
form-product-download-purpose-product-analytics = Verstehen, wie unsere Produkte heruntergeladen und genutzt werden.
form-product-download-purpose-marketing = Ihnen Informationen zu den gewählten Themen senden.

form-contact-us-title = Kontakt
form-contact-us-purpose-respond-to-request = Sie zu Ihrer Anfrage kontaktieren.

form-careers-title = Auf eine Stelle bewerben
form-careers-purpose-recruitment = Ihre Bewerbung für die Stelle prüfen.
form-careers-purpose-marketing = Ihnen von künftigen Stellen erzählen, wenn Sie davon hören möchten.

form-newsletter-title = Newsletter abonnieren
form-newsletter-purpose-marketing = Ihnen Informationen zu den gewählten Themen senden.

form-survey-title = Umfrage und Gewinnspiel
form-survey-purpose-contest = Die Umfrage oder das Gewinnspiel durchführen und die Gewinner kontaktieren.

## Veranstaltungen und Tarife

event-wso2con-2026-title = WSO2Con 2026
event-wso2con-2027-title = WSO2Con 2027
event-identity-workshop-title = Workshop zu Identitäts- und Zugriffsverwaltung
plan-cloud-starter-title = WSO2 Cloud Starter
plan-cloud-business-title = WSO2 Cloud Business

## Empfänger (wohin die Einsendungen eines Formulars gehen)

destination-sales-description = Unser Vertriebsteam, per E-Mail
destination-events-team-description = Unser Veranstaltungsteam, per E-Mail
destination-recruiting-description = Unsere Personalabteilung, per E-Mail
destination-crm-description = Unser System für Kundenbeziehungen (CRM)
destination-event-bus-description = Unsere internen Systeme, über unseren Ereignisbus
