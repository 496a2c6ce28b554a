// Progressive enhancement for forms that post to Steward. Every form works without this file
// (a plain POST, then Steward's thank-you redirect); with it, errors appear next to their fields,
// the page does not reload, a CV uploads straight to S3 with its progress shown, and a paid
// registration goes on to payment. Copy this file as it is; point the forms' `action` at your
// Steward API.

const SUBMISSION_ID = "_submission_id";

// The page's language (`<html lang>`) is the language of every word this file writes and of
// Steward's answers (sent as `lang`, which outranks a language cookie from an earlier visit, and as
// `Accept-Language`); the site has each page in each language.
const LANG = document.documentElement.lang === "de" ? "de" : "en";
const WORDS = {
  en: {
    botCheck: "The check that keeps bots out",
    correct: (n) => `Please correct ${n === 1 ? "one field" : `${n} fields`}.`,
    wrong: "Something went wrong.",
    sending: "Sending…",
    unreachable: "We could not reach the server. Please try again.",
    nextFailed: "We received your form, but the next step could not start. Please reload this page's thank-you link from your email, or contact us.",
    received: "Thank you: we received it.",
    nowCv: "Now your CV:",
    nowPayment: "Now the payment:",
    uploadHeading: "Upload your CV",
    cvLabel: 'Your CV <span class="hint">PDF, Word or RTF, up to 5 MB</span>',
    upload: "Upload",
    uploadProgress: "Upload progress",
    chooseFile: "Choose a file first.",
    uploading: "Uploading…",
    uploadNoStart: "The upload could not start.",
    uploadFailed: "The upload failed. Please try again.",
    checking: "Uploaded. Checking your CV…",
    accepted: "Your CV is checked and attached to your application.",
    replaced: "This file passed our checks, but a file you sent later is the one attached to your application.",
    rejected: (reason) => `We could not accept this file: ${reason}.`,
    earlierKept: " Your application keeps another file you sent.",
    chooseAnother: " Please choose another file and upload it.",
    uploadAnother: "Upload another file",
    unconfirmed: "Your file is uploaded, but we could not confirm that it passed our checks. To be sure your application has a CV, upload it again in a few minutes.",
    uploadAgain: "Upload again",
    paymentHeading: "Payment",
    paymentNoStart: "The payment could not start.",
    paidCloud: "Payment received. Thank you: your subscription is active. We email you a receipt.",
    paidEvent: "Payment received. Thank you: your seat is confirmed. We email you a receipt.",
    localMode: (amount) => `Local test mode: no real card.${amount ? ` Amount: ${amount}.` : ""}`,
    testCard: 'Test card number <span class="hint">4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined; 4000 0025 0000 3155 asks the bank to confirm</span>',
    pay: (amount) => (amount ? `Pay ${amount}` : "Pay"),
    toBank: "Your bank asks you to confirm this payment: taking you there…",
    notThrough: "The payment did not go through.",
    anotherCard: " Please try another card.",
    processing: "Payment processing. A bank payment can take a few days to clear.",
    paid: "Payment received. Thank you. We email you a receipt.",
    bankRefused: "The payment did not go through: your bank did not confirm it, and nothing was charged.",
    startOnForm: "start on its form",
    nothingWaiting: ["Nothing is waiting here: this page carries on from a form just sent. To begin, ", "."],
    closed: "registration closed",
    soldOut: "sold out",
    seatsLeft: (n) => `${n} ${n === 1 ? "seat" : "seats"} left`,
    someClosed: "Events that are sold out or closed cannot be chosen.",
    allClosed: "Every event is sold out or closed for now: please check again later.",
  },
  de: {
    botCheck: "Die Prüfung gegen Bots",
    correct: (n) => `Bitte korrigieren Sie ${n === 1 ? "ein Feld" : `${n} Felder`}.`,
    wrong: "Etwas ist schiefgegangen.",
    sending: "Wird gesendet…",
    unreachable: "Wir konnten den Server nicht erreichen. Bitte versuchen Sie es erneut.",
    nextFailed: "Wir haben Ihr Formular erhalten, aber der nächste Schritt konnte nicht starten. Bitte öffnen Sie den Link zur Dankesseite aus Ihrer E-Mail erneut, oder kontaktieren Sie uns.",
    received: "Vielen Dank: Wir haben es erhalten.",
    nowCv: "Jetzt Ihr Lebenslauf:",
    nowPayment: "Jetzt die Zahlung:",
    uploadHeading: "Ihren Lebenslauf hochladen",
    cvLabel: 'Ihr Lebenslauf <span class="hint">PDF, Word oder RTF, bis 5 MB</span>',
    upload: "Hochladen",
    uploadProgress: "Fortschritt des Uploads",
    chooseFile: "Bitte wählen Sie zuerst eine Datei.",
    uploading: "Wird hochgeladen…",
    uploadNoStart: "Der Upload konnte nicht starten.",
    uploadFailed: "Der Upload ist fehlgeschlagen. Bitte versuchen Sie es erneut.",
    checking: "Hochgeladen. Ihr Lebenslauf wird geprüft…",
    accepted: "Ihr Lebenslauf ist geprüft und Ihrer Bewerbung beigefügt.",
    replaced: "Diese Datei hat unsere Prüfung bestanden, aber beigefügt ist eine Datei, die Sie später gesendet haben.",
    rejected: (reason) => `Wir konnten diese Datei nicht annehmen: ${reason}.`,
    earlierKept: " Ihre Bewerbung behält eine andere Datei, die Sie gesendet haben.",
    chooseAnother: " Bitte wählen Sie eine andere Datei und laden Sie sie hoch.",
    uploadAnother: "Eine andere Datei hochladen",
    unconfirmed: "Ihre Datei ist hochgeladen, aber wir konnten nicht bestätigen, dass sie unsere Prüfung bestanden hat. Um sicherzugehen, dass Ihre Bewerbung einen Lebenslauf hat, laden Sie ihn in ein paar Minuten erneut hoch.",
    uploadAgain: "Erneut hochladen",
    paymentHeading: "Zahlung",
    paymentNoStart: "Die Zahlung konnte nicht starten.",
    paidCloud: "Zahlung erhalten. Vielen Dank: Ihr Abonnement ist aktiv. Wir senden Ihnen eine Quittung.",
    paidEvent: "Zahlung erhalten. Vielen Dank: Ihr Platz ist bestätigt. Wir senden Ihnen eine Quittung.",
    localMode: (amount) => `Lokaler Testmodus: keine echte Karte.${amount ? ` Betrag: ${amount}.` : ""}`,
    testCard: 'Testkartennummer <span class="hint">4242 4242 4242 4242 zahlt; 4000 0000 0000 0002 wird abgelehnt; 4000 0025 0000 3155 lässt die Bank bestätigen</span>',
    pay: (amount) => (amount ? `${amount} bezahlen` : "Bezahlen"),
    toBank: "Ihre Bank bittet Sie, diese Zahlung zu bestätigen: Sie werden weitergeleitet…",
    notThrough: "Die Zahlung ist nicht durchgegangen.",
    anotherCard: " Bitte versuchen Sie eine andere Karte.",
    processing: "Die Zahlung wird bearbeitet. Eine Bankzahlung kann einige Tage dauern.",
    paid: "Zahlung erhalten. Vielen Dank. Wir senden Ihnen eine Quittung.",
    bankRefused: "Die Zahlung ist nicht durchgegangen: Ihre Bank hat sie nicht bestätigt, und es wurde nichts berechnet.",
    startOnForm: "beginnen Sie mit dem Formular",
    nothingWaiting: ["Hier wartet nichts: Diese Seite setzt ein gerade gesendetes Formular fort. Um anzufangen, ", "."],
    closed: "Anmeldung geschlossen",
    soldOut: "ausgebucht",
    seatsLeft: (n) => `${n === 1 ? "noch ein Platz" : `noch ${n} Plätze`} frei`,
    someClosed: "Ausgebuchte oder geschlossene Veranstaltungen können nicht gewählt werden.",
    allClosed: "Alle Veranstaltungen sind derzeit ausgebucht oder geschlossen: Bitte schauen Sie später wieder vorbei.",
  },
}[LANG];

