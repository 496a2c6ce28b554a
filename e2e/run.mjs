// Runs one end-to-end flow in Debian's chromium, headless, against a running local stack:
//   node e2e/run.mjs <flow>
// Environment: STEWARD_SITE (the stack's site origin), STEWARD_API (its API's, where the staff
// console is; the site's by default), STEWARD_ARTIFACTS (where
// screenshots go), CHROMIUM (the browser; default /usr/bin/chromium), STEWARD_VIEWPORT (the
// window, `390x844` a phone by default, `1280x800` a desktop), and per flow STEWARD_EMAIL.
// Every page a flow visits is checked with axe-core: no serious or critical violation passes.
// The last line printed is `RESULT <json>`, for the test that started the flow.

import { readFileSync, mkdirSync } from "node:fs";
import { createHmac, randomUUID } from "node:crypto";
import { join } from "node:path";
import { chromium } from "playwright-core";

const SITE = process.env.STEWARD_SITE ?? "http://127.0.0.1:3000";
const API = process.env.STEWARD_API ?? SITE;
const ARTIFACTS = process.env.STEWARD_ARTIFACTS ?? "target/e2e-artifacts";
const AXE = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
const CV = new URL("../tests/fixtures/cv/cv.pdf", import.meta.url).pathname;
const PROGRAM = new URL("../tests/fixtures/cv/program-renamed.pdf", import.meta.url).pathname;
const [WIDTH, HEIGHT] = (process.env.STEWARD_VIEWPORT ?? "390x844").split("x").map(Number);
mkdirSync(ARTIFACTS, { recursive: true });

class Flow {
  constructor(name, browser) {
    this.name = name;
    this.browser = browser;
    this.shots = 0;
    this.checked = [];
  }

  /** A page in a fresh context; axe is injected past the pages' CSP, which forbids all script. */
  async page({ javaScript = true, locale = "en-GB" } = {}) {
    const context = await this.browser.newContext({ javaScriptEnabled: javaScript, bypassCSP: true, locale, viewport: { width: WIDTH, height: HEIGHT } });
    return context.newPage();
  }

  async shot(page, label) {
    this.shots += 1;
    const file = join(ARTIFACTS, `${this.name}-${WIDTH}-${String(this.shots).padStart(2, "0")}-${label}.png`);
    await page.screenshot({ path: file, fullPage: true });
  }

