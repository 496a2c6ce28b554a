// Progressive enhancement for forms that post to Steward. Every form works without this file
// (a plain POST, then Steward's thank-you redirect); with it, errors appear next to their fields,
// the page does not reload, a CV uploads straight to S3 with its progress shown, and a paid
// registration goes on to payment. Copy this file as it is; point the forms' `action` at your
// Steward API.

const SUBMISSION_ID = "_submission_id";

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
  const named = (e) => (e.field === "altcha" ? "The check that keeps bots out" : e.field);
  const elsewhere = (problem.errors || []).filter((e) => !form.elements.namedItem(e.field)).map((e) => `${named(e)} ${e.message}.`);
  const count = (problem.errors || []).length - elsewhere.length;
  const summary = count ? `Please correct ${count === 1 ? "one field" : `${count} fields`}.` : problem.title || "Something went wrong.";
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
    say(form, "Sending…", "status");
    const proof = await solveChallenge(api(form)).catch(() => null);
    if (proof) body.set("altcha", proof);
  }
  let answer;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showErrors(form, answer);
      button.disabled = false;
      return;
    }
  } catch {
    say(form, "We could not reach the server. Please try again.", "error");
    button.disabled = false;
    return;
  }
  button.disabled = false;
  if (submissionId) submissionId.value = "";
  try {
    await afterSubmission(form, answer);
  } catch {
    say(form, "We received your form, but the next step could not start. Please reload this page's thank-you link from your email, or contact us.", "error");
  }
}