function api(form) {
  return new URL(form.getAttribute("action"), document.baseURI).origin;
}

/** Says something in the form's live region: a new element each time, so that screen readers
 *  announce it; `alert` for problems, `status` otherwise. */
function say(form, text, kind) {
  form.querySelector("[data-status]")?.remove();
  if (!text) return;
  const status = document.createElement("div");
  status.setAttribute("data-status", "");
  status.className = `status ${kind}`;
  status.setAttribute("role", kind === "error" ? "alert" : "status");
  status.textContent = text;
  form.append(status);
}

function clearErrors(form) {
  for (const error of form.querySelectorAll(".field-error")) error.remove();
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    const described = (field.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
    if (described.length) field.setAttribute("aria-describedby", described.join(" "));
    else field.removeAttribute("aria-describedby");
  }
  say(form, "", "");
}

/** Shows each field's problem next to it, tied to it for screen readers, and focuses the first. */
function showErrors(form, problem) {
  let first = null;
  for (const error of problem.errors || []) {
    const field = form.elements.namedItem(error.field);
    const target = field instanceof RadioNodeList ? field[0] : field;
    if (!target) continue;
    const id = `${target.id || error.field}-error`;
    const message = document.createElement("p");
    message.className = "field-error";
    message.id = id;
    message.textContent = `${labelOf(target)} ${error.message}`;
    (target.closest("fieldset") || target).after(message);
    target.setAttribute("aria-invalid", "true");
    target.setAttribute("aria-describedby", [target.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
    first ??= target;
  }
  // Problems with no field on this form are said in words.
  // The proof of work is no field a person filled in: its problem is said as a sentence.
  const named = (e) => (e.field === "altcha" ? WORDS.botCheck : e.label || e.field);
  const elsewhere = (problem.errors || []).filter((e) => !form.elements.namedItem(e.field)).map((e) => `${named(e)} ${e.message}.`);
  const count = (problem.errors || []).length - elsewhere.length;
  const summary = count ? WORDS.correct(count) : problem.title || WORDS.wrong;
  say(form, [summary, ...elsewhere, problem.detail && !count ? problem.detail : ""].filter(Boolean).join(" "), "error");
  first?.focus();
}

function labelOf(field) {
  const label = field.labels?.[0]?.firstChild?.textContent?.trim();
  return label || field.name;
}

async function submit(event) {
  const form = event.target;
  event.preventDefault();
  // Accepted already: a second click must not register again.
  if ("accepted" in form.dataset) return;
  clearErrors(form);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  // One id per filled-in form: a double click or a retry stores one submission.
  const submissionId = form.elements.namedItem(SUBMISSION_ID);
  if (submissionId) submissionId.value ||= crypto.randomUUID();
  const body = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string") body.append(name, value);
  }
  // A form sends Steward's own proof-of-work challenge, solved (ALTCHA's protocol): a moment for
  // a browser, a cost for a bot. Without one (no challenge to be had) it still goes, under
  // stricter limits.
  const path = new URL(form.action, document.baseURI).pathname;
  if (path.startsWith("/forms/") || path === "/privacy/link") {
    say(form, WORDS.sending, "status");
    const proof = await solveChallenge(api(form)).catch(() => null);
    if (proof) body.set("altcha", proof);
  }
  let answer;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      headers: { accept: "application/json", "accept-language": LANG, "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showErrors(form, answer);
      button.disabled = false;
      return;
    }
  } catch {
    say(form, WORDS.unreachable, "error");
    button.disabled = false;
    return;
  }
  button.disabled = false;
  if (submissionId) submissionId.value = "";
  try {
    await afterSubmission(form, answer);
  } catch {
    say(form, WORDS.nextFailed, "error");
  }
}

