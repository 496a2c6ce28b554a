# Steward auf Deutsch: jede Seite, jedes Problem und jeder Mail-Betreff, die Besucher sehen.
# Dieselben Kennungen und Variablen wie locales/en/steward.ftl; `cargo test` prüft das.


ask-new-sign-in-link = Einen neuen Anmeldelink anfordern

back-to-center = Zurück zu Ihrem Datenschutzcenter

body-empty = Der Inhalt ist leer.
body-invalid-base64 = Der Inhalt ist kein gültiges Base64.
body-invalid-utf8 = Der Inhalt ist kein gültiges UTF-8.
body-json-not-an-object = Der JSON-Inhalt muss ein Objekt aus Feldnamen und Werten sein.
body-malformed-json = Der JSON-Inhalt ist fehlerhaft: { $reason }
body-malformed-multipart = Der Multipart-Inhalt ist fehlerhaft: { $reason }
body-too-large = Der Inhalt ist größer als { $limit } Bytes.
body-unsupported-media-type = Der Inhaltstyp „{ $media }“ wird nicht unterstützt; senden Sie application/x-www-form-urlencoded, multipart/form-data oder application/json.

center-authority-uk = der Datenschutzbehörde Ihres Landes (im Vereinigten Königreich: dem Information Commissioner's Office, https://ico.org.uk/)
center-change-topics-chosen = Themen gewählt: { $kept }; zur Bestätigung angefragt: { $asked }
center-marketing = Werbung
center-recipient-1 = Tochter- und verbundene Gesellschaften: WSO2 Inc. (USA), WSO2 UK Limited, WSO2 Lanka (Private) Limited, WSO2 Brasil Tecnologia E Software Ltda
center-recipient-2 = Dienstleister, die beim Betrieb der Website und der Dienste helfen, zur Vertraulichkeit verpflichtet
center-recipient-3 = Der Kartenzahlungsdienstleister (Stripe), nur zur Abwicklung von Zahlungen
center-recipient-4 = Behörden, wo das Gesetz es verlangt

choose-what-you-hear = Wählen, worüber Sie von uns hören

confirm-subscription-body = Bestätigen Sie mit der Schaltfläche, dass Sie unsere E-Mails zu diesen Themen erhalten möchten: { $topics }.
confirm-subscription-button = Mein Abonnement bestätigen
confirm-subscription-title = Abonnement bestätigen

cv-active-activex = ein ActiveX-Steuerelement
cv-active-basic-macros = eine Basic-Makrobibliothek
cv-active-embedded-object = ein eingebettetes Objekt
cv-active-javascript = JavaScript
cv-active-launch-action = eine Startaktion
cv-active-no-word-package = kein Word-Paket (ein bloßes ZIP)
cv-active-ole-object = ein eingebettetes OLE-Objekt
cv-active-script = ein Skript
cv-active-vba-data = VBA-Makrodaten
cv-active-vba-project = ein VBA-Makroprojekt
cv-reason-active-content = die Datei enthält { $what } und wird deshalb hier nicht geöffnet; bitte senden Sie ein PDF
cv-reason-declared-otherwise = der Inhalt ist { $actual }, angegeben war aber { $declared }
cv-reason-empty = die Datei ist leer
cv-reason-no-application = der Upload gehört zu keiner Bewerbung
cv-reason-not-allowed = der Inhalt ist kein zulässiger Dokumenttyp ({ $seen })
cv-reason-nothing = kein Typ
cv-reason-too-large = die Datei ist { $size } MB groß, mehr als die erlaubten { $max } MB
cv-reason-unrecognised = unbekannter Inhalt

date = { $day }. { $month } { $year }
date-and-time = { $date } um { $time } UTC

dates-within-month = { $first }.–{ $last }

decimal-separator = ,

email-changed-body = Ab jetzt verwenden wir diese Adresse. Melden Sie sich erneut an, um Ihre Daten zu sehen.
email-changed-title = Ihre Adresse wurde geändert
email-confirm-button = Diese Adresse verwenden
email-confirm-title = Ihre neue Adresse bestätigen
email-undo-button = Meine Adresse zurückholen
email-undo-explain = Ihr Profil kehrt zu der Adresse zurück, an die diese Nachricht ging, und alle, die in Ihrem Datenschutzcenter angemeldet sind, werden abgemeldet.
email-undo-title = Ihre Adresse zurückholen
email-undone-body = Wir verwenden wieder { $address }, und alle sind von Ihrem Datenschutzcenter abgemeldet. Melden Sie sich erneut an, um Ihre Angaben zu prüfen.
email-undone-title = Ihre Adresse ist zurück

erased-body = Wir haben Ihnen eine letzte Nachricht zur Bestätigung gesendet. Sie können sich jederzeit gern wieder registrieren.
erased-title = Ihre Daten sind gelöscht

erasure-back = Nein, zurück
erasure-button = Alles löschen
erasure-explain = Damit werden Ihr Profil, Ihre Formulareinsendungen, Ihre Lebensläufe und Ihre E-Mail-Einstellungen jetzt und endgültig gelöscht. Zahlungsbelege bewahren wir ohne Ihren Namen und Ihre Adresse auf, wie es das Gesetz verlangt. Wir senden eine letzte Nachricht zur Bestätigung und vergessen dann Ihre Adresse.
erasure-heading = Ihre Daten löschen?
erasure-title = Ihre Daten löschen
erasure-understand = Mir ist klar, dass dies nicht rückgängig gemacht werden kann

error-address-full = hat bereits so viele Einsendungen, wie wir für eine Adresse aufbewahren
error-confirm-erasure = setzen Sie das Häkchen, um zu bestätigen, dass alles gelöscht werden soll
error-control-characters = darf keine Steuerzeichen enthalten
error-email-not-removable = kann nicht entfernt werden; löschen Sie stattdessen Ihre Daten
error-email-too-long = darf höchstens 254 Zeichen lang sein
error-idempotency-key-reused = wurde bereits für eine andere Einsendung verwendet; verwenden Sie für eine neue Einsendung einen neuen Schlüssel
error-invalid-country = muss ein Ländercode nach ISO 3166-1 Alpha-2 sein, etwa DE
error-invalid-email = muss eine E-Mail-Adresse wie name@example.com sein
error-invalid-idempotency-key = muss aus 1 bis 255 sichtbaren ASCII-Zeichen bestehen
error-invalid-phone = muss eine Telefonnummer mit Ländervorwahl sein, etwa +49 30 1234567
error-invalid-profile-id = muss eine Profilkennung sein: 32 Hexadezimalziffern in Kleinbuchstaben
error-invalid-state = braucht ein Land
error-invalid-state-of = muss ein Regionscode nach ISO 3166-2 für { $country } sein, etwa { $example }
error-invalid-type = muss Text sein
error-multiple-values = darf nur einmal angegeben werden
error-no-such-event = ist keine Veranstaltung, für die wir Anmeldungen annehmen
error-no-such-plan = ist kein Tarif, den wir anbieten
error-not-cancellable-kind = ist keine Art von Anfrage, die sich abbrechen lässt
error-not-consent-based = ist kein Zweck, in den Sie eingewilligt haben; Sie können ihm stattdessen widersprechen
error-not-correctable = ist kein Feld Ihres Profils
error-not-this-application = ist kein Upload dieser Bewerbung
error-not-your-link = ist keiner Ihrer Links
error-not-your-request = ist keine Ihrer Anfragen, die sich abbrechen lässt
error-not-your-submission = ist keine Ihrer Einsendungen
error-proof-expired = hat zu lange gedauert; bitte senden Sie das Formular erneut
error-proof-invalid = hat die Prüfung gegen Bots nicht bestanden; bitte senden Sie das Formular erneut
error-proof-used = wurde bereits verwendet; bitte senden Sie das Formular erneut
error-required = ist erforderlich
error-sales-closed = hat begonnen oder ist vorbei: Die Anmeldung ist geschlossen
error-state-required-for = ist für { $country } erforderlich
error-too-long-chars = { $max ->
    [one] darf höchstens ein Zeichen lang sein
   *[other] darf höchstens { $max } Zeichen lang sein
}
error-turnstile-failed = hat die Prüfung gegen Bots nicht bestanden; bitte versuchen Sie es erneut
error-unknown-format = muss json oder csv sein
error-unknown-option = muss einer der folgenden Werte sein: { $options }
error-unknown-topic = „{ $topic }“ ist keines dieser Themen: { $topics }
error-unsupported-email = darf vor dem @ nur ASCII-Buchstaben, Ziffern und Zeichen enthalten
error-unsupported-file-type = muss ein PDF-, DOC-, DOCX-, ODT- oder RTF-Dokument sein

export-confirm-button = Meine Daten senden
export-confirm-title = Eine Kopie Ihrer Daten senden
export-download-button = Die Daten herunterladen
export-download-title = Mit Ihnen geteilte personenbezogene Daten
export-sent-body = Die genannte Adresse hat einen Download-Link erhalten.
export-sent-title = Ihre Daten sind unterwegs

field-altcha = Die Prüfung gegen Bots
field-company = Unternehmen
field-confirm = Bestätigung
field-content-type = Dateityp
field-country = Land
field-cv = Lebenslauf
field-email = E-Mail
field-event = Veranstaltung
field-feedback = Rückmeldung
field-format = Format
field-id = Kennung
field-interests = Themen
field-job-title = Position im Unternehmen
field-key = Datei
field-link = Link
field-message = Nachricht
field-name = Name
field-phone = Telefon
field-plan = Tarif
field-position = Stelle
field-product = Produkt
field-purpose = Zweck
field-rating = Bewertung
field-request = Anfrage
field-state = Bundesland oder Region
field-submission = Einsendung
field-to = Senden an
field-token = Link

form-page-choose = Bitte wählen…
form-page-correct-count = { $count ->
    [one] Bitte korrigieren Sie das Feld unten und senden Sie das Formular erneut.
   *[other] Bitte korrigieren Sie die { $count } Felder unten und senden Sie das Formular erneut.
}
form-page-country-hint = zweistelliger Code, etwa DE
form-page-optional = (optional)
form-page-send-again = Erneut senden
form-page-start-again = Oder auf der Website neu beginnen
form-page-state-hint = Code, etwa DE-BY
form-page-why = Warum wir fragen: { $reasons }

fresh-link-button = Mir einen neuen Link senden
fresh-link-explain = Geben Sie die Adresse ein, an die unsere E-Mails gehen, und wir senden dorthin einen Link zu Ihrem Datenschutzcenter: Dort können Sie unsere E-Mails abbestellen oder wählen, worüber Sie von uns hören.
fresh-link-heading = Einen neuen Link erhalten

go-back-to-form = Zurück zum Formular

mail-preferences = E-Mail-Einstellungen

me-abbreviated = Werte mit mehr als { $limit } Zeichen sind hier gekürzt; der Export enthält alles.
me-abbreviated-value = { $kept }… ({ $total } Zeichen: Der Export enthält alle)
me-result-export-confirmation-sent = Wir haben Ihnen eine Nachricht an Ihre eigene Adresse gesendet: Der Export geht hinaus, sobald Sie ihn dort bestätigen.
me-result-export-link-revoked = Der Link funktioniert nicht mehr.
me-result-request-cancelled = Die Anfrage ist abgebrochen.
me-result-submission-deleted = Die Einsendung ist gelöscht.
me-result-withdrawn = Ihre Einwilligung ist widerrufen.

money = { $amount } { $symbol }

month-1 = Januar
month-10 = Oktober
month-11 = November
month-12 = Dezember
month-2 = Februar
month-3 = März
month-4 = April
month-5 = Mai
month-6 = Juni
month-7 = Juli
month-8 = August
month-9 = September

nothing-changed = Es wurde nichts geändert.
nothing-to-confirm-body = Seit diese Nachricht gesendet wurde, haben Sie sich abgemeldet oder Ihre Wahl geändert; dieser Link ändert daher nichts. Um wieder von uns zu hören, melden Sie sich auf unserer Website an.
nothing-to-confirm-title = Nichts zu bestätigen

page-acts-on = Dies betrifft { $address }.
page-error = Fehler: { $problem }
page-error-title = Fehler: { $problem } – { $form }
page-language = Sprache
page-privacy-policy = Datenschutzerklärung
page-your-data = Ihre Daten einsehen, exportieren, berichtigen oder löschen

preferences-how = Wenn Sie ein Thema abwählen, endet es sofort. Ein neues Thema beginnt, sobald Sie es über die Nachricht an Ihre Adresse bestätigen.
preferences-legend = Senden Sie mir Werbe-E-Mails zu diesen Themen
preferences-none = Sie erhalten keine Werbe-E-Mails von uns. Wählen Sie Themen und speichern Sie: Wir senden dann eine Nachricht an Ihre Adresse, und die Themen beginnen, sobald Sie dort bestätigen.
preferences-save = Meine Auswahl speichern
preferences-saved = Ihre Einstellungen sind gespeichert.
preferences-saved-confirm = Ihre Einstellungen sind gespeichert. Um { $topics } hinzuzufügen, bestätigen Sie bitte über den Link, den wir gerade an Ihre Adresse gesendet haben.
preferences-saved-not-mailable = Ihre Auswahl ist gespeichert. Neue Themen brauchen eine Bestätigung von Ihrer Adresse, die wir nicht senden können, solange Ihre Adresse gesperrt oder Ihre Verarbeitung eingeschränkt ist.
preferences-title = Ihre E-Mail-Einstellungen
preferences-unsubscribe-all = Von allem abmelden
preferences-unsubscribed-all = Sie sind von allen Werbe-E-Mails abgemeldet.
preferences-waiting = (wartet auf Ihre Bestätigung)
preferences-whose = Die Auswahl von { $address }.

price-per-interval = { $interval ->
    [month] { $price } pro Monat
    [year] { $price } pro Jahr
   *[other] { $price } je { $interval }
}

privacy-center = Datenschutzcenter

problem-address-full = Für diese Adresse sind bereits so viele Einsendungen gespeichert, wie wir aufbewahren
problem-address-full-detail = Wir bewahren für eine Adresse nur eine begrenzte Zahl von Einsendungen auf. Die Person, der sie gehört, kann frühere im Datenschutzcenter löschen oder warten, bis sie gelöscht werden.
problem-already-paid = Diese Anmeldung ist bezahlt
problem-already-paid-detail = Ihre Zahlung ist eingegangen (oder ist von Ihrer Bank unterwegs): Es ist nichts mehr zu zahlen. Vielen Dank.
problem-challenge-get-only = Fordern Sie eine Aufgabe mit GET an
problem-confirmation-expired = Dieser Link ist abgelaufen
problem-confirmation-expired-detail = Bitte melden Sie sich erneut an, um eine neue Bestätigungs-E-Mail zu erhalten.
problem-damaged-link = Dieser Link ist beschädigt
problem-damaged-link-detail = Vielleicht fehlt ein Teil des Links. Bitte verwenden Sie den ganzen Link aus der E-Mail.
problem-email-taken = Diese Adresse gehört zu einem anderen Profil
problem-email-taken-detail = Melden Sie sich mit dieser Adresse an, um ihre Daten zu sehen oder zu löschen.
problem-erasure-in-progress = Ihre Daten werden gerade gelöscht; bitte versuchen Sie es gleich noch einmal, um es abzuschließen.
problem-expired-token = Dieser Link ist veraltet
problem-expired-token-detail = Es wurde nichts geändert. Wir können Ihnen einen neuen Link senden, mit dem Sie wählen, worüber Sie von uns hören.
problem-forbidden-origin = Diese Anfrage muss von den Seiten des Datenschutzcenters selbst kommen
problem-form-not-found = Formular nicht gefunden
problem-forms-post-only = Formulare nehmen nur POST an
problem-hold-expired = Die Zahlungsfrist dieses Bestellvorgangs ist abgelaufen
problem-hold-expired-detail = Der reservierte Platz ist wieder im Verkauf. Es wurde nichts berechnet. Bitte melden Sie sich erneut an.
problem-internal-error = Bei uns ist etwas schiefgegangen
problem-internal-error-detail = Durch einen unvollständigen Speichervorgang ging nichts verloren. Bitte versuchen Sie es erneut; nennen Sie die Anfragekennung, wenn es weiter auftritt.
problem-invalid-link = Dieser Link ist ungültig
problem-invalid-link-detail = Er ist vielleicht abgelaufen. Fordern Sie einen neuen an.
problem-invalid-link-nothing-changed = Es wurde nichts geändert.
problem-invalid-payment-link = Dieser Zahlungslink ist ungültig
problem-invalid-payment-link-detail = Er ist vielleicht abgelaufen oder gehört zu einer anderen Anmeldung. Bitte melden Sie sich erneut an.
problem-invalid-upload-link = Dieser Upload-Link ist ungültig
problem-invalid-upload-link-apply-again = Er ist vielleicht abgelaufen oder gehört zu einer anderen Bewerbung. Bitte bewerben Sie sich erneut.
problem-invalid-upload-link-detail = Er ist vielleicht abgelaufen oder gehört zu einer anderen Bewerbung.
problem-link-used = Dieser Link wurde bereits verwendet
problem-link-used-detail = Jeder Link funktioniert einmal. Fordern Sie einen neuen an.
problem-mail-page-methods = Verwenden Sie GET, um diese Seite zu sehen, und POST, um etwas zu tun
problem-malformed-request = Die Anfrage konnte nicht gelesen werden
problem-malformed-request-detail = Methode, Pfad, Abfrage oder Host-Header der Anfrage passen in keine URL.
problem-method-not-allowed = Diese Adresse nimmt diese Methode nicht an
problem-missing-token = Dieser Link ist unvollständig
problem-missing-token-detail = Das Token fehlt.
problem-not-found-what = { $what ->
    [form] Dieses Formular gibt es nicht
    [page] Diese Seite gibt es nicht
    [person] Diese Person ist uns nicht bekannt
    [request] Diese Anfrage gibt es nicht
   *[other] Nicht gefunden
}
problem-not-held = Es gibt nichts zu ändern
problem-not-held-detail = Wir speichern diese Adresse nicht mehr, daher bewirkt dieser Link nichts. Melden Sie sich erneut an, um zu abonnieren.
problem-not-signed-in = Bitte melden Sie sich an
problem-not-signed-in-detail = Diese Seite braucht einen Anmeldelink aus Ihrer E-Mail: Ihre Sitzung ist beendet, oder Sie haben sich noch nicht angemeldet.
problem-nothing-on-sale = Zu diesem Zahlungslink gibt es nichts im Verkauf
problem-origin-not-allowed = Dieser Ursprung darf die API nicht aufrufen
problem-payment-provider-error = Die Zahlung konnte nicht gestartet werden
problem-payment-provider-error-detail = Es wurde nichts berechnet. Wir wurden benachrichtigt; bitte versuchen Sie es später erneut.
problem-payment-provider-unavailable = Zahlungen sind gerade nicht möglich
problem-payment-provider-unavailable-detail = Es wurde nichts berechnet und nichts gespeichert. Bitte versuchen Sie es in einer Minute erneut.
problem-press-the-button = Öffnen Sie den Link aus Ihrer E-Mail und drücken Sie dann die Schaltfläche
problem-rate-limited = Zu viele Anfragen
problem-registration-gone = Diese Anmeldung wird nicht mehr gespeichert
problem-registration-gone-detail = Ihre Daten wurden gelöscht, daher kann für sie nichts bezahlt werden. Es wurde nichts berechnet. Bitte melden Sie sich erneut an.
problem-sales-closed = Die Anmeldung für diese Veranstaltung ist geschlossen
problem-sales-closed-detail = Die Veranstaltung hat begonnen oder ist vorbei. Es wurde nichts berechnet.
problem-session-ended = Ihre Sitzung ist beendet
problem-session-ended-detail = Sie ist abgelaufen, oder Sie haben sich abgemeldet. Fordern Sie einen neuen Anmeldelink an.
problem-sold-out = Diese Veranstaltung ist ausgebucht
problem-sold-out-detail = Alle Plätze sind vergeben. Es wurde nichts berechnet.
problem-temporarily-unavailable = Der Dienst ist ausgelastet
problem-temporarily-unavailable-detail = Es wurde nichts gespeichert. Bitte versuchen Sie es gleich erneut.
problem-too-many-payments = Zu viele Zahlungsversuche
problem-too-many-payments-detail = Bitte warten Sie kurz und versuchen Sie es erneut. Es wurde nichts berechnet.
problem-too-many-submissions = Zu viele Einsendungen
problem-too-many-submissions-detail = Bitte warten Sie kurz und versuchen Sie es erneut.
problem-too-many-uploads = Diese Bewerbung hat ihre Uploads ausgeschöpft
problem-too-many-uploads-detail = Wir behalten die zuletzt gesendete Datei. Um eine weitere zu senden, bewerben Sie sich bitte erneut.
problem-unreadable-body = Der Inhalt der Anfrage konnte nicht gelesen werden
problem-use-patch-or-delete = Verwenden Sie PATCH oder DELETE
problem-validation-failed = Einige Felder müssen korrigiert werden
problem-validation-failed-detail = Bitte korrigieren Sie die aufgeführten Felder.

sign-in-link-button = Weiter
sign-in-link-title = Ihr Datenschutzcenter öffnen
sign-in-link-whose = Dieser Link öffnet das Datenschutzcenter von { $address }. Wenn das nicht Ihre Adresse ist, schließen Sie diese Seite: Jemand anderes hat Ihnen seinen Link geschickt.
sign-in-sent = Wenn wir diese Adresse kennen, ist ein Anmeldelink unterwegs. Er funktioniert einmal, 15 Minuten lang.
sign-in-sent-title = Sehen Sie in Ihr Postfach

signed-out-come-back = Um zurückzukommen, fordern Sie einen neuen Anmeldelink an.
signed-out-everywhere = Alle Sitzungen Ihres Datenschutzcenters sind beendet, auf diesem Gerät und auf allen anderen.
signed-out-heading = Sie sind abgemeldet
signed-out-here = Ihre Sitzung im Datenschutzcenter auf diesem Gerät ist beendet.
signed-out-title = Abgemeldet

subject-confirm-subscription = Bitte bestätigen Sie Ihr Abonnement bei { $organisation }
subject-cv-accepted = Ihr Lebenslauf ist Ihrer Bewerbung beigefügt
subject-cv-rejected = Wir konnten Ihren Lebenslauf nicht annehmen
subject-delivery = Ihr Download: { $label }
subject-team-submission = Neu von der Website: { $form }
subject-team-event = Anfrage einer Person zu Daten, die Sie erhalten haben: { $event }
subject-team-paid = Eine Anmeldung, die Sie erhalten haben, ist bezahlt
subject-team-cv = Zu einer Bewerbung, die Sie erhalten haben, liegt ein Lebenslauf vor
subject-email-change = Bestätigen Sie Ihre neue Adresse bei { $organisation }
subject-email-changed = Ihre Adresse bei { $organisation } wurde geändert
subject-erasure-confirmation = Ihre Daten bei { $organisation } wurden gelöscht
subject-export-confirm = Bestätigen Sie den Versand Ihrer Daten bei { $organisation }
subject-export-ready = Über { $organisation } mit Ihnen geteilte personenbezogene Daten
subject-privacy-link = Ihr Link zum Datenschutzcenter von { $organisation }
subject-receipt = Ihre Quittung für { $title }

subscription-confirmed-body = Sie erhalten von uns E-Mails zu: { $topics }.
subscription-confirmed-heading = Vielen Dank, Ihr Abonnement ist bestätigt
subscription-confirmed-title = Abonnement bestätigt

unsubscribe-body = Drücken Sie die Schaltfläche, um { $scope ->
    [all] alle unsere Werbe-E-Mails
   *[topic] E-Mails zu { $topic }
} zu beenden. Bis dahin ändert sich nichts.
unsubscribe-title = Abmelden

unsubscribed-body = Sie erhalten von uns keine { $scope ->
    [all] Werbe-E-Mails
   *[topic] E-Mails zu { $topic }
} mehr. Nachrichten zu Dingen, die Sie angefordert haben, etwa Quittungen, erreichen Sie weiterhin.
unsubscribed-title = Sie sind abgemeldet

## Das Datenschutzcenter (functions/privacy/src/center.rs): die eigene Seite einer angemeldeten Person.
## Das Datenschutzcenter (functions/privacy/src/center.rs): die eigene Seite einer angemeldeten Person.

center-title = Ihr Datenschutzcenter
center-title-error = Fehler: Ihr Datenschutzcenter
center-heading = Ihre Daten bei { $organisation }
# $address ist die Adresse der Person, fett gesetzt.
center-signed-in =
    Sie sind als { $address } angemeldet. Diese Seite funktioniert nach Ihrer Anmeldung { $minutes ->
        [one] eine Minute
       *[other] { $minutes } Minuten
    } lang.
center-sign-out = Abmelden
center-sign-out-everywhere = Überall abmelden

## Was die Seite enthält, als Links zu den einzelnen Abschnitten

center-contents-label = Auf dieser Seite
center-contents-everything = Alles, wie gespeichert

## Hinweise: was gerade geschehen ist

center-notice-corrected = Ihre Angaben sind berichtigt.
center-notice-email-confirmation-sent = Wir haben einen Link an Ihre neue Adresse gesendet. Ihre Adresse ändert sich, sobald Sie ihm folgen; Ihre übrigen Änderungen sind gespeichert.
center-notice-export-confirmation-sent = Wir haben eine Nachricht an Ihre eigene Adresse gesendet: Der Export geht hinaus, sobald Sie ihn dort bestätigen.
center-notice-restricted = Wir bewahren Ihre Daten auf, verwenden sie aber nicht mehr.
center-notice-lifted-restricted = Die Einschränkung ist aufgehoben.
center-notice-objected = Ihr Widerspruch ist erfasst: Wir verwenden Ihre Daten nicht mehr für unsere berechtigten Interessen oder für Werbung.
center-notice-lifted-objected = Ihr Widerspruch ist zurückgenommen.
center-notice-withdrawn = Ihre Einwilligung ist widerrufen.
center-notice-export-link-revoked = Der Link, den Sie gesendet haben, funktioniert nicht mehr.
center-notice-submission-deleted = Die Einsendung ist gelöscht.
center-notice-request-cancelled = Die Anfrage ist abgebrochen: Es geschieht nichts weiter.
center-notice-done = Erledigt.

## Eine abgelehnte Berichtigung

# Ein Link zum Berichtigungsformular; danach folgt ein Punkt.
center-alert-correct =
    { $count ->
        [one] Bitte berichtigen Sie ein Feld
       *[other] Bitte berichtigen Sie { $count } Felder
    }
# Ein Problem mit einem Feld, das das Formular nicht zeigt: seine Bezeichnung, dann was daran nicht stimmt.
center-alert-field-error = { $label } { $message }.
# Ein Problem, angezeigt neben seinem Feld: seine Bezeichnung, dann was daran nicht stimmt.
center-field-error = { $label } { $message }

## Angaben zu Ihrer Person

center-who-heading = Angaben zu Ihrer Person
# Woher eine Angabe stammt: $form ist der Titel eines Formulars.
center-from-form = Aus dem Formular „{ $form }“, { $date }
center-from-here = Von Ihnen hier angegeben, { $date }
center-who-kept = Wir bewahren diese Angaben längstens bis zum { $date } auf: so lange wie die am längsten aufbewahrte Ihrer Einsendungen, sofern Sie sie nicht früher löschen.
center-who-restricted = Sie haben die Verarbeitung eingeschränkt: Wir bewahren Ihre Daten auf, verwenden sie aber nicht.
center-who-objected = Sie haben der Verarbeitung widersprochen: Wir verwenden Ihre Daten nicht für unsere berechtigten Interessen oder für Werbung.

## Ihre Einwilligungen und E-Mails

center-consents-heading = Ihre Einwilligungen und E-Mails
center-mail-unsubscribed-all = Sie haben sich von allen unseren E-Mails abgemeldet.
center-mail-unsubscribed-all-on = Sie haben sich am { $date } von allen unseren E-Mails abgemeldet.
center-mail-none = Sie erhalten keine Werbe-E-Mails von uns.
# $topics: die Namen der Themen, durch Kommas getrennt.
center-mail-receiving = Sie erhalten unsere E-Mails zu: { $topics }.
center-mail-pending = Noch in Ihrem Posteingang zu bestätigen: { $topics }. Bis dahin senden wir Ihnen dazu nichts.
center-mail-suppressed = E-Mails an Ihre Adresse kamen als unzustellbar zurück oder wurden als unerwünscht gemeldet; daher senden wir an diese Adresse nichts mehr.
center-consents-given-heading = Wozu Sie eingewilligt haben
# Neben einer Einwilligung, in Klammern: $form ist der Titel eines Formulars.
center-consent-given = erteilt im Formular „{ $form }“, { $date }
center-consent-withdrawn = Sie haben diese Einwilligung widerrufen.
center-consent-withdraw = Diese Einwilligung widerrufen
center-consents-none = Sie haben uns keine Einwilligung erteilt: Was wir mit Ihren Daten tun, stützt sich auf die Gründe, die das jeweilige Formular nennt.
center-mail-history-heading = Änderungen an Ihren E-Mail-Einstellungen

## Verläufe: eine Zeile je Änderung

center-history-entry = { $at }: { $change }
# $fields: die Bezeichnungen der Felder, durch Kommas getrennt.
center-change-corrected = Von Ihnen berichtigt: { $fields }
center-change-submission-deleted = Eine Einsendung gelöscht
center-change-email-changed = E-Mail-Adresse geändert
center-change-restriction-set = Verarbeitung eingeschränkt
center-change-restriction-lifted = Einschränkung aufgehoben
center-change-objection-set = Widerspruch eingelegt
center-change-objection-lifted = Widerspruch zurückgenommen
# $purpose: der Zweck in den Worten seines Formulars (oder „Werbung“).
center-change-consent-withdrawn = Einwilligung widerrufen: { $purpose }
center-change-marketing-consent-withdrawn = Einwilligung in Werbung widerrufen
center-change-unsubscribed-all = Von allen E-Mails abgemeldet
# $topic, $topics, $kept, $asked: Namen von Themen, durch Kommas getrennt.
center-change-unsubscribed = Abgemeldet: { $topic }
center-change-confirmed = Bestätigt: { $topics }
# $detail: der Grund, wie der E-Mail-Dienst ihn gemeldet hat.
center-change-suppressed = Adresse gesperrt ({ $detail })

## Was Sie uns gesendet haben

center-sent-heading = Was Sie uns gesendet haben
center-sent-kept = Aufbewahrt bis zum { $date }.
center-sent-delete = Diese Einsendung löschen
center-sent-none = Nichts: Sie haben uns kein Formular gesendet.
center-sent-intro = Jeder kann Ihre Adresse in ein Formular eingeben. Wenn Sie eine dieser Einsendungen nicht selbst gesendet haben, löschen Sie sie: Was sie in Ihre Angaben eingetragen hat, wird mit ihr gelöscht.

## Ihre Zahlungen

center-payments-heading = Ihre Zahlungen
# Nach dem Gekauften: $price ist der Betrag (bei einem Tarif mit seinem Zeitraum), $state der Stand der Zahlung.
center-payment-summary =
    { $state ->
        [paid] { $price }, bezahlt.
        [active] { $price }, aktiv.
        [trialing] { $price }, in der Testphase.
        [processing] { $price }, wird von Ihrer Bank bearbeitet.
        [action] { $price }, wartet auf die Bestätigung Ihrer Bank.
        [unpaid] { $price }, noch nicht bezahlt.
        [failed] { $price }, nicht bezahlt: Der letzte Versuch ist fehlgeschlagen.
        [cancelled] { $price }, storniert.
        [refunded] { $price }, erstattet.
        [disputed] { $price }, bei Ihrer Bank beanstandet.
        [incomplete] { $price }, nicht abgeschlossen.
       *[other] { $price }, erfasst.
    }
center-payment-record = Begonnen am { $started }; der Beleg wird, wie gesetzlich vorgeschrieben, bis zum { $kept } aufbewahrt.
center-payments-none = Nichts: Sie haben uns nichts bezahlt.
# $link ist center-payments-write-to-us, als Link zu unserem Datenschutzbeauftragten.
center-payments-card = Ihre Kartendaten liegen bei Stripe, unserem Zahlungsdienstleister, niemals bei uns. Um einen Tarif zu kündigen oder eine Erstattung zu erbitten, { $link }.
center-payments-write-to-us = schreiben Sie uns

## Ihre Dateien

center-files-heading = Ihre Dateien
center-file-your-cv = Ihr Lebenslauf
# Nach dem Namen der Datei: $reason ist der Grund der Ablehnung, in den Worten, mit denen sie abgelehnt wurde.
center-file-state =
    { $state ->
        [verified] geprüft und Ihrer Bewerbung beigefügt.
        [rejected] abgelehnt: { $reason }.
       *[other] wartet auf die Prüfung.
    }
center-file-reason-unknown = es ist kein Dokument, das wir annehmen
center-file-record = Hochgeladen am { $uploaded }; wird mit der zugehörigen Bewerbung bis zum { $kept } aufbewahrt.
center-files-none = Nichts: Sie haben uns keine Datei gesendet.
center-files-deleted-with-application = Wenn Sie eine Bewerbung löschen, werden auch ihre Dateien gelöscht.

## Laufende Anfragen

center-requests-heading = Laufende Anfragen
center-request-email-change = Änderung Ihrer Adresse in { $address }: Wir warten bis zum { $until } darauf, dass Sie sie von dieser Adresse aus bestätigen.
center-request-email-change-undo = Ihre bisherige Adresse { $address } kann Ihr Profil bis zum { $until } über den Link, den wir an sie gesendet haben, zurückholen.
center-request-export = Senden einer Kopie Ihrer Daten an { $address }: Wir warten bis zum { $until } darauf, dass Sie dies von Ihrer eigenen Adresse aus bestätigen.
center-request-cancel = Abbrechen
# $format: JSON oder CSV.
center-export-link = Eine Kopie Ihrer Daten ({ $format }), gesendet an { $address }: Der Link funktioniert bis zum { $until }.
center-export-link-revoke = Zurücknehmen
center-requests-none = Derzeit läuft keine Anfrage.
center-details-history-heading = Änderungen an Ihren Angaben

## Alles, wie gespeichert

center-everything-heading = Alles, genau so, wie wir es speichern
center-everything-evidence = Die Nachweise, die wir zu jedem Formular aufbewahren (wann, von welchem Browser und welcher Netzwerkadresse aus und welchen Hinweis Sie gesehen haben), sowie alle Kennungen finden Sie im Download.
center-everything-shortened = Einige lange Werte sind auf dieser Seite gekürzt; der Download enthält sie vollständig.
center-everything-json = Alles als JSON herunterladen
# Folgt auf center-everything-json: derselbe Download als CSV.
center-everything-csv = als CSV
center-everything-receipts = Belege Ihrer Einwilligungen

## Berichtigen, einschränken oder löschen

center-rights-heading = Berichtigen, einschränken oder löschen
center-correct-heading = Ihre Angaben berichtigen
center-hint-phone = mit Ländervorwahl
center-hint-country = zweistelliger Code, etwa DE
center-hint-state = Code, etwa DE-BY
center-correct-explain = Lassen Sie ein Feld leer, um die Angabe zu entfernen. Eine neue E-Mail-Adresse verwenden wir, sobald Sie sie von dieser Adresse aus bestätigen; Ihre bisherige Adresse wird benachrichtigt und kann die Änderung rückgängig machen.
center-correct-save = Speichern
center-send-copy-heading = Eine Kopie an eine andere Person senden
center-send-copy-to = Empfängeradresse
center-send-copy-to-hint = (wir bitten Sie, dies zuerst von Ihrer eigenen Adresse aus zu bestätigen)
center-send-copy-format = Format
center-send-copy-button = Kopie senden
center-limit-heading = Einschränken, wie wir Ihre Daten verwenden
center-restrict-set = Verarbeitung einschränken
center-restrict-lift = Einschränkung aufheben
center-restrict-explain = Einschränkung: Wir bewahren Ihre Daten auf, verwenden sie aber nicht – etwa solange Sie ihre Richtigkeit bestreiten.
center-object-set = Der Verarbeitung widersprechen
center-object-lift = Meinen Widerspruch zurücknehmen
center-object-explain = Widerspruch: Wir verwenden Ihre Daten nicht mehr für unsere berechtigten Interessen und nicht mehr für Werbung.
center-delete-heading = Ihre Daten löschen
center-delete-explain = Wir löschen alles, was wir über Sie gespeichert haben – außer Zahlungsbelegen, die wir von Gesetzes wegen ohne Ihren Namen und Ihre Adresse aufbewahren müssen.
center-delete-link = Meine Daten löschen…

## Wer verantwortlich ist

center-responsible-heading = Wer verantwortlich ist
# $controller ist der Name des Verantwortlichen, fett gesetzt; $officer die Adresse unseres Datenschutzbeauftragten, als Link.
center-responsible-controller = Verantwortlicher für Ihre Daten ist { $controller }. Fragen, Widersprüche und Beschwerden richten Sie bitte an unseren Datenschutzbeauftragten unter { $officer }.
center-responsible-authority = Sie können sich außerdem bei { $authority } beschweren.
center-recipients-heading = Wer Ihre Daten erhalten kann
center-shared-heading = Wohin Ihre Daten gegangen sind
center-shared-explain = Jedes Team und jedes System, das erhalten hat, was Sie uns gesendet haben, mit dem Inhalt und dem Zeitpunkt. Wenn Sie Ihre Daten löschen, ihre Verwendung einschränken oder eine Einwilligung widerrufen, erfährt es jedes von ihnen.
center-shared-none = Was Sie uns gesendet haben, ist noch an niemanden gegangen.
center-shared-entry = { $destination }: { $what }, { $when }
center-shared-owed = { $destination }: { $what }, wird gesendet
center-shared-what-submission = ein Formular, das Sie gesendet haben
center-shared-what-payment = dass Sie bezahlt haben
center-shared-what-cv = die Prüfung Ihres Lebenslaufs
center-delete-subscription = Ihr laufendes Abonnement wird sofort gekündigt (keine weiteren Abbuchungen), und unser Zahlungsdienstleister Stripe löscht, was er über Sie als unseren Kunden hat. Zahlungsbelege, die wir gesetzlich aufbewahren müssen, bleiben ohne Ihren Namen.
