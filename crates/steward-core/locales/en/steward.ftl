# Steward's messages in English: every page, problem and mail subject a visitor sees.
# Each id is named in code (`t!("id")`); every other language has the same ids with the same
# variables, which `cargo test` checks. Project Fluent syntax: https://projectfluent.org/


ask-new-sign-in-link = Ask for a new sign-in link

back-to-center = Back to your privacy center

body-empty = The body is empty.
body-invalid-base64 = The body is not valid base64.
body-invalid-utf8 = The body is not valid UTF-8.
body-json-not-an-object = The JSON body must be an object of field names to values.
body-malformed-json = The JSON body is malformed: { $reason }
body-malformed-multipart = The multipart body is malformed: { $reason }
body-too-large = The body is larger than { $limit } bytes.
body-unsupported-media-type = Content type “{ $media }” is not supported; send application/x-www-form-urlencoded, multipart/form-data or application/json.

center-authority-uk = the data protection authority of your country (in the UK, the Information Commissioner's Office, https://ico.org.uk/)
center-change-topics-chosen = Chose topics: { $kept }; asked to confirm: { $asked }
center-marketing = marketing
center-recipient-1 = Subsidiaries and affiliates: WSO2 Inc. (USA), WSO2 UK Limited, WSO2 Lanka (Private) Limited, WSO2 Brasil Tecnologia E Software Ltda
center-recipient-2 = Service providers who help run the website and services, bound to confidentiality
center-recipient-3 = The card payment processor (Stripe), for processing payments only
center-recipient-4 = Authorities, where the law requires it

choose-what-you-hear = Choose what you hear about

confirm-subscription-body = Press the button to confirm that you want our emails about: { $topics }.
confirm-subscription-button = Confirm my subscription
confirm-subscription-title = Confirm your subscription

cv-active-activex = an ActiveX control
cv-active-basic-macros = a Basic macro library
cv-active-embedded-object = an embedded object
cv-active-javascript = JavaScript
cv-active-launch-action = a launch action
cv-active-no-word-package = no Word package (a bare ZIP)
cv-active-ole-object = an embedded OLE object
cv-active-script = a script
cv-active-vba-data = VBA macro data
cv-active-vba-project = a VBA macro project
cv-reason-active-content = the file holds { $what }, which is not opened here; please send a PDF
cv-reason-declared-otherwise = the content is { $actual } but it was declared as { $declared }
cv-reason-empty = the file is empty
cv-reason-no-application = the upload does not carry its application
cv-reason-not-allowed = the content is not an allowed document type ({ $seen })
cv-reason-nothing = no type
cv-reason-too-large = the file is { $size } MB, more than the { $max } MB allowed
cv-reason-unrecognised = unrecognised content

date = { $day } { $month } { $year }
date-and-time = { $date } at { $time } UTC

dates-within-month = { $first }–{ $last }

decimal-separator = .

email-changed-body = From now on we use this address. Sign in again to see your data.
email-changed-title = Your address has changed
email-confirm-button = Use this address
email-confirm-title = Confirm your new address
email-undo-button = Take my address back
email-undo-explain = Your profile returns to the address this message came to, and everyone signed in to your privacy center is signed out.
email-undo-title = Take your address back
email-undone-body = We use { $address } again, and everyone is signed out of your privacy center. Sign in again to check your details.
email-undone-title = Your address is back

erased-body = We sent a last message to confirm it. You are welcome to register again whenever you like.
erased-title = Your data is deleted

erasure-back = No, take me back
erasure-button = Delete everything
erasure-explain = This deletes your profile, your form submissions, your CVs and your mail preferences, now and for good. Payment records are kept without your name or address, as the law requires. We send one last message to confirm, then we forget your address.
erasure-heading = Delete your data?
erasure-title = Delete your data
erasure-understand = I understand that this cannot be undone

error-address-full = holds as many submissions as we keep for one address
error-confirm-erasure = tick the box to confirm that everything should be deleted
error-control-characters = must not contain control characters
error-email-not-removable = cannot be removed; delete your data instead
error-email-too-long = must be at most 254 characters
error-idempotency-key-reused = was used before for a different submission; use a new key for a new submission
error-invalid-country = must be an ISO 3166-1 alpha-2 country code such as GB
error-invalid-email = must be an email address like name@example.com
error-invalid-idempotency-key = must be 1 to 255 visible ASCII characters
error-invalid-phone = must be a phone number with its country code, such as +44 20 7123 4567
error-invalid-profile-id = must be a profile id: 32 lower-case hex digits
error-invalid-state = needs a country
error-invalid-state-of = must be an ISO 3166-2 subdivision code of { $country }, such as { $example }
error-invalid-type = must be text
error-multiple-values = must be given once
error-no-such-event = is not an event we take registrations for
error-no-such-plan = is not a plan we offer
error-not-cancellable-kind = is not a kind of request that can be cancelled
error-not-consent-based = is not a purpose you consented to; you can object to it instead
error-not-correctable = is not a field of your profile
error-not-this-application = is not an upload of this application
error-not-your-link = is not a link of yours
error-not-your-request = is not a request of yours that can be cancelled
error-not-your-submission = is not a submission of yours
error-proof-expired = took too long; please send the form again
error-proof-invalid = did not pass the check that keeps bots out; please send the form again
error-proof-used = was used already; please send the form again
error-required = is required
error-sales-closed = has started or taken place: registration is closed
error-state-required-for = is required for { $country }
error-too-long-chars = { $max ->
    [one] must be at most one character
   *[other] must be at most { $max } characters
}
error-turnstile-failed = did not pass the check that keeps bots out; please try again
error-unknown-format = must be json or csv
error-unknown-option = must be one of: { $options }
error-unknown-topic = “{ $topic }” is not one of: { $topics }
error-unsupported-email = must have only ASCII letters, digits and symbols before the @
error-unsupported-file-type = must be a PDF, DOC, DOCX, ODT or RTF document

export-confirm-button = Send my data
export-confirm-title = Send a copy of your data
export-download-button = Download the data
export-download-title = Personal data shared with you
export-sent-body = The address you named has been sent a download link.
export-sent-title = Your data is on its way

field-altcha = The check that keeps bots out
field-company = Company
field-confirm = Confirmation
field-content-type = File type
field-country = Country
field-cv = CV
field-email = Email
field-event = Event
field-feedback = Feedback
field-format = Format
field-id = Reference
field-interests = Topics
field-job-title = Job title
field-key = File
field-link = Link
field-message = Message
field-name = Name
field-phone = Phone
field-plan = Plan
field-position = Position
field-product = Product
field-purpose = Purpose
field-rating = Rating
field-request = Request
field-state = State or region
field-submission = Submission
field-to = Send it to
field-token = Link

form-page-choose = Choose…
form-page-correct-count = { $count ->
    [one] Please correct one field below, then send it again.
   *[other] Please correct the { $count } fields below, then send it again.
}
form-page-country-hint = two-letter code, such as GB
form-page-optional = (optional)
form-page-send-again = Send again
form-page-start-again = Or start again on the site
form-page-state-hint = code, such as US-CA
form-page-why = Why we ask: { $reasons }

fresh-link-button = Email me a fresh link
fresh-link-explain = Type the address our emails reach, and we send a link to your privacy center there: it lets you stop our emails or choose what you hear about.
fresh-link-heading = Get a fresh link

go-back-to-form = Go back to the form

mail-preferences = Mail preferences

me-abbreviated = Values longer than { $limit } characters are shortened here; the export has everything.
me-abbreviated-value = { $kept }… ({ $total } characters: the export has them all)
me-result-export-confirmation-sent = We sent a message to your own address: the export goes out once you confirm it there.
me-result-export-link-revoked = The link no longer works.
me-result-request-cancelled = The request is cancelled.
me-result-submission-deleted = The submission is deleted.
me-result-withdrawn = Your consent is withdrawn.

money = { $symbol }{ $amount }

month-1 = January
month-10 = October
month-11 = November
month-12 = December
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September

nothing-changed = Nothing was changed.
nothing-to-confirm-body = Since this message was sent, you unsubscribed or changed your choice, so this link changes nothing. To hear from us again, sign up on our site.
nothing-to-confirm-title = Nothing to confirm

page-acts-on = This is for { $address }.
page-error = Error: { $problem }
page-error-title = Error: { $problem } – { $form }
page-language = Language
page-privacy-policy = Privacy policy
page-your-data = See, export, correct or delete your data

preferences-how = Unticking a topic stops it at once. A topic you add starts once you confirm it from the message we send to your address.
preferences-legend = Send me marketing email about
preferences-none = You receive no marketing email from us. Tick topics and save: we then send a message to your address, and they start once you confirm there.
preferences-save = Save my choices
preferences-saved = Your preferences are saved.
preferences-saved-confirm = Your preferences are saved. To add { $topics }, confirm with the link we just sent to your address.
preferences-saved-not-mailable = Your choices are saved. New topics need a confirmation from your address, which we cannot send while your address is blocked or your processing is restricted.
preferences-title = Your email preferences
preferences-unsubscribe-all = Unsubscribe from everything
preferences-unsubscribed-all = You are unsubscribed from all marketing email.
preferences-waiting = (waiting for your confirmation)
preferences-whose = The choices of { $address }.

price-per-interval = { $interval ->
    [month] { $price } a month
    [year] { $price } a year
   *[other] { $price } every { $interval }
}

privacy-center = Privacy center

problem-address-full = This address holds as many submissions as we keep
problem-address-full-detail = We keep a limited number of submissions for one address. The person it belongs to can delete earlier ones in the privacy center, or wait until they are deleted.
problem-already-paid = This registration is paid
problem-already-paid-detail = Your payment was received (or is on its way from your bank): there is nothing more to pay. Thank you.
problem-challenge-get-only = Ask for a challenge with GET
problem-confirmation-expired = This link has expired
problem-confirmation-expired-detail = Please sign up again to get a new confirmation email.
problem-damaged-link = This link is damaged
problem-damaged-link-detail = Part of the link may be missing. Please use the whole link from the email.
problem-email-taken = This address belongs to another profile
problem-email-taken-detail = Sign in with that address to see or delete its data.
problem-erasure-in-progress = Your data is being deleted; please ask again in a moment to finish.
problem-expired-token = This link is out of date
problem-expired-token-detail = Nothing was changed. We can email you a fresh link to choose what you hear from us.
problem-forbidden-origin = This request must come from the privacy center's own pages
problem-form-not-found = Form not found
problem-forms-post-only = Forms accept POST only
problem-hold-expired = This checkout's time to pay has passed
problem-hold-expired-detail = The seat it held went back on sale. Nothing was charged. Please register again.
problem-internal-error = Something went wrong on our side
problem-internal-error-detail = Nothing you sent was lost to a partial write. Please try again; quote the request id if it persists.
problem-invalid-link = This link is not valid
problem-invalid-link-detail = It may have expired. Ask for a new one.
problem-invalid-link-nothing-changed = Nothing was changed.
problem-invalid-payment-link = This payment link is not valid
problem-invalid-payment-link-detail = It may have expired or belong to another registration. Please register again.
problem-invalid-upload-link = This upload link is not valid
problem-invalid-upload-link-apply-again = It may have expired or belong to another application. Please apply again.
problem-invalid-upload-link-detail = It may have expired or belong to another application.
problem-link-used = This link was used already
problem-link-used-detail = Each link works once. Ask for a new one.
problem-mail-page-methods = Use GET to see this page and POST to act on it
problem-malformed-request = The request could not be read
problem-malformed-request-detail = Its method, path, query or Host header is not one a URL can hold.
problem-method-not-allowed = This route does not take this method
problem-missing-token = This link is incomplete
problem-missing-token-detail = The token is missing.
problem-not-found-what = { $what ->
    [form] No such form
    [page] No such page
    [person] No such person
    [request] No such request
   *[other] Not found
}
problem-not-held = There is nothing to change
problem-not-held-detail = We no longer hold this address, so this link does nothing. Sign up again to subscribe.
problem-not-signed-in = Please sign in
problem-not-signed-in-detail = This page needs a sign-in link from your mail: your session ended, or you have not signed in yet.
problem-nothing-on-sale = Nothing on sale matches this payment link
problem-origin-not-allowed = This origin may not call the API
problem-payment-provider-error = The payment could not be started
problem-payment-provider-error-detail = Nothing was charged. We have been told; please try again later.
problem-payment-provider-unavailable = Payments are unavailable right now
problem-payment-provider-unavailable-detail = Nothing was charged and nothing was kept. Please try again in a minute.
problem-press-the-button = Open the link from your email, then press its button
problem-rate-limited = Too many requests
problem-registration-gone = This registration is no longer held
problem-registration-gone-detail = Its data was deleted, so nothing can be paid for it. Nothing was charged. Please register again.
problem-sales-closed = Registration for this event is closed
problem-sales-closed-detail = The event has started or taken place. Nothing was charged.
problem-session-ended = Your session has ended
problem-session-ended-detail = It expired, or you signed out. Ask for a new sign-in link.
problem-sold-out = This event is sold out
problem-sold-out-detail = Every seat is taken. Nothing was charged.
problem-temporarily-unavailable = The service is busy
problem-temporarily-unavailable-detail = Nothing was stored. Please try again shortly.
problem-too-many-payments = Too many payment attempts
problem-too-many-payments-detail = Please wait a little and try again. Nothing was charged.
problem-too-many-submissions = Too many submissions
problem-too-many-submissions-detail = Please wait a little and try again.
problem-too-many-uploads = This application has had its uploads
problem-too-many-uploads-detail = We keep the last file you sent. To send another, please apply again.
problem-unreadable-body = The request body could not be read
problem-use-patch-or-delete = Use PATCH or DELETE
problem-validation-failed = Some fields need correcting
problem-validation-failed-detail = Please correct the fields listed.

sign-in-link-button = Continue
sign-in-link-title = Open your privacy center
sign-in-link-whose = This link opens the privacy center of { $address }. If that is not your address, close this page: someone else sent you their link.
sign-in-sent = If we know this address, a sign-in link is on its way. It works once, for 15 minutes.
sign-in-sent-title = Check your email

signed-out-come-back = To come back, ask for a new sign-in link.
signed-out-everywhere = Every session of your privacy center has ended, on this device and any other.
signed-out-heading = You are signed out
signed-out-here = Your privacy center session on this device has ended.
signed-out-title = Signed out

subject-confirm-subscription = Please confirm your subscription to { $organisation }
subject-cv-accepted = Your CV is attached to your application
subject-cv-rejected = We could not accept your CV
subject-delivery = Your download: { $label }
subject-team-submission = New from the site: { $form }
subject-team-event = A person's request about data you received: { $event }
subject-team-paid = A registration you received is paid
subject-team-cv = An application you received has a CV to open
subject-email-change = Confirm your new address for { $organisation }
subject-email-changed = Your address at { $organisation } was changed
subject-erasure-confirmation = Your data has been deleted from { $organisation }
subject-export-confirm = Confirm sending your { $organisation } data
subject-export-ready = Personal data shared with you through { $organisation }
subject-privacy-link = Your { $organisation } privacy center link
subject-receipt = Your receipt for { $title }

subscription-confirmed-body = You will hear from us about: { $topics }.
subscription-confirmed-heading = Thank you, your subscription is confirmed
subscription-confirmed-title = Subscription confirmed

unsubscribe-body = Press the button to stop { $scope ->
    [all] all our marketing email
   *[topic] email about { $topic }
}. Nothing changes until you do.
unsubscribe-title = Unsubscribe

unsubscribed-body = You will not receive { $scope ->
    [all] any marketing email
   *[topic] email about { $topic }
} from us again. Messages about things you asked for, such as receipts, still reach you.
unsubscribed-title = You are unsubscribed

## The privacy center (functions/privacy/src/center.rs): a signed-in person's own page.
center-title = Your privacy center
center-title-error = Error: your privacy center
center-heading = Your data at { $organisation }
# $address is the person's address, shown in bold.
center-signed-in =
    You are signed in as { $address }. This page works for { $minutes ->
        [one] one minute
       *[other] { $minutes } minutes
    } after you signed in.
center-sign-out = Sign out
center-sign-out-everywhere = Sign out everywhere

## What the page holds, as links to each group

center-contents-label = On this page
center-contents-everything = Everything, as stored

## Notices: what just happened

center-notice-corrected = Your details are corrected.
center-notice-email-confirmation-sent = We sent a link to your new address. Your address changes once you follow it; your other changes are saved.
center-notice-export-confirmation-sent = We sent a message to your own address: the export goes out once you confirm it there.
center-notice-restricted = We keep your data but no longer use it.
center-notice-lifted-restricted = The restriction is lifted.
center-notice-objected = Your objection is recorded: we no longer use your data for our legitimate interests or marketing.
center-notice-lifted-objected = Your objection is withdrawn.
center-notice-withdrawn = Your consent is withdrawn.
center-notice-export-link-revoked = The link you sent no longer works.
center-notice-submission-deleted = The submission is deleted.
center-notice-request-cancelled = The request is cancelled: nothing more comes of it.
center-notice-done = Done.

## A refused correction

# A link to the correction form; a full stop follows it.
center-alert-correct =
    { $count ->
        [one] Please correct one field
       *[other] Please correct { $count } fields
    }
# A problem with a field the form does not show: its label, then what is wrong with it.
center-alert-field-error = { $label } { $message }.
# A problem shown beside its field: its label, then what is wrong with it.
center-field-error = { $label } { $message }

## Who you are

center-who-heading = Who you are
# Where a detail came from: $form is a form's title.
center-from-form = From the { $form } form, { $date }
center-from-here = You gave it here, { $date }
center-who-kept = We keep these details until { $date } at the latest: as long as the longest-kept of what you sent us, unless you delete them sooner.
center-who-restricted = You restricted processing: we keep your data but do not use it.
center-who-objected = You objected to processing: we do not use your data for our legitimate interests or marketing.

## Your consents and mail

center-consents-heading = Your consents and mail
center-mail-unsubscribed-all = You unsubscribed from all our mail.
center-mail-unsubscribed-all-on = You unsubscribed from all our mail on { $date }.
center-mail-none = You receive no marketing mail from us.
# $topics: the topics' names, separated by commas.
center-mail-receiving = You receive our mail about: { $topics }.
center-mail-pending = Waiting for you to confirm from your inbox: { $topics }. Nothing about these is sent until you do.
center-mail-suppressed = Mail to your address bounced or was reported, so we send it nothing more.
center-consents-given-heading = What you agreed to
# Beside a consent, in brackets: $form is a form's title.
center-consent-given = given on the { $form } form, { $date }
center-consent-withdrawn = You withdrew this consent.
center-consent-withdraw = Withdraw this consent
center-consents-none = You have given us no consent: what we do with your data rests on the reasons each form states.
center-mail-history-heading = Changes to your mail

## Histories: a line for each change

center-history-entry = { $at }: { $change }
# $fields: the fields' labels, separated by commas.
center-change-corrected = You corrected: { $fields }
center-change-submission-deleted = Deleted a submission
center-change-email-changed = Changed email address
center-change-restriction-set = Restricted processing
center-change-restriction-lifted = Lifted the restriction
center-change-objection-set = Objected to processing
center-change-objection-lifted = Withdrew the objection
# $purpose: the purpose's words (its form's, or "marketing").
center-change-consent-withdrawn = Withdrew consent: { $purpose }
center-change-marketing-consent-withdrawn = Consent to marketing withdrawn
center-change-unsubscribed-all = Unsubscribed from all
# $topic, $topics, $kept, $asked: topics' names, separated by commas.
center-change-unsubscribed = Unsubscribed { $topic }
center-change-confirmed = Confirmed { $topics }
# $detail: why, as the mail provider reported it.
center-change-suppressed = Suppressed ({ $detail })

## What you sent us

center-sent-heading = What you sent us
center-sent-kept = Kept until { $date }.
center-sent-delete = Delete this submission
center-sent-none = Nothing: you have sent us no form.
center-sent-intro = Anyone can type your address into a form. If you did not send one of these, delete it: what it filled in of your details goes with it.

## Your payments

center-payments-heading = Your payments
# After what was bought: $price is the amount (with its interval for a plan), $state the payment's state.
center-payment-summary =
    { $state ->
        [paid] { $price }, paid.
        [active] { $price }, active.
        [trialing] { $price }, in its trial.
        [processing] { $price }, being processed by your bank.
        [action] { $price }, waiting for your bank's confirmation.
        [unpaid] { $price }, not paid yet.
        [failed] { $price }, not paid: the last attempt failed.
        [cancelled] { $price }, cancelled.
        [refunded] { $price }, refunded.
        [disputed] { $price }, disputed with your bank.
        [incomplete] { $price }, not completed.
       *[other] { $price }, recorded.
    }
center-payment-record = Started { $started }; the record is kept until { $kept }, as the law requires.
center-payments-none = Nothing: you have paid us nothing.
# $link is center-payments-write-to-us, as a link to our Data Protection Officer.
center-payments-card = Your card details are held by Stripe, our payment processor, never by us. To cancel a plan or ask for a refund, { $link }.
center-payments-write-to-us = write to us

## Your files

center-files-heading = Your files
center-file-your-cv = Your CV
# After the file's name: $reason is why it was refused, in the words it was refused with.
center-file-state =
    { $state ->
        [verified] checked and attached to your application.
        [rejected] refused: { $reason }.
       *[other] waiting to be checked.
    }
center-file-reason-unknown = it is not a document we accept
center-file-record = Uploaded { $uploaded }; kept with its application until { $kept }.
center-files-none = Nothing: you have sent us no file.
center-files-deleted-with-application = Deleting an application deletes its files.

## Requests under way

center-requests-heading = Requests under way
center-request-email-change = Changing your address to { $address }: waiting for you to confirm it from that address, until { $until }.
center-request-email-change-undo = Your previous address, { $address }, can take your profile back until { $until }, by the link we sent it.
center-request-export = Sending a copy of your data to { $address }: waiting for you to confirm it from your own address, until { $until }.
center-request-cancel = Cancel it
# $format: JSON or CSV.
center-export-link = A copy of your data ({ $format }) sent to { $address }: its link works until { $until }.
center-export-link-revoke = Take it back
center-requests-none = Nothing is under way.
center-details-history-heading = Changes to your details

## Everything, as stored

center-everything-heading = Everything, exactly as we store it
center-everything-evidence = The evidence we keep with each form (when, from which browser and network address, and the notice you saw) and every id are in the download.
center-everything-shortened = Some long values are shortened on this page; the download has them all.
center-everything-json = Download everything as JSON
# Follows center-everything-json: the same download as CSV.
center-everything-csv = as CSV
center-everything-receipts = Receipts of your consents

## Correct, limit or delete

center-rights-heading = Correct, limit or delete
center-correct-heading = Correct your details
center-hint-phone = with country code
center-hint-country = two-letter code, such as GB
center-hint-state = code, such as US-CA
center-correct-explain = Leave a field empty to remove it. A new email address is used once you confirm it from that address; your current address is told, and can undo it.
center-correct-save = Save
center-send-copy-heading = Send a copy to someone else
center-send-copy-to = Their address
center-send-copy-to-hint = (we ask you to confirm from your own address first)
center-send-copy-format = Format
center-send-copy-button = Send a copy
center-limit-heading = Limit how we use your data
center-restrict-set = Restrict processing
center-restrict-lift = Lift the restriction
center-restrict-explain = Restriction: we keep your data but do not use it, for instance while you contest its accuracy.
center-object-set = Object to processing
center-object-lift = Withdraw my objection
center-object-explain = Objection: we stop using your data for our legitimate interests and for marketing.
center-delete-heading = Delete your data
center-delete-explain = We delete everything we hold about you, except payment records, which the law makes us keep without your name or address.
center-delete-link = Delete my data…

## Who is responsible

center-responsible-heading = Who is responsible
# $controller is the data controller's name, in bold; $officer the Data Protection Officer's address, as a link.
center-responsible-controller = The data controller for you is { $controller }. Questions, objections and complaints: our Data Protection Officer at { $officer }.
center-responsible-authority = You may also complain to { $authority }.
center-recipients-heading = Who may receive your data
center-shared-heading = Where your data went
center-shared-explain = Each team or system that received what you sent us, with what it received and when. If you erase your data, limit its use or withdraw a consent, each of them is told.
center-shared-none = Nothing you sent us has gone to anyone yet.
center-shared-entry = { $destination }: { $what }, { $when }
center-shared-owed = { $destination }: { $what }, being sent
center-shared-what-submission = a form you sent
center-shared-what-payment = that you paid
center-shared-what-cv = your CV's check
center-delete-subscription = Your running subscription will be cancelled at once (no further charges), and our payment processor Stripe deletes what it holds about you as our customer. Payment records the law makes us keep stay, without your name.