/** Asks Steward for a challenge and finds its number by trying them, a batch at a time. */
async function solveChallenge(base) {
  const response = await fetch(`${base}/challenge`, { headers: { accept: "application/json", "accept-language": LANG } });
  if (!response.ok) return null;
  const challenge = await response.json();
  const encoder = new TextEncoder();
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  const batch = 500;
  for (let start = 0; start <= challenge.maxnumber; start += batch) {
    const numbers = Array.from({ length: Math.min(batch, challenge.maxnumber - start + 1) }, (_, i) => start + i);
    const digests = await Promise.all(numbers.map((n) => crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n))));
    const found = digests.findIndex((digest) => hex(digest) === challenge.challenge);
    if (found >= 0) {
      const { algorithm, salt, signature } = challenge;
      return btoa(JSON.stringify({ algorithm, challenge: challenge.challenge, number: numbers[found], salt, signature }));
    }
  }
  return null;
}

async function afterSubmission(form, receipt) {
  const thanks = form.dataset.thanks || WORDS.received;
  if (receipt.cv_upload || receipt.payment) {
    // The submission is stored: the form is done, and the next step follows it.
    form.dataset.accepted = "";
    form.querySelector("button[type=submit]").disabled = true;
  }
  if (receipt.cv_upload) {
    say(form, `${thanks} ${WORDS.nowCv}`, "ok");
    await uploadStep(form, api(form), receipt.cv_upload.token, form.querySelector("input[type=file]"));
  } else if (receipt.payment) {
    say(form, `${thanks} ${WORDS.nowPayment}`, "ok");
    await paymentStep(form, api(form), receipt.payment.token, receipt.thank_you_url);
  } else {
    form.reset();
    say(form, thanks, "ok");
  }
}