  /** Accessibility: axe-core inside the page; serious and critical violations fail the flow. */
  async checkA11y(page, label) {
    await this.shot(page, label);
    if (!(await page.evaluate(() => true).catch(() => false))) return; // no JavaScript: checked elsewhere
    await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
    });
    const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    this.checked.push({ page: label, url: page.url(), violations: violations.length, serious: serious.length });
    if (serious.length) throw new Error(`accessibility (${label}, ${page.url()}): ${JSON.stringify(serious, null, 1)}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function text(locator) {
  return (await locator.innerText()).trim();
}

/** The newest link to `path` in mail to `email`, from the dev mailbox. */
async function mailedLink(email, subjectPart, path) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const messages = await (await fetch(`${SITE}/_local/mailbox.json?to=${encodeURIComponent(email)}`)).json();
    const mail = messages.find((m) => m.to.includes(email) && m.subject.includes(subjectPart));
    const found = mail?.text.match(new RegExp(`https?://\\S+${path.replace(/[?]/g, "\\?")}\\S*`));
    if (found) return found[0];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail "${subjectPart}" with a ${path} link reached ${email}`);
}

async function fillPerson(page, email, { phone = true, job = false } = {}) {
  await page.fill("#name", "Zoë Ñúñez");
  await page.fill("#email", email);
  if (phone) await page.fill("#phone", "+44 20 7946 0958");
  if (job) {
    await page.fill("#job_title", "CTO");
    await page.fill("#company", "Acme");
  }
}

/** The contact form on the reference site, sent with JavaScript (as a visitor does). */
async function sendContactForm(page, email) {
  await page.goto(`${SITE}/contact`);
  await fillPerson(page, email);
  await page.fill("#message", "Hello");
  await page.click("button[type=submit]");
  await page.locator(".status.ok").waitFor();
}

/** Applies on the careers page with a CV, and waits until the page says it passed its checks. */
async function applyWithCv(flow, page, email, file = CV) {
  await page.goto(`${SITE}/careers`);
  await page.selectOption("#position", "Rust engineer");
  await fillPerson(page, email);
  await page.selectOption("#country", "GB");
  await page.setInputFiles("#cv", file);
  await page.click("button[type=submit]");
  await page.getByText("Your CV is checked and attached to your application").waitFor({ timeout: 60000 });
  await flow.shot(page, "cv-uploaded");
}

/** Registers for the paid WSO2Con 2027 and pays with the accepted test card. */
async function registerAndPay(flow, page, email) {
  await page.goto(`${SITE}/events/signup`);
  await page.selectOption("#event", "wso2con-2027");
  await fillPerson(page, email, { job: true });
  await page.selectOption("#country", "GB");
  await page.fill("#state", "GB-LND");
  await page.click("button[type=submit]");
  const card = page.locator("#test-card");
  await card.waitFor({ timeout: 30000 });
  await card.fill("4242 4242 4242 4242");
  await page.click("section.step button");
  await page.getByText("Payment received").waitFor({ timeout: 30000 });
  await flow.shot(page, "paid");
}

/** A base32 secret's bytes, as authenticator apps read it: trailing bits that make no whole byte
 *  are ignored (moto's secret has some). */
function base32Bytes(secret) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of secret.toUpperCase().replace(/=+$/, "")) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${secret}`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The code an authenticator app shows at `ms` (RFC 6238: HMAC-SHA-1, 30 s steps, 6 digits). */
function totp(secret, ms = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30000)));
  const digest = createHmac("sha1", base32Bytes(secret)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

/** The code shown now, once at least two seconds of its step are left (Cognito takes only the
 *  current step's code). */
async function currentCode(secret) {
  const left = 30000 - (Date.now() % 30000);
  if (left < 2000) await new Promise((r) => setTimeout(r, left + 100));
  return totp(secret);
}

/** The local stack's staff member of `group` (`GET /_local/staff`). */
async function staffMember(group) {
  const { users } = await (await fetch(`${API}/_local/staff`)).json();
  const user = users.find((u) => u.group === group);
  expect(user, `a local staff member in ${group}`);
  return user;
}

/** Signs in to the staff console through its pages, as a staff member does: the console sends to
 *  its sign-in, then the work address and password, then the authenticator app's code. Both
 *  sign-in pages are checked; the page ends on the console's home. */
async function signInToConsole(flow, page, group) {
  const user = await staffMember(group);
  await page.goto(`${API}/console`);
  expect(page.url() === `${API}/console/sign-in`, `without a session the console sends to its sign-in: ${page.url()}`);
  await flow.checkA11y(page, "console-sign-in");
  await page.getByLabel("Work address").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Continue" }).click();
  const code = page.getByLabel("Code from your authenticator app");
  await code.waitFor();
  await flow.checkA11y(page, "console-code");
  await code.fill(await currentCode(user.totp_secret));
  await Promise.all([page.waitForURL(`${API}/console`), page.getByRole("button", { name: "Sign in" }).click()]);
  expect((await text(page.locator("h1"))) === "Staff console", "the console's home");
  expect((await page.content()).includes(`Signed in as ${user.email}`), "it says who is signed in");
  const session = (await page.context().cookies(`${API}/console`)).find((c) => c.name.endsWith("steward-staff"));
  expect(session?.httpOnly && session.sameSite === "Strict", `an HttpOnly, SameSite=Strict session: ${JSON.stringify(session)}`);
  await flow.checkA11y(page, "console-home");
  return user;
}

/** The text of the `<dd>` after the `<dt>` named `term` on a console page. */
async function described(page, term) {
  return text(page.locator(`dt:text-is("${term}") + dd`));
}

/** A download's bytes. */
async function downloaded(download) {
  expect(!(await download.failure()), `the download completed: ${await download.failure()}`);
  return readFileSync(await download.path());
}

const flows = {
  /** A plain HTML form, no JavaScript: it posts and Steward sends the browser to the thank-you page. */
  async contact_without_javascript(flow) {
    const page = await flow.page({ javaScript: false });
    await page.goto(`${SITE}/contact`);
    await flow.shot(page, "contact-form");
    const email = `nojs-${randomUUID()}@example.com`;
    await fillPerson(page, email);
    await page.fill("#message", "Please call me back.");
    await Promise.all([page.waitForURL(`${SITE}/thanks/contact`), page.click("button[type=submit]")]);
    expect((await text(page.locator("h1"))) === "Thank you", "the thank-you page");
    await flow.shot(page, "thanks");

    // A browser whose script did not load: the form still posts, and Steward's own error page
    // names each field.
    const plain = await flow.page();
    await plain.route("**/steward-forms.js", (route) => route.abort());
    await plain.goto(`${SITE}/contact`);
    await plain.fill("#name", "Zoë");
    await plain.fill("#email", "not-an-email");
    await plain.fill("#message", "Hello");
    await Promise.all([plain.waitForURL(/\/forms\/contact-us/), plain.click("button[type=submit]")]);
    const alert = await text(plain.locator("[role=alert]"));
    expect(alert.includes("correct one field"), `the error page says what to do: ${alert}`);
    const problem = await text(plain.locator("#f-email-error"));
    expect(problem.startsWith("Email"), `the problem is beside its field, named by its label: ${problem}`);
    await flow.checkA11y(plain, "error-page");
    // Nothing typed is lost: the page is the form again, and sending it again goes through.
    expect((await plain.inputValue("#f-name")) === "Zoë", "the typed name is kept");
    expect((await plain.inputValue("#f-message")) === "Hello", "the typed message is kept");
    await plain.fill("#f-email", `again-${email}`);
    await Promise.all([plain.waitForURL(`${SITE}/thanks/contact`), plain.click("button[type=submit]")]);
    return { email };
  },

  /** Without JavaScript, the paid event and careers pages say before anyone types that the next
   *  step needs it, the forms still post, and the thank-you pages say plainly what is left to do. */
  async next_steps_without_javascript(flow) {
    const page = await flow.page({ javaScript: false });
    const email = `nojs-steps-${randomUUID()}@example.com`;
    await page.goto(`${SITE}/events/signup`);
    expect(await page.getByText("Paying needs JavaScript").isVisible(), "the event page says it before anyone types");
    await flow.shot(page, "event-signup-nojs");
    await page.selectOption("#event", "wso2con-2027");
    await fillPerson(page, email, { job: true });
    await page.selectOption("#country", "GB");
    await page.fill("#state", "GB-LND");
    await Promise.all([page.waitForURL(/\/thanks\/event/), page.click("button[type=submit]")]);
    expect(await page.getByText("Turn JavaScript on and reload this page").isVisible(), "the thank-you page says how to pay");
    await flow.shot(page, "event-thanks-nojs");

    await page.goto(`${SITE}/careers`);
    expect(await page.getByText("Attaching a CV needs JavaScript").isVisible(), "the careers page says it before anyone types");
    await page.selectOption("#position", "Rust engineer");
    await fillPerson(page, email);
    await page.selectOption("#country", "GB");
    await Promise.all([page.waitForURL(/\/thanks\/careers/), page.click("button[type=submit]")]);
    expect(await page.getByText("Your application is kept without a CV").isVisible(), "the thank-you page says what happened and what to do");
    await flow.shot(page, "careers-thanks-nojs");
    return { email };
  },

  /** With JavaScript: errors appear beside their fields, tied to them; then it goes through, with no reload. */
  async forms_with_javascript(flow) {
    const page = await flow.page();
    await page.goto(`${SITE}/`);
    await flow.checkA11y(page, "home");
    await page.goto(`${SITE}/privacy-policy`);
    await flow.checkA11y(page, "privacy-policy");
    for (const thanks of ["registration", "download", "contact", "newsletter", "careers", "event", "cloud", "survey"]) {
      await page.goto(`${SITE}/thanks/${thanks}`);
      await flow.checkA11y(page, `thanks-${thanks}`);
      // Opened by itself, a next-step page has nothing to continue: it says so, and where to start.
      if (["careers", "event", "cloud"].includes(thanks)) {
        const next = await text(page.locator("#next"));
        expect(next.startsWith("Nothing is waiting here"), `/thanks/${thanks} says what is true: ${next}`);
        expect(await page.locator("#next a").count() === 1, "with a link to its form");
      }
    }

    await page.goto(`${SITE}/contact`);
    await flow.checkA11y(page, "contact");
    await page.fill("#name", "Zoë");
    await page.fill("#email", "not-an-email");
    await page.click("button[type=submit]");
    const error = page.locator("#email-error");
    await error.waitFor();
    expect((await page.getAttribute("#email", "aria-invalid")) === "true", "the field is marked invalid");
    expect((await page.getAttribute("#email", "aria-describedby")).includes("email-error"), "the error describes the field");
    expect(await page.locator("#message-error").isVisible(), "every field's error at once");
    expect(await page.evaluate(() => document.activeElement.id === "email"), "the first invalid field has focus");
    await flow.checkA11y(page, "contact-errors");
    const email = `js-${randomUUID()}@example.com`;
    await page.fill("#email", email);
    await page.fill("#message", "Hello from a browser.");
    // The form carries Steward's proof of work, solved in the page.
    const posted = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === "/forms/contact-us");
    await page.click("button[type=submit]");
    await page.locator(".status.ok").waitFor();
    expect(new URLSearchParams((await posted).postData()).has("altcha"), "a solved challenge goes with the form");
    expect(page.url() === `${SITE}/contact`, "no page load");
    expect((await page.locator(".field-error").count()) === 0, "errors cleared");
    await flow.shot(page, "contact-sent");

    await page.goto(`${SITE}/register`);
    await flow.checkA11y(page, "register");
    await fillPerson(page, `reg-${randomUUID()}@example.com`);
    await page.selectOption("#country", "US");
    await page.fill("#state", "US-CA");
    await page.check("input[value=identity]");
    await page.click("button[type=submit]");
    await page.locator(".status.ok").waitFor();
    await flow.shot(page, "registered");

    await page.goto(`${SITE}/download`);
    await flow.checkA11y(page, "download");
    await page.fill("#name", "Zoë Ñúñez");
    await page.fill("#email", `dl-${randomUUID()}@example.com`);
    await page.fill("#company", "Acme");
    await page.selectOption("#country", "DE");
    await page.selectOption("#product", "api-manager");
    await page.click("button[type=submit]");
    await page.locator(".status.ok").waitFor();
    await flow.shot(page, "downloaded");
    return { email };
  },

  /** Careers: apply, and the CV goes straight to S3 with its progress shown. */
  async careers_cv_upload(flow) {
    const page = await flow.page();
    await page.goto(`${SITE}/careers`);
    await flow.checkA11y(page, "careers");
    const email = `cv-${randomUUID()}@example.com`;
    await page.selectOption("#position", "Rust engineer");
    await fillPerson(page, email);
    await page.selectOption("#country", "GB");
    await page.setInputFiles("#cv", CV);
    await page.click("button[type=submit]");
    const progress = page.locator("progress");
    await page.getByText("Your CV is checked and attached to your application").waitFor({ timeout: 60000 });
    expect((await progress.evaluate((p) => p.value)) === 100, "the progress reached the end");
    await flow.checkA11y(page, "cv-uploaded");

    // A program renamed cv.pdf: the page waits for the check and says it was refused, and why,
    // never that it is uploaded.
    const refused = await flow.page();
    await refused.goto(`${SITE}/careers`);
    await refused.selectOption("#position", "Rust engineer");
    await fillPerson(refused, `cv-refused-${randomUUID()}@example.com`);
    await refused.selectOption("#country", "GB");
    await refused.setInputFiles("#cv", PROGRAM);
    await refused.click("button[type=submit]");
    await refused.getByText("We could not accept this file").waitFor({ timeout: 60000 });
    expect(!(await refused.getByText("checked and attached").count()), "never said to be accepted");
    await flow.checkA11y(refused, "cv-refused");
    return { email };
  },

  /** A paid event: a declined test card, then an accepted one. */
  async event_payment(flow) {
    const page = await flow.page();
    await page.goto(`${SITE}/events/signup`);
    // Before anyone types, the page knows each event's seats: the two-seat workshop says how
    // many are left (or that it is sold out, and cannot be chosen).
    await page.waitForFunction(() => /seats? left|sold out/.test(document.querySelector('#event option[value="identity-workshop"]')?.textContent ?? ""));
    await flow.checkA11y(page, "event-signup");
    const email = `event-${randomUUID()}@example.com`;
    await page.selectOption("#event", "wso2con-2027");
    await fillPerson(page, email, { job: true });
    await page.selectOption("#country", "GB");
    await page.fill("#state", "GB-LND");
    await page.click("button[type=submit]");
    const card = page.locator("#test-card");
    await card.waitFor({ timeout: 30000 });
    await flow.checkA11y(page, "payment-step");
    await card.fill("4000 0000 0000 0002");
    await page.click("section.step button");
    await page.getByText("Your card was declined").waitFor({ timeout: 30000 });
    await flow.shot(page, "declined");
    await card.fill("4242 4242 4242 4242");
    await page.click("section.step button");
    await page.getByText("Payment received").waitFor({ timeout: 30000 });
    await flow.checkA11y(page, "paid");
    expect(await page.locator("form button[type=submit]").isDisabled(), "a registered form cannot register again");

    // Posted without the enhancement (as without JavaScript): the thank-you page carries the
    // payment on from its URL fragment.
    const plain = await flow.page();
    await plain.goto(`${SITE}/events/signup`);
    await plain.selectOption("#event", "wso2con-2027");
    await fillPerson(plain, `plain-${email}`, { job: true });
    await plain.selectOption("#country", "GB");
    await plain.fill("#state", "GB-LND");
    await Promise.all([plain.waitForURL(/\/thanks\/event#payment_token=/), plain.evaluate(() => HTMLFormElement.prototype.submit.call(document.querySelector("form")))]);
    await plain.locator("#test-card").waitFor({ timeout: 30000 });
    await flow.checkA11y(plain, "thanks-event-payment");
    await plain.click("section.step button");
    await plain.getByText("Payment received").waitFor({ timeout: 30000 });
    // Reloading the thank-you page after paying offers nothing to pay again.
    await plain.reload();
    await plain.getByText("This registration is paid").waitFor({ timeout: 30000 });
    expect((await plain.locator("#test-card").count()) === 0, "no card to enter for a paid registration");
    await flow.checkA11y(plain, "paid-reloaded");

    // A card whose bank asks its holder to confirm (3-D Secure): the bank's page, then back to
    // the thank-you page, which says the payment went through.
    const secure = await flow.page();
    await secure.goto(`${SITE}/events/signup`);
    await secure.selectOption("#event", "wso2con-2027");
    await fillPerson(secure, `3ds-${email}`, { job: true });
    await secure.selectOption("#country", "GB");
    await secure.fill("#state", "GB-LND");
    await secure.click("button[type=submit]");
    await secure.locator("#test-card").waitFor({ timeout: 30000 });
    expect((await text(secure.locator("section.step"))).includes("US$499.00"), "the price in the catalogue's currency");
    await secure.fill("#test-card", "4000 0025 0000 3155");
    await Promise.all([secure.waitForURL(/\/_local\/stripe\/authenticate\//), secure.click("section.step button")]);
    await flow.checkA11y(secure, "bank-confirmation");
    await Promise.all([secure.waitForURL(/redirect_status=succeeded/), secure.click("button[value=approve]")]);
    await secure.getByText("Payment received").waitFor({ timeout: 30000 });
    await flow.checkA11y(secure, "paid-after-authentication");
    return { email };
  },

  /** Newsletter with interests, confirmed from the link in the dev mailbox. */
  async newsletter_confirmed(flow) {
    const page = await flow.page();
    await page.goto(`${SITE}/newsletter`);
    await flow.checkA11y(page, "newsletter");
    const email = `news-${randomUUID()}@example.com`;
    await page.fill("#email", email);
    await page.check("input[value=cloud]");
    await page.check("input[value=events]");
    await page.click("button[type=submit]");
    await page.locator(".status.ok").waitFor();
    const confirm = await mailedLink(email, "onfirm", "/subscriptions/confirm?token=");
    await page.goto(confirm);
    await flow.checkA11y(page, "confirm-subscription");
    await page.click("button[type=submit]");
    await page.getByText("your subscription is confirmed").waitFor();
    await flow.checkA11y(page, "confirmed");
    return { email };
  },

  /** A German visitor on a browser set to English: the switch leads to the German site, and from
   *  there everything is German (errors and answers, with and without script, the mail and the
   *  page its link opens), whatever the browser asks for. */
  async german_journey(flow) {
    const page = await flow.page();
    await page.goto(`${SITE}/newsletter`);
    await Promise.all([page.waitForURL(`${SITE}/de/newsletter`), page.click("a[hreflang=de]")]);
    expect((await page.getAttribute("html", "lang")) === "de", "the German page says its language");
    await flow.checkA11y(page, "de-newsletter");
    await page.click("button[type=submit]");
    const problem = await text(page.locator(".field-error").first());
    expect(problem === "E-Mail ist erforderlich", `the problem in German, by the German label: ${problem}`);
    const email = `deutsch-${randomUUID()}@example.com`;
    await page.fill("#email", email);
    await page.check("input[value=events]");
    await page.click("button[type=submit]");
    const done = await text(page.locator(".status.ok"));
    expect(done.startsWith("Fast geschafft"), `the answer in German: ${done}`);
    const confirm = await mailedLink(email, "Abonnement", "/subscriptions/confirm?token=");
    await page.goto(confirm);
    expect((await text(page.locator("h1"))) === "Abonnement bestätigen", "the mail's page in German");
    await flow.checkA11y(page, "de-confirm-subscription");
    await page.click("button[type=submit]");
    await page.getByText("Ihr Abonnement ist bestätigt").waitFor();
    await flow.checkA11y(page, "de-confirmed");

    // Without script: the refused form comes back as a German form, and goes on to the German
    // thank-you page.
    const plain = await flow.page({ javaScript: false });
    await plain.goto(`${SITE}/de/contact`);
    await plain.fill("#name", "Zoë");
    await plain.fill("#email", "keine-adresse");
    await plain.fill("#message", "Hallo");
    await Promise.all([plain.waitForURL(/\/forms\/contact-us/), plain.click("button[type=submit]")]);
    const alert = await text(plain.locator("[role=alert]"));
    expect(alert.includes("Bitte korrigieren Sie das Feld"), `the error page in German: ${alert}`);
    expect((await plain.inputValue("#f-message")) === "Hallo", "what was typed is kept");
    await flow.shot(plain, "de-error-page");
    await plain.fill("#f-email", `nojs-${email}`);
    await Promise.all([plain.waitForURL(`${SITE}/de/thanks/contact`), plain.click("button[type=submit]")]);
    expect((await text(plain.locator("h1"))) === "Vielen Dank", "the German thank-you page");
    return { email };
  },

  /** One-click unsubscribe from the link in a campaign found in the dev mailbox. */
  async unsubscribe_from_mail(flow) {
    const email = process.env.STEWARD_EMAIL;
    const page = await flow.page();
    await page.goto(`${SITE}/_local/mailbox`);
    await flow.shot(page, "mailbox");
    const unsubscribe = await mailedLink(email, "News", "/unsubscribe?token=");
    await page.goto(unsubscribe);
    await flow.checkA11y(page, "unsubscribe");
    await page.click("button[type=submit]");
    await page.getByText("You are unsubscribed").waitFor();
    await flow.checkA11y(page, "unsubscribed");
    await page.goto(await mailedLink(email, "News", "/preferences?token="));
    await flow.checkA11y(page, "preferences");
    return { email };
  },

  /** The privacy center from the site: a link by mail, every right on one page, then erasure. */
  async privacy_center_erasure(flow) {
    const page = await flow.page();
    const email = `erase-${randomUUID()}@example.com`;
    await sendContactForm(page, email);

    await page.goto(`${SITE}/privacy-center`);
    await flow.checkA11y(page, "privacy-center-request");
    await page.fill("#email", email);
    await page.click("button[type=submit]");
    await page.locator(".status.ok").waitFor();
    const signIn = await mailedLink(email, "privacy center link", "/privacy/session?token=");
    // Steward's own Content-Security-Policy, not bypassed: its one stylesheet applies (allowed by
    // its hash), and no script is allowed.
    const strict = await (await flow.browser.newContext()).newPage();
    const blocked = [];
    strict.on("console", (m) => m.text().includes("Content Security Policy") && blocked.push(m.text()));
    await strict.goto(signIn);
    const styled = await strict.evaluate(() => getComputedStyle(document.querySelector("header")).borderBottomStyle);
    expect(styled === "solid", "the page's stylesheet applies under its CSP");
    expect(blocked.length === 0, `nothing blocked: ${blocked}`);
    const csp = (await strict.request.get(signIn)).headers()["content-security-policy"];
    expect(csp.includes("default-src 'none'") && !csp.includes("unsafe-inline") && csp.includes("frame-ancestors 'none'"), csp);
    await page.goto(signIn);
    await flow.checkA11y(page, "sign-in");
    await Promise.all([page.waitForURL(/\/me$/), page.click("button[type=submit]")]);
    expect((await page.content()).includes(email), "everything held is shown");
    await flow.checkA11y(page, "privacy-center");

    await page.fill("#f-phone", "12");
    await page.click("#correct button[type=submit]");
    await page.locator("#f-phone-error").waitFor();
    await flow.checkA11y(page, "correction-error");
    await page.fill("#f-phone", "+44 20 7946 0958");
    await page.fill("#f-name", "Zoë N.");
    await Promise.all([page.waitForURL(/done=corrected/), page.click("#correct button[type=submit]")]);
    await flow.checkA11y(page, "corrected");

    await Promise.all([page.waitForURL(/\/me\/delete/), page.click("text=Delete my data…")]);
    await flow.checkA11y(page, "confirm-erasure");
    await page.check("input[name=confirm]");
    await page.click("button[type=submit]");
    await page.getByText("Your data is deleted").first().waitFor();
    await flow.checkA11y(page, "erased");
    return { email };
  },

  /** The privacy team, in the staff console: a request received by mail is entered, the
   *  requester's identity verified, the person erased everywhere (which closes the request),
   *  the yearly report downloaded, and every step is in the audit log under their name. */
  async console_privacy_team(flow) {
    const visitor = await flow.page();
    const email = `console-erase-${randomUUID()}@example.com`;
    await sendContactForm(visitor, email);

    const page = await flow.page();
    const user = await signInToConsole(flow, page, "privacy");
    await Promise.all([page.waitForURL(`${API}/console/requests`), page.getByRole("link", { name: "Register of requests" }).click()]);
    await flow.checkA11y(page, "console-register");
    const today = new Date().toISOString().slice(0, 10);
    expect((await page.getByLabel("Received on").inputValue()) === today, "today's date is prefilled");
    await page.getByLabel("What they ask").selectOption("erasure");
    await page.getByLabel("Their law").selectOption("gdpr");
    await page.getByLabel("The address they wrote from").fill(email);
    await page.getByLabel("Note").fill("Letter of the 3rd, scanned in ticket 42");
    await Promise.all([page.waitForURL(/\/console\/requests\/[^/?#]+$/), page.getByRole("button", { name: "Enter the request" }).click()]);
    const at = page.url();
    const id = at.split("/").at(-1);
    expect((await text(page.locator("h1"))) === `Request ${id}`, "the request's own page");
    expect((await described(page, "Channel")) === "by mail", "entered as received by mail");
    expect((await described(page, "Requester")).includes("identity not verified"), "not verified yet");
    await flow.checkA11y(page, "console-request");

    await page.getByRole("button", { name: "Identity verified" }).click();
    const erase = page.getByRole("button", { name: "Erase them everywhere (closes the request)" });
    await erase.waitFor();
    expect(page.url() === at, "back on the request's page");
    expect((await described(page, "Requester")).includes("identity verified"), "verified");
    await flow.checkA11y(page, "console-request-verified");
    await erase.click();
    await page.locator('dt:text-is("Outcome")').waitFor();
    const state = await described(page, "State");
    const outcome = await described(page, "Outcome");
    expect(state === "Done", `the request is done: ${state}`);
    expect(outcome.startsWith("erased:"), `its outcome says what was erased: ${outcome}`);
    expect(!(await page.content()).includes(email), "the register keeps no address of an erased person");
    expect((await page.getByRole("button").filter({ hasText: /Erase|Identity verified|Close as done/ }).count()) === 0, "a closed request offers no action");
    await flow.checkA11y(page, "console-request-done");

    await Promise.all([page.waitForURL(`${API}/console/requests`), page.locator("nav.console").getByRole("link", { name: "Requests" }).click()]);
    const listed = await text(page.locator("tbody tr", { has: page.locator(`a[href="/console/requests/${id}"]`) }));
    expect(listed.includes("Done"), `the register lists it as done: ${listed}`);
    const year = today.slice(0, 4);
    const [report] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /^This year's report/ }).click()]);
    expect(report.suggestedFilename() === `requests-report-${year}.csv`, `the report's file: ${report.suggestedFilename()}`);
    const reportCsv = (await downloaded(report)).toString("utf8");
    const erasures = reportCsv.split("\r\n").find((l) => l.startsWith(`${year},erasure,`))?.split(",");
    expect(erasures && Number(erasures[2]) >= 1 && Number(erasures[3]) >= 1, `the report counts the erasure received and complied with: ${reportCsv}`);
    const [every] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /^Every request of this year/ }).click()]);
    const yearCsv = (await downloaded(every)).toString("utf8");
    expect(yearCsv.split("\r\n").some((l) => l.startsWith(id) && l.includes(",done,")), `the year's requests list it done: ${yearCsv}`);
    expect(!yearCsv.includes(email) && !reportCsv.includes(email), "no address in the reports");

    await Promise.all([page.waitForURL(/\/console\/audit$/), page.locator("nav.console").getByRole("link", { name: "Audit log" }).click()]);
    await flow.checkA11y(page, "console-audit-log");
    const rows = await page.locator("tbody tr").allInnerTexts();
    const actor = `staff:${user.email}`;
    const audited = {};
    for (const [action, subject] of [
      ["enter-request", id],
      ["request-verify", id],
      ["erase", null],
      ["request-erase", id],
      ["download-requests-report", year],
      ["download-requests-of-year", year],
    ]) {
      const found = rows.filter((r) => r.split("\t").map((c) => c.trim()).includes(action) && r.includes(actor) && (!subject || r.includes(subject)));
      expect(found.length, `the audit log lists ${action}${subject ? ` of ${subject}` : ""} by ${actor}`);
      audited[action] = found.length;
    }
    return { email, request: id, state, outcome, audited };
  },

  /** A recruiter, in the staff console: an applicant applied with a CV; the recruiter finds them
   *  by address and downloads the CV they sent, by a link that works for five minutes. */
  async console_recruiter(flow) {
    const applicant = await flow.page();
    const email = `console-cv-${randomUUID()}@example.com`;
    await applyWithCv(flow, applicant, email);

    const page = await flow.page();
    await signInToConsole(flow, page, "recruiting");
    await Promise.all([page.waitForURL(`${API}/console/applicants`), page.locator("nav.console").getByRole("link", { name: "Applicants" }).click()]);
    await flow.checkA11y(page, "console-applicants");
    await page.getByLabel("Search by address").fill(email);
    await Promise.all([page.waitForURL(/\/console\/applicants\?/), page.getByRole("button", { name: "Show", exact: true }).click()]);
    const count = await text(page.locator("p", { hasText: /in all, newest first/ }));
    expect(count.startsWith("1 in all"), `the search finds the one applicant: ${count}`);
    const row = page.locator("tbody tr", { hasText: email });
    const button = row.getByRole("button", { name: "Download CV" });
    for (let attempt = 0; !(await button.count()); attempt += 1) {
      expect(attempt < 50, "the verified CV gets its Download CV button");
      await new Promise((r) => setTimeout(r, 200));
      await page.reload();
    }
    await flow.checkA11y(page, "console-applicant-found");
    const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
    const bytes = await downloaded(download);
    expect(bytes.equals(readFileSync(CV)), `the file is the PDF the applicant uploaded (${bytes.length} bytes)`);
    const link = new URL(download.url());
    expect(link.origin !== new URL(API).origin, `the CV comes from S3, not through the console: ${link.origin}`);
    const expires = Number(link.searchParams.get("X-Amz-Expires"));
    expect(expires === 300, `the link works for five minutes: ${link}`);
    return { email, cv: { bytes: bytes.length, file: download.suggestedFilename(), expires_seconds: expires } };
  },

  /** An events manager, in the staff console: someone registered for the paid event and paid;
   *  the event's attendees list them with their payment's state. */
  async console_events_manager(flow) {
    const visitor = await flow.page();
    const email = `console-event-${randomUUID()}@example.com`;
    await registerAndPay(flow, visitor, email);

    const page = await flow.page();
    await signInToConsole(flow, page, "events");
    await Promise.all([page.waitForURL(`${API}/console/events`), page.locator("nav.console").getByRole("link", { name: "Events" }).click()]);
    await flow.checkA11y(page, "console-events");
    // The event's id may be percent-encoded in the link: its path is compared decoded.
    const eventPage = (url) => url.origin === API && decodeURIComponent(url.pathname) === "/console/events/wso2con-2027";
    await Promise.all([page.waitForURL(eventPage), page.getByRole("link", { name: "WSO2Con 2027" }).click()]);
    await flow.checkA11y(page, "console-attendees");
    await page.getByLabel("Search by address").fill(email);
    await Promise.all([page.waitForURL((url) => eventPage(url) && url.searchParams.get("email") === email), page.getByRole("button", { name: "Show", exact: true }).click()]);
    const row = page.locator("tbody tr", { hasText: email });
    let payment = "";
    for (let attempt = 0; ; attempt += 1) {
      const column = (await page.locator("thead th").allInnerTexts()).map((h) => h.trim()).indexOf("payment");
      if ((await row.count()) === 1 && column >= 0) payment = await text(row.locator("td").nth(column));
      if (payment === "succeeded") break;
      expect(attempt < 50, `the attendee's payment is shown as succeeded: "${payment}"`);
      await new Promise((r) => setTimeout(r, 200));
      await page.reload();
    }
    const summary = await text(page.locator("p", { hasText: /^Payment:/ }));
    expect(summary === "Payment: 1 succeeded.", `the summary counts it: ${summary}`);
    await flow.checkA11y(page, "console-attendee-found");
    return { email, payment, summary };
  },
};

const name = process.argv[2];
if (!flows[name]) {
  console.error(`unknown flow ${name}; flows: ${Object.keys(flows).join(", ")}`);
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
const flow = new Flow(name, browser);
try {
  const result = await flows[name](flow);
  console.log(`RESULT ${JSON.stringify({ ...result, accessibility: flow.checked })}`);
} catch (err) {
  const pages = flow.browser.contexts().flatMap((c) => c.pages());
  if (pages.length) await flow.shot(pages.at(-1), "failure").catch(() => {});
  console.error(err.stack ?? err);
  process.exitCode = 1;
} finally {
  await browser.close();
}