/** Asks Steward for a challenge and finds its number by trying them, a batch at a time. */
async function solveChallenge(base) {
  const response = await fetch(`${base}/challenge`, { headers: { accept: "application/json" } });
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
  const thanks = form.dataset.thanks || "Thank you: we received it.";
  if (receipt.cv_upload || receipt.payment) {
    // The submission is stored: the form is done, and the next step follows it.
    form.dataset.accepted = "";
    form.querySelector("button[type=submit]").disabled = true;
  }
  if (receipt.cv_upload) {
    say(form, `${thanks} Now your CV:`, "ok");
    await uploadStep(form, api(form), receipt.cv_upload.token, form.querySelector("input[type=file]"));
  } else if (receipt.payment) {
    say(form, `${thanks} Now the payment:`, "ok");
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
  const section = step(anchor, "Upload your CV");
  // The form's own file input when there is one; otherwise a chooser of the step's own.
  let chooser = fileInput;
  if (!chooser) {
    section.insertAdjacentHTML("beforeend", '<label for="cv-file">Your CV <span class="hint">PDF, Word or RTF, up to 5 MB</span></label><input id="cv-file" type="file" accept=".pdf,.doc,.docx,.rtf,application/pdf">');
    chooser = section.querySelector("input");
  }
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Upload";
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", "Upload progress");
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  section.append(button, progress, status);
  const go = async () => {
    const file = chooser.files[0];
    if (!file) {
      status.textContent = "Choose a file first.";
      return;
    }
    button.disabled = true;
    status.textContent = "Uploading…";
    const grant = await fetch(`${base}/careers/cv-upload`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ token, content_type: file.type || "application/octet-stream", file_name: file.name }),
    });
    const post = await grant.json().catch(() => ({}));
    if (!grant.ok) {
      status.textContent = (post.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ") || post.title || "The upload could not start.";
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
      status.textContent = "The upload failed. Please try again.";
      button.disabled = false;
    };
    request.addEventListener("load", async () => {
      if (request.status < 200 || request.status >= 300) return failed();
      progress.value = 100;
      // Uploaded is not accepted: the page says nothing final until Steward has checked the file.
      status.textContent = "Uploaded. Checking your CV…";
      const verdict = await cvVerdict(base, token, post.key);
      if (verdict.state === "accepted") {
        status.textContent = "Your CV is checked and attached to your application.";
        button.remove();
      } else if (verdict.state === "replaced") {
        status.textContent = "This file passed our checks, but a file you sent later is the one attached to your application.";
        button.remove();
      } else if (verdict.state === "rejected") {
        status.textContent = `We could not accept this file: ${String(verdict.reason || "").replace(/\.$/, "")}.` +
          (verdict.earlier_kept ? " Your application keeps another file you sent." : " Please choose another file and upload it.");
        button.disabled = false;
        button.textContent = "Upload another file";
      } else {
        // Unknown after a minute (or the link ran out): say so, and how to make sure.
        status.textContent = "Your file is uploaded, but we could not confirm that it passed our checks. To be sure your application has a CV, upload it again in a few minutes.";
        button.disabled = false;
        button.textContent = "Upload again";
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
    const answer = await fetch(`${base}/careers/cv-upload/status`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
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
  const section = step(anchor, "Payment");
  const started = await fetch(`${base}/payments`, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  const payment = await started.json();
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  if (!started.ok) {
    // Already paid, sold out, closed, lapsed: Steward's own words, title and detail.
    status.textContent = [payment.title || "The payment could not start.", payment.detail].filter(Boolean).join(". ");
    section.append(status);
    return;
  }
  // What is bought and its price, in Steward's words: the page never formats money itself.
  const amount = payment.price || "";
  const bought = document.createElement("p");
  bought.textContent = payment.description || "";
  section.append(bought);
  const done = payment.kind === "cloud"
    ? "Payment received. Thank you: your subscription is active. We email you a receipt."
    : "Payment received. Thank you: your seat is confirmed. We email you a receipt.";
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
  local.textContent = `Local test mode: no real card.${amount ? ` Amount: ${amount}.` : ""}`;
  section.append(local);
  section.insertAdjacentHTML(
    "beforeend",
    `<label for="test-card">Test card number <span class="hint">4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined; 4000 0025 0000 3155 asks the bank to confirm</span></label>
     <input id="test-card" type="text" inputmode="numeric" autocomplete="off" value="4242 4242 4242 4242">
     <button type="button">Pay</button>`,
  );
  section.querySelector("button").textContent = amount ? `Pay ${amount}` : "Pay";
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
      status.textContent = "Your bank asks you to confirm this payment: taking you there…";
      window.location.assign(new URL(result.next_action.redirect_to_url.url, base).toString());
    } else {
      status.textContent = result.last_payment_error?.message || result.error?.message || "The payment did not go through.";
      status.textContent += " Please try another card.";
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
  const stripe = window.Stripe(payment.publishable_key);
  const elements = stripe.elements({ clientSecret: payment.client_secret });
  const mount = document.createElement("div");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = amount ? `Pay ${amount}` : "Pay";
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
    status.textContent = error ? error.message : paymentIntent.status === "succeeded" ? done : "Payment processing. A bank payment can take a few days to clear.";
  });
}

/** A thank-you page reached by a plain form post carries its grant in the URL fragment (never
 *  sent to a server); back from a card check by Stripe, the page says how the payment went. */
export function continueFromFragment(anchor, base) {
  const returned = new URLSearchParams(window.location.search).get("redirect_status");
  const grant = new URLSearchParams(window.location.hash.slice(1));
  if (returned) {
    anchor.textContent =
      returned === "succeeded" ? "Payment received. Thank you. We email you a receipt."
      : returned === "processing" ? "Payment processing. A bank payment can take a few days to clear."
      : "The payment did not go through: your bank did not confirm it, and nothing was charged.";
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
    start.textContent = "start on its form";
    anchor.replaceChildren("Nothing is waiting here: this page carries on from a form just sent. To begin, ", start, ".");
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
    const response = await fetch(`${api(form)}/payments/events`, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    ({ events } = await response.json());
  } catch { return; /* unknown: the checkout still says so */ }
  const byId = new Map(events.map((event) => [event.id, event]));
  for (const option of select.options) {
    const event = byId.get(option.value);
    if (!event) continue;
    const why = !event.on_sale ? "registration closed" : event.sold_out ? "sold out" : event.seats_left <= 10 ? `${event.seats_left} ${event.seats_left === 1 ? "seat" : "seats"} left` : "";
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
  note.textContent = open ? "Events that are sold out or closed cannot be chosen." : "Every event is sold out or closed for now: please check again later.";
  select.before(note);
  if (!open) for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
}

// What the page says to a browser without script (the next step needs it) is not for this one.
for (const note of document.querySelectorAll("[data-without-script]")) note.remove();

for (const form of document.querySelectorAll("form[data-steward]")) {
  form.addEventListener("submit", submit);
  showAvailability(form);
}