/** A next step after `after`; focus moves to its heading, so keyboard and screen reader users
 *  land on it. */
function step(after, heading) {
  const section = document.createElement("section");
  section.className = "step";
  section.setAttribute("aria-label", heading);
  const title = document.createElement("h2");
  title.textContent = heading;
  title.tabIndex = -1;
  section.append(title);
  after.after(section);
  title.focus();
  return section;
}

/** The CV goes from the browser straight to S3, with a presigned POST Steward signs for it. */
export async function uploadStep(anchor, base, token, fileInput) {
  const section = step(anchor, WORDS.uploadHeading);
  // The form's own file input when there is one; otherwise a chooser of the step's own.
  let chooser = fileInput;
  if (!chooser) {
    section.insertAdjacentHTML("beforeend", `<label for="cv-file">${WORDS.cvLabel}</label><input id="cv-file" type="file" accept=".pdf,.doc,.docx,.rtf,application/pdf">`);
    chooser = section.querySelector("input");
  }
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = WORDS.upload;
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", WORDS.uploadProgress);
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  section.append(button, progress, status);
  const go = async () => {
    const file = chooser.files[0];
    if (!file) {
      status.textContent = WORDS.chooseFile;
      return;
    }
    button.disabled = true;
    status.textContent = WORDS.uploading;
    const grant = await fetch(`${base}/careers/cv-upload?lang=${LANG}`, {
      method: "POST",
      headers: { accept: "application/json", "accept-language": LANG, "content-type": "application/json" },
      body: JSON.stringify({ token, content_type: file.type || "application/octet-stream", file_name: file.name }),
    });
    const post = await grant.json().catch(() => ({}));
    if (!grant.ok) {
      status.textContent = (post.errors || []).map((e) => `${e.label || e.field} ${e.message}`).join("; ") || post.title || WORDS.uploadNoStart;
      button.disabled = false;
      return;
    }
    const data = new FormData();
    for (const [name, value] of Object.entries(post.fields)) data.append(name, value);
    data.append("file", file);
    const request = new XMLHttpRequest();
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    const failed = () => {
      status.textContent = WORDS.uploadFailed;
      button.disabled = false;
    };
    request.addEventListener("load", async () => {
      if (request.status < 200 || request.status >= 300) return failed();
      progress.value = 100;
      // Uploaded is not accepted: the page says nothing final until Steward has checked the file.
      status.textContent = WORDS.checking;
      const verdict = await cvVerdict(base, token, post.key);
      if (verdict.state === "accepted") {
        status.textContent = WORDS.accepted;
        button.remove();
      } else if (verdict.state === "replaced") {
        status.textContent = WORDS.replaced;
        button.remove();
      } else if (verdict.state === "rejected") {
        status.textContent = WORDS.rejected(String(verdict.reason || "").replace(/\.$/, "")) +
          (verdict.earlier_kept ? WORDS.earlierKept : WORDS.chooseAnother);
        button.disabled = false;
        button.textContent = WORDS.uploadAnother;
      } else {
        // Unknown after a minute (or the link ran out): say so, and how to make sure.
        status.textContent = WORDS.unconfirmed;
        button.disabled = false;
        button.textContent = WORDS.uploadAgain;
      }
    });
    request.addEventListener("error", failed);
    request.open("POST", post.url);
    request.send(data);
  };
  button.addEventListener("click", go);
  if (chooser.files?.length) await go();
}

