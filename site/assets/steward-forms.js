// Progressive enhancement for forms that post to Steward. Every form works without this file
// (a plain POST, then Steward's thank-you redirect); with it, errors appear next to their fields,
// the page does not reload, a CV uploads straight to S3 with its progress shown, and a paid
// registration goes on to payment. Copy this file as it is; point the forms' `action` at your
// Steward API.

const SUBMISSION_ID = "_submission_id";

function api(form) {
  return new URL(form.getAttribute("action"), document.baseURI).origin;
}

function statusOf(form) {
  let status = form.querySelector("[data-status]");
  if (!status) {
    status = document.createElement("div");
    status.setAttribute("data-status", "");
    status.className = "status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    form.append(status);
  }
  return status;
}

function say(form, text, kind) {
  const status = statusOf(form);
  status.className = `status ${kind}`;
  status.setAttribute("role", kind === "error" ? "alert" : "status");
  status.textContent = text;
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
  const count = (problem.errors || []).length;
  say(form, count ? `Please correct ${count === 1 ? "one field" : `${count} fields`}.` : problem.title || "Something went wrong.", "error");
  first?.focus();
}

function labelOf(field) {
  const label = field.labels?.[0]?.firstChild?.textContent?.trim();
  return label || field.name;
}

async function submit(event) {
  const form = event.target;
  event.preventDefault();
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
  try {
    const response = await fetch(form.action, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showErrors(form, answer);
      return;
    }
    if (submissionId) submissionId.value = "";
    await afterSubmission(form, answer);
  } catch {
    say(form, "We could not reach the server. Please try again.", "error");
  } finally {
    button.disabled = false;
  }
}

async function afterSubmission(form, receipt) {
  const thanks = form.dataset.thanks || "Thank you: we received it.";
  if (receipt.cv_upload) {
    say(form, `${thanks} Now your CV:`, "ok");
    await uploadStep(form, api(form), receipt.cv_upload.token, form.querySelector("input[type=file]"));
  } else if (receipt.payment) {
    say(form, `${thanks} Now the payment:`, "ok");
    await paymentStep(form, api(form), receipt.payment.token);
  } else {
    form.reset();
    say(form, thanks, "ok");
  }
}

function step(after, heading) {
  const section = document.createElement("section");
  section.className = "step";
  section.setAttribute("aria-label", heading);
  const title = document.createElement("h2");
  title.textContent = heading;
  section.append(title);
  after.after(section);
  return section;
}

/** The CV goes from the browser straight to S3, with a presigned POST Steward signs for it. */
export async function uploadStep(anchor, base, token, fileInput) {
  const section = step(anchor, "Upload your CV");
  const input = fileInput?.files?.length ? fileInput : null;
  let chooser = input;
  if (!chooser) {
    section.insertAdjacentHTML("beforeend", '<label for="cv-file">Your CV <span class="hint">PDF, Word or RTF, up to 5 MB</span></label><input id="cv-file" type="file" accept=".pdf,.doc,.docx,.rtf,application/pdf"><button type="button">Upload</button>');
    chooser = section.querySelector("input");
  }
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", "Upload progress");
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  section.append(progress, status);
  const go = async () => {
    const file = chooser.files[0];
    if (!file) {
      status.textContent = "Choose a file first.";
      return;
    }
    const grant = await fetch(`${base}/careers/cv-upload`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ token, content_type: file.type || "application/octet-stream", file_name: file.name }),
    });
    const post = await grant.json();
    if (!grant.ok) {
      status.textContent = (post.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ") || post.title;
      return;
    }
    const data = new FormData();
    for (const [name, value] of Object.entries(post.fields)) data.append(name, value);
    data.append("file", file);
    const request = new XMLHttpRequest();
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    request.addEventListener("load", () => {
      const ok = request.status >= 200 && request.status < 300;
      progress.value = ok ? 100 : progress.value;
      status.textContent = ok ? "Your CV is uploaded. We check it and attach it to your application." : "The upload failed. Please try again.";
    });
    request.addEventListener("error", () => (status.textContent = "The upload failed. Please try again."));
    request.open("POST", post.url);
    request.send(data);
  };
  if (input) await go();
  else section.querySelector("button").addEventListener("click", go);
}

/** Payment: Stripe Elements with a real publishable key; the local emulator's test-card step otherwise. */
export async function paymentStep(anchor, base, token) {
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
    status.textContent = payment.title || "The payment could not start.";
    section.append(status);
    return;
  }
  const amount = payment.amount && payment.currency
    ? new Intl.NumberFormat(undefined, { style: "currency", currency: payment.currency.toUpperCase() }).format(payment.amount / 100)
    : "";
  if (!payment.publishable_key.includes("_local_")) {
    await stripeElements(section, status, payment, amount);
    return;
  }
  section.insertAdjacentHTML(
    "beforeend",
    `<p>Local test mode: no real card. ${amount ? `Amount: <strong>${amount}</strong>.` : ""}</p>
     <label for="test-card">Test card number <span class="hint">4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined</span></label>
     <input id="test-card" type="text" inputmode="numeric" autocomplete="off" value="4242 4242 4242 4242">
     <button type="button">Pay${amount ? ` ${amount}` : ""}</button>`,
  );
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
    });
    const response = await fetch(`${base}/_local/stripe/v1/payment_intents/${intent}/confirm`, { method: "POST", body: form });
    const result = await response.json();
    button.disabled = false;
    if (result.status === "succeeded") {
      status.textContent = "Payment received. Thank you: your place is confirmed.";
      button.remove();
    } else {
      status.textContent = result.last_payment_error?.message || result.error?.message || "The payment did not go through.";
      status.textContent += " Please try another card.";
    }
  });
}

async function stripeElements(section, status, payment, amount) {
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
      confirmParams: { return_url: window.location.href },
      redirect: "if_required",
    });
    button.disabled = false;
    status.textContent = error ? error.message : paymentIntent.status === "succeeded" ? "Payment received. Thank you." : "Payment processing.";
  });
}

/** A thank-you page reached by a plain form post carries its grant in the URL fragment. */
export function continueFromFragment(anchor, base) {
  const grant = new URLSearchParams(window.location.hash.slice(1));
  history.replaceState(null, "", window.location.pathname);
  if (grant.get("cv_upload_token")) uploadStep(anchor, base, grant.get("cv_upload_token"), null);
  if (grant.get("payment_token")) paymentStep(anchor, base, grant.get("payment_token"));
}

for (const form of document.querySelectorAll("form[data-steward]")) {
  form.addEventListener("submit", submit);
}