/** The verdict on an upload, asked every second for up to a minute (S3 tells the checker within
 *  seconds); `checking` if it takes longer. */
async function cvVerdict(base, token, key) {
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const answer = await fetch(`${base}/careers/cv-upload/status?lang=${LANG}`, {
      method: "POST",
      headers: { accept: "application/json", "accept-language": LANG, "content-type": "application/json" },
      body: JSON.stringify({ token, key }),
    }).catch(() => null);
    // A refused question (an expired or foreign grant) does not change by asking again.
    if (answer && answer.status >= 400 && answer.status < 500 && answer.status !== 429) break;
    const verdict = answer?.ok ? await answer.json().catch(() => ({})) : {};
    if (verdict.state && verdict.state !== "checking") return verdict;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return { state: "checking" };
}

/** Payment: Stripe Elements with a real publishable key; the local emulator's test-card step otherwise. */
export async function paymentStep(anchor, base, token, returnUrl = window.location.href.split("#")[0]) {
  const section = step(anchor, WORDS.paymentHeading);
  const started = await fetch(`${base}/payments?lang=${LANG}`, {
    method: "POST",
    headers: { accept: "application/json", "accept-language": LANG, "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  const payment = await started.json();
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  if (!started.ok) {
    // Already paid, sold out, closed, lapsed: Steward's own words, title and detail.
    status.textContent = [payment.title || WORDS.paymentNoStart, payment.detail].filter(Boolean).join(". ");
    section.append(status);
    return;
  }
  // What is bought and its price, in Steward's words: the page never formats money itself.
  const amount = payment.price || "";
  const bought = document.createElement("p");
  bought.textContent = payment.description || "";
  section.append(bought);
  const done = payment.kind === "cloud"
    ? WORDS.paidCloud
    : WORDS.paidEvent;
  // Back from the bank's check: the thank-you page says how it went, and offers the payment
  // again if it did not go through, with the grant this tab keeps (never sent anywhere).
  const back = new URL(returnUrl, window.location.href);
  for (const name of ["payment_intent", "payment_intent_client_secret", "redirect_status"]) back.searchParams.delete(name);
  back.hash = "";
  returnUrl = back.toString();
  try { sessionStorage.setItem("steward-payment-token", token); } catch { /* storage off: no retry offer */ }
  if (!payment.publishable_key.includes("_local_")) {
    await stripeElements(section, status, payment, amount, returnUrl, done);
    return;
  }
  const local = document.createElement("p");
  local.textContent = WORDS.localMode(amount);
  section.append(local);
  section.insertAdjacentHTML(
    "beforeend",
    `<label for="test-card">${WORDS.testCard}</label>
     <input id="test-card" type="text" inputmode="numeric" autocomplete="off" value="4242 4242 4242 4242">
     <button type="button">Pay</button>`,
  );
  section.querySelector("button").textContent = WORDS.pay(amount);
  section.append(status);
  const button = section.querySelector("button");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const intent = payment.client_secret.split("_secret_")[0];
    const form = new URLSearchParams({
      key: payment.publishable_key,
      client_secret: payment.client_secret,
      "payment_method_data[type]": "card",
      "payment_method_data[card][number]": section.querySelector("input").value.replace(/\s/g, ""),
      return_url: returnUrl,
    });
    const response = await fetch(`${base}/_local/stripe/v1/payment_intents/${intent}/confirm`, { method: "POST", body: form });
    const result = await response.json();
    button.disabled = false;
    if (result.status === "succeeded") {
      status.textContent = done;
      button.remove();
    } else if (result.status === "requires_action" && result.next_action?.redirect_to_url?.url) {
      // The bank asks the card holder to confirm (3-D Secure), on its own page, as with Stripe.
      status.textContent = WORDS.toBank;
      window.location.assign(new URL(result.next_action.redirect_to_url.url, base).toString());
    } else {
      status.textContent = result.last_payment_error?.message || result.error?.message || WORDS.notThrough;
      status.textContent += WORDS.anotherCard;
    }
  });
}

async function stripeElements(section, status, payment, amount, returnUrl, done) {
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
  // Stripe's card form and its messages in the page's language.
  const stripe = window.Stripe(payment.publishable_key, { locale: LANG });
  const elements = stripe.elements({ clientSecret: payment.client_secret });
  const mount = document.createElement("div");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = WORDS.pay(amount);
  section.append(mount, button, status);
  elements.create("payment").mount(mount);
  button.addEventListener("click", async () => {
    button.disabled = true;
    const { error, paymentIntent } = await stripe.confirmPayment({
      elements,
      // After a card check at the bank, Stripe returns to the thank-you page, which says how it went.
      confirmParams: { return_url: returnUrl },
      redirect: "if_required",
    });
    button.disabled = false;
    status.textContent = error ? error.message : paymentIntent.status === "succeeded" ? done : WORDS.processing;
  });
}

/** A thank-you page reached by a plain form post carries its grant in the URL fragment (never
 *  sent to a server); back from a card check by Stripe, the page says how the payment went. */
export function continueFromFragment(anchor, base) {
  const returned = new URLSearchParams(window.location.search).get("redirect_status");
  const grant = new URLSearchParams(window.location.hash.slice(1));
  if (returned) {
    anchor.textContent =
      returned === "succeeded" ? WORDS.paid
      : returned === "processing" ? WORDS.processing
      : WORDS.bankRefused;
    // Not paid: the same payment, offered again (Steward says so if it went through meanwhile).
    let kept = null;
    try { kept = sessionStorage.getItem("steward-payment-token"); } catch { /* storage off */ }
    if (returned !== "succeeded" && returned !== "processing" && kept) {
      paymentStep(anchor, base, kept);
    }
    return;
  }
  if (grant.get("cv_upload_token")) uploadStep(anchor, base, grant.get("cv_upload_token"), null);
  if (grant.get("payment_token")) paymentStep(anchor, base, grant.get("payment_token"));
  if (!grant.get("cv_upload_token") && !grant.get("payment_token")) {
    // Opened by itself (a bookmark, a reload after the step was done, a shared link): nothing to
    // continue, and the page says so rather than offer a step it cannot take.
    const start = document.createElement("a");
    start.href = anchor.dataset.start || "/";
    start.textContent = WORDS.startOnForm;
    anchor.replaceChildren(WORDS.nothingWaiting[0], start, WORDS.nothingWaiting[1]);
  }
}

/** An event's form learns, before anyone types, which events are sold out or closed: those
 *  cannot be chosen, and the page says so (Steward's `GET /payments/events`). The checkout itself
 *  never sells a seat that is not there; this only spares people typing in vain. */
async function showAvailability(form) {
  const select = form.elements.namedItem("event");
  if (!(select instanceof HTMLSelectElement)) return;
  let events;
  try {
    const response = await fetch(`${api(form)}/payments/events?lang=${LANG}`, { headers: { accept: "application/json", "accept-language": LANG } });
    if (!response.ok) return;
    ({ events } = await response.json());
  } catch { return; /* unknown: the checkout still says so */ }
  const byId = new Map(events.map((event) => [event.id, event]));
  for (const option of select.options) {
    const event = byId.get(option.value);
    if (!event) continue;
    const why = !event.on_sale ? WORDS.closed : event.sold_out ? WORDS.soldOut : event.seats_left <= 10 ? WORDS.seatsLeft(event.seats_left) : "";
    if (why) option.textContent = `${option.textContent} – ${why}`;
    option.disabled = !event.on_sale || event.sold_out;
    if (option.disabled && option.selected) select.value = "";
  }
  const open = [...select.options].some((option) => option.value && !option.disabled);
  const closed = [...select.options].some((option) => option.value && option.disabled);
  if (!closed) return;
  const note = document.createElement("p");
  note.className = "status info";
  note.setAttribute("role", "status");
  note.textContent = open ? WORDS.someClosed : WORDS.allClosed;
  select.before(note);
  if (!open) for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
}

// What the page says to a browser without script (the next step needs it) is not for this one.
for (const note of document.querySelectorAll("[data-without-script]")) note.remove();

for (const form of document.querySelectorAll("form[data-steward]")) {
  form.addEventListener("submit", submit);
  showAvailability(form);
}
