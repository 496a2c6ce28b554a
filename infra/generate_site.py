"""Writes the reference site's pages (site/*.html): one header, footer and form vocabulary for
all of them, and the privacy policy page from the policy's Markdown. The output is plain HTML, meant
to be read and copied; run this again after changing the shared parts:

    python3 infra/generate_site.py [path/to/privacy-policy.md]
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
POLICY = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "privacy-policy.md"

import html
import tomllib, datetime
# Every word the site shows, per language: the site has each page in English at `/<page>` and in
# German at `/de/<page>`, with a switch between them on every page. Forms on a German page send
# `lang=de`, so Steward answers (pages, problems, mail) in German too.
WORDS={
"en":{"nav":["Register","Download","Contact us","Events","Cloud","Careers","Newsletter","Your data"],
 "site":"Steward reference site","site_nav":"Site","footer":"This is Steward's reference site: every form here posts straight to Steward.","policy":"Privacy policy","your_data":"See, export, correct or delete your data",
 "choose":"Choose…","optional":"(optional)","countries":["Australia","Brazil","Canada","Germany","France","India","Sri Lanka","Netherlands","Sweden","United Kingdom","United States"],
 "name":"Name","email":"Email","phone":"Phone","phone_hint":"with the country code, such as +44 20 7946 0958","job_title":"Job title","company":"Company","country":"Country","state":"State or region","state_hint":"ISO 3166-2 code, such as US-CA or GB-LND",
 "news":"Send me news about (optional)","news_required":"Send me news about","leave_empty":"Leave this empty","see_policy":'See our <a href="{policy}">privacy policy</a>.',
 "months":["January","February","March","April","May","June","July","August","September","October","November","December"],
 "a_month":"a month","a_year":"a year",
 "noscript_pay":"Paying needs JavaScript, which is off in this browser: your card details go from it straight to our payment provider. You can register now; the next page says how to pay once JavaScript is on.",
 "noscript_cv_next":"Attaching your CV needs JavaScript, which is off in this browser. Your application is kept without a CV. To attach one, turn JavaScript on and reload this page within the hour.",
 "noscript_pay_next":"Paying needs JavaScript, which is off in this browser: your card details go from it straight to our payment provider, never to us. Turn JavaScript on and reload this page within a day to pay. Nothing is charged until you pay; an event&rsquo;s seat is held from when the payment step opens.",
 "noscript_cv":"Attaching a CV needs JavaScript, which is off in this browser. You can still apply: the next page says how to attach your CV once JavaScript is on.",
 "register":("Create your account","An account lets us run your profile and send you what you ask for.","Create my account","Thank you: your account is created.","We use these details to run your account and, only if you tick topics, to send you news about them (you confirm by email first)."),
 "download":("Download a product","Tell us who you are and we send you the download.","Download","Thank you: your download link is on its way.","We use these details to give you the download and to understand how our products are used."),
 "product":"Product",
 "contact":("Contact us","Ask us anything; an account manager gets back to you.","Send","Thank you: we will be in touch.","We use these details only to answer you."),
 "your_message":"Your message",
 "event_form":("Register for an event","Seats are limited; you pay by card once you are registered. Your card details go to our payment provider, never to us.","Register and pay","You are registered.","We use these details to register you and run the event."),
 "event":"Event",
 "cloud":("Sign up for WSO2 Cloud","Choose a plan; you pay by card once you have signed up, and you can cancel at any time. Your card details go to our payment provider, never to us.","Sign up and pay","You are signed up.","We use these details to provide and bill your subscription and to send you important updates about it."),
 "plan":"Plan",
 "careers":("Apply for a position","Your CV goes straight to a private store, is checked, and is kept only as long as your application.","Apply","Thank you: your application is in.","We use these details to consider your application."),
 "position":"Position","positions":[("Rust engineer","Rust engineer"),("Technical writer","Technical writer")],"your_cv":"Your CV","cv_hint":"PDF, Word or RTF, up to 5 MB","anything_else":"Anything else?","openings":"Tell me about future openings (optional)",
 "newsletter":("Subscribe to our newsletter","Choose what you want to hear about. We send a confirmation first: nothing arrives until you confirm.","Subscribe","Almost done: check your email to confirm.","Every message has a one-click unsubscribe link."),
 "center":("Your data","See everything we hold about you, take it with you, correct it, limit its use or delete it. We email you a sign-in link that works once, for 15 minutes.","Email me a sign-in link","If we know this address, a sign-in link is on its way."),
 "index":"This small site shows how a company website wires its forms to Steward. Each page is plain HTML that works without JavaScript; <code>/assets/steward-forms.js</code> only makes it nicer.",
 "index_center":"Your data (the privacy center)","mailbox":"The dev mailbox","local_only":"(local only)",
 "thanks":{"registration":("Welcome","Your account is created. If you ticked topics, check your email to confirm them."),
  "download":("Your download","Thank you. Your download link is on its way."),
  "contact":("Thank you","We received your message and will be in touch."),
  "newsletter":("Check your email","We sent you a confirmation link: nothing arrives until you confirm."),
  "event":("You are registered","One step left: the payment."),
  "careers":("Your application is in","One step left: your CV."),
  "cloud":("Welcome to WSO2 Cloud","One step left: the payment."),
  "survey":("Thank you","Your answers are in.")},
 "policy_note":"",
},
"de":{"nav":["Registrieren","Download","Kontakt","Veranstaltungen","Cloud","Karriere","Newsletter","Ihre Daten"],
 "site":"Steward-Referenzwebsite","site_nav":"Website","footer":"Dies ist die Referenzwebsite von Steward: Jedes Formular hier sendet direkt an Steward.","policy":"Datenschutzerklärung","your_data":"Ihre Daten einsehen, exportieren, berichtigen oder löschen",
 "choose":"Bitte wählen…","optional":"(optional)","countries":["Australien","Brasilien","Kanada","Deutschland","Frankreich","Indien","Sri Lanka","Niederlande","Schweden","Vereinigtes Königreich","Vereinigte Staaten"],
 "name":"Name","email":"E-Mail","phone":"Telefon","phone_hint":"mit Ländervorwahl, etwa +49 30 1234567","job_title":"Position im Unternehmen","company":"Unternehmen","country":"Land","state":"Bundesland oder Region","state_hint":"Code nach ISO 3166-2, etwa DE-BY oder US-CA",
 "news":"Neuigkeiten erhalten zu diesen Themen (optional)","news_required":"Neuigkeiten erhalten zu diesen Themen","leave_empty":"Leer lassen","see_policy":'Siehe unsere <a href="{policy}">Datenschutzerklärung</a>.',
 "months":["Januar","Februar","März","April","Mai","Juni","Juli","August","September","Oktober","November","Dezember"],
 "a_month":"pro Monat","a_year":"pro Jahr",
 "noscript_pay":"Zum Bezahlen braucht es JavaScript, das in diesem Browser ausgeschaltet ist: Ihre Kartendaten gehen von dort direkt an unseren Zahlungsdienstleister. Sie können sich jetzt anmelden; die nächste Seite sagt, wie Sie bezahlen, sobald JavaScript eingeschaltet ist.",
 "noscript_cv_next":"Zum Anhängen Ihres Lebenslaufs braucht es JavaScript, das in diesem Browser ausgeschaltet ist. Ihre Bewerbung bleibt ohne Lebenslauf erhalten. Um einen anzuhängen, schalten Sie JavaScript ein und laden Sie diese Seite innerhalb einer Stunde neu.",
 "noscript_pay_next":"Zum Bezahlen braucht es JavaScript, das in diesem Browser ausgeschaltet ist: Ihre Kartendaten gehen von dort direkt an unseren Zahlungsdienstleister, nie an uns. Schalten Sie JavaScript ein und laden Sie diese Seite innerhalb eines Tages neu, um zu bezahlen. Berechnet wird erst, wenn Sie bezahlen; der Platz einer Veranstaltung ist reserviert, sobald der Zahlungsschritt öffnet.",
 "noscript_cv":"Zum Anhängen eines Lebenslaufs braucht es JavaScript, das in diesem Browser ausgeschaltet ist. Sie können sich trotzdem bewerben: Die nächste Seite sagt, wie Sie Ihren Lebenslauf anhängen, sobald JavaScript eingeschaltet ist.",
 "register":("Konto anlegen","Mit einem Konto führen wir Ihr Profil und senden Ihnen, was Sie anfordern.","Mein Konto anlegen","Vielen Dank: Ihr Konto ist angelegt.","Wir verwenden diese Angaben, um Ihr Konto zu führen und, nur wenn Sie Themen ankreuzen, Ihnen Neuigkeiten dazu zu senden (Sie bestätigen zuerst per E-Mail)."),
 "download":("Ein Produkt herunterladen","Sagen Sie uns, wer Sie sind, und wir senden Ihnen den Download.","Herunterladen","Vielen Dank: Ihr Download-Link ist unterwegs.","Wir verwenden diese Angaben, um Ihnen den Download zu geben und zu verstehen, wie unsere Produkte genutzt werden."),
 "product":"Produkt",
 "contact":("Kontakt","Fragen Sie uns alles; ein Account Manager meldet sich bei Ihnen.","Senden","Vielen Dank: Wir melden uns.","Wir verwenden diese Angaben nur, um Ihnen zu antworten."),
 "your_message":"Ihre Nachricht",
 "event_form":("Für eine Veranstaltung anmelden","Die Plätze sind begrenzt; Sie bezahlen per Karte, sobald Sie angemeldet sind. Ihre Kartendaten gehen an unseren Zahlungsdienstleister, nie an uns.","Anmelden und bezahlen","Sie sind angemeldet.","Wir verwenden diese Angaben, um Sie anzumelden und die Veranstaltung durchzuführen."),
 "event":"Veranstaltung",
 "cloud":("Für WSO2 Cloud registrieren","Wählen Sie einen Tarif; Sie bezahlen per Karte, sobald Sie sich registriert haben, und können jederzeit kündigen. Ihre Kartendaten gehen an unseren Zahlungsdienstleister, nie an uns.","Registrieren und bezahlen","Sie sind registriert.","Wir verwenden diese Angaben, um Ihr Abonnement bereitzustellen und abzurechnen und Ihnen wichtige Neuigkeiten dazu zu senden."),
 "plan":"Tarif",
 "careers":("Auf eine Stelle bewerben","Ihr Lebenslauf geht direkt in einen privaten Speicher, wird geprüft und nur so lange aufbewahrt wie Ihre Bewerbung.","Bewerben","Vielen Dank: Ihre Bewerbung ist eingegangen.","Wir verwenden diese Angaben, um Ihre Bewerbung zu prüfen."),
 "position":"Stelle","positions":[("Rust engineer","Rust-Entwickler/in"),("Technical writer","Technische/r Redakteur/in")],"your_cv":"Ihr Lebenslauf","cv_hint":"PDF, Word oder RTF, bis 5 MB","anything_else":"Noch etwas?","openings":"Informieren Sie mich über künftige Stellen (optional)",
 "newsletter":("Newsletter abonnieren","Wählen Sie, worüber Sie hören möchten. Wir senden zuerst eine Bestätigung: Nichts kommt an, bevor Sie bestätigen.","Abonnieren","Fast geschafft: Bitte bestätigen Sie in Ihrem Postfach.","Jede Nachricht hat einen Link, mit dem Sie sich mit einem Klick abmelden."),
 "center":("Ihre Daten","Sehen Sie alles, was wir über Sie speichern, nehmen Sie es mit, berichtigen Sie es, schränken Sie seine Nutzung ein oder löschen Sie es. Wir senden Ihnen einen Anmeldelink, der einmal funktioniert, 15 Minuten lang.","Mir einen Anmeldelink senden","Wenn wir diese Adresse kennen, ist ein Anmeldelink unterwegs."),
 "index":"Diese kleine Website zeigt, wie eine Unternehmenswebsite ihre Formulare mit Steward verbindet. Jede Seite ist einfaches HTML, das ohne JavaScript funktioniert; <code>/assets/steward-forms.js</code> macht sie nur angenehmer.",
 "index_center":"Ihre Daten (das Datenschutzcenter)","mailbox":"Das Entwicklungs-Postfach","local_only":"(nur lokal)",
 "thanks":{"registration":("Willkommen","Ihr Konto ist angelegt. Wenn Sie Themen angekreuzt haben, bestätigen Sie diese bitte in Ihrem Postfach."),
  "download":("Ihr Download","Vielen Dank. Ihr Download-Link ist unterwegs."),
  "contact":("Vielen Dank","Wir haben Ihre Nachricht erhalten und melden uns."),
  "newsletter":("Sehen Sie in Ihr Postfach","Wir haben Ihnen einen Bestätigungslink gesendet: Nichts kommt an, bevor Sie bestätigen."),
  "event":("Sie sind angemeldet","Ein Schritt fehlt noch: die Zahlung."),
  "careers":("Ihre Bewerbung ist eingegangen","Ein Schritt fehlt noch: Ihr Lebenslauf."),
  "cloud":("Willkommen bei WSO2 Cloud","Ein Schritt fehlt noch: die Zahlung."),
  "survey":("Vielen Dank","Ihre Antworten sind eingegangen.")},
 "policy_note":"<p lang=\"de\"><em>Die Datenschutzerklärung liegt nur auf Englisch vor; sie ist die maßgebliche Fassung.</em></p>",
},
}
LANGS=list(WORDS)
OWN_NAME={"en":"English","de":"Deutsch"}
COUNTRY_CODES=["AU","BR","CA","DE","FR","IN","LK","NL","SE","GB","US"]
NAV_PATHS=["/register","/download","/contact","/events/signup","/cloud","/careers","/newsletter","/privacy-center"]
CUR=' aria-current="page"'
CATALOGUE=tomllib.loads((ROOT/"crates"/"steward-core"/"payments.toml").read_text())
# The topics as the form catalogue names them (English); other languages by catalogue.ftl.
TOPICS=tomllib.loads((ROOT/"crates"/"steward-core"/"forms.toml").read_text())["topics"]
# The catalogue's names in German, as Steward's pages use them (crates/steward-core/locales).
def catalogue_words(lang):
    if lang=="en": return {}
    out={}
    for line in (ROOT/"crates"/"steward-core"/"locales"/lang/"catalogue.ftl").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key,value=line.split("=",1); out[key.strip()]=value.strip()
    return out
ZERO_DECIMAL={"JPY","KRW","VND","CLP","ISK"}
SYMBOLS={"GBP":"£","EUR":"€","USD":"US$","JPY":"¥","INR":"₹"}
TODAY=datetime.datetime.now(datetime.timezone.utc).date()
def day(text): return datetime.date.fromisoformat(text)

def build(lang):
    W=WORDS[lang]; pre="" if lang=="en" else f"/{lang}"
    names=catalogue_words(lang)
    nav=list(zip([pre+p for p in NAV_PATHS],W["nav"]))
    def page(path,title,body,script=None):
        links="".join(f'<li><a href="{h}"{CUR if h==path else ""}>{t}</a></li>' for h,t in nav)
        src = {None: "/assets/steward-forms.js", "thanks": "/assets/thanks.js", "none": None}[script]
        js = f'\n<script type="module" src="{src}"></script>' if src else ""
        meta = '\n<!-- The Steward API\'s origin; empty means this site\'s own. -->\n<meta name="steward-api" content="">' if script == "thanks" else ""
        bare=(path[len(pre):] if pre and path.startswith(pre) else path) or "/"
        switch=" · ".join(f'<a href="{("" if other=="en" else "/"+other)+(bare if bare!="/" else ("/" if other=="en" else ""))}" hreflang="{other}" lang="{other}">{OWN_NAME[other]}</a>' for other in LANGS if other!=lang)
        return f'''<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · WSO2 ({W["site"]})</title>
<link rel="stylesheet" href="/assets/site.css">{meta}
</head>
<body>
<header><a class="brand" href="{pre or "/"}">WSO2</a><nav aria-label="{W["site_nav"]}"><ul>{links}</ul></nav></header>
<main>
<h1>{html.escape(title)}</h1>
{body}
</main>
<footer><p>{W["footer"]} <a href="{pre}/privacy-policy">{W["policy"]}</a> · <a href="{pre}/privacy-center">{W["your_data"]}</a></p><p>{switch}</p></footer>{js}
</body>
</html>
'''
    opt_hint=f' <span class="hint">{W["optional"]}</span>'
    def text(name,label,required=False,kind="text",auto="",hint=""):
        req=" required" if required else ""
        h=f' <span class="hint">{hint}</span>' if hint else ""
        opt="" if required else opt_hint
        a=f' autocomplete="{auto}"' if auto else ""
        return f'<label for="{name}">{label}{opt}{h}</label><input id="{name}" name="{name}" type="{kind}"{a}{req}>\n'
    def country(required=False):
        opts="".join(f'<option value="{c}">{n}</option>' for c,n in [("",W["choose"])]+list(zip(COUNTRY_CODES,W["countries"])))
        opt="" if required else opt_hint
        return f'<label for="country">{W["country"]}{opt}</label><select id="country" name="country" autocomplete="country"{" required" if required else ""}>{opts}</select>\n'
    def state(required=False):
        return text("state",W["state"],required,hint=W["state_hint"])
    def interests(topics,legend=None):
        boxes="".join(f'<label><input type="checkbox" name="interests" value="{t}"> {names.get(f"topic-{t}",TOPICS[t])}</label>' for t in topics)
        return f'<fieldset><legend>{legend or W["news"]}</legend>{boxes}</fieldset>\n'
    def choice(name,label,options):
        opts="".join(f'<option value="{html.escape(v)}">{html.escape(n)}</option>' for v,n in [("",W["choose"])]+options)
        return f'<label for="{name}">{label}</label><select id="{name}" name="{name}" required>{opts}</select>\n'
    honey=f'<div class="honeypot" aria-hidden="true"><label for="website">{W["leave_empty"]}</label><input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>\n<input type="hidden" name="_submission_id" value="">\n'
    # Every form names its page's language: Steward answers in it, whatever an earlier visit left
    # in its language cookie.
    query=f"?lang={lang}"
    def form(action,fields,button,thanks,consent):
        see=W["see_policy"].format(policy=f"{pre}/privacy-policy")
        return f'''<form action="{action}{query}" method="post" data-steward data-thanks="{html.escape(thanks)}" novalidate>
{honey}{fields}<p class="consent">{consent} {see}</p>
<button type="submit">{button}</button>
<div data-status class="status" role="status" aria-live="polite"></div>
</form>'''
    name=text("name",W["name"],True,auto="name"); email=text("email",W["email"],True,"email","email")
    phone_opt=text("phone",W["phone"],False,"tel","tel",hint=W["phone_hint"])
    phone_req=text("phone",W["phone"],True,"tel","tel",hint=W["phone_hint"])
    job_opt=text("job_title",W["job_title"],False,auto="organization-title"); job_req=text("job_title",W["job_title"],True,auto="organization-title")
    co_opt=text("company",W["company"],False,auto="organization"); co_req=text("company",W["company"],True,auto="organization")
    # What is sold, its dates, prices and currency: from the payment catalogue that charges them,
    # in the words Steward's own pages use (steward_core::domain::payments::catalogue,
    # `Offer::label`; tests/template.rs checks that the two agree, in every language). Events that
    # have started are left out; Steward refuses them anyway, so a page generated earlier cannot
    # sell one.
    def money(minor,currency):
        code=currency.upper()
        if code in ZERO_DECIMAL: amount=str(minor)
        else: amount=f"{minor//100}{'.' if lang=='en' else ','}{minor%100:02d}"
        symbol=SYMBOLS.get(code,code+" ")
        return (f"{symbol}{amount}" if lang=="en" else f"{amount}\u00a0{symbol.strip()}").strip()
    def words(d): return f"{d.day} {W['months'][d.month-1]} {d.year}" if lang=="en" else f"{d.day}. {W['months'][d.month-1]} {d.year}"
    def dates(event):
        starts,ends=day(event["starts"]),day(event["ends"])
        if starts==ends: return words(starts)
        if (starts.year,starts.month)==(ends.year,ends.month): return f"{starts.day}{'' if lang=='en' else '.'}–{words(ends)}"
        return f"{words(starts)} – {words(ends)}"
    events_on_sale=[(id_,f'{names.get(f"event-{id_}-title",e["title"])}, {dates(e)} ({money(e["price"],e["currency"])})') for id_,e in CATALOGUE["events"].items() if day(e["starts"])>TODAY]
    plans=[(id_,f'{names.get(f"plan-{id_}-title",p["title"])} ({money(p["amount"],p["currency"])} {W["a_"+p["interval"]]})') for id_,p in CATALOGUE["plans"].items()]
    pages={}
    # Without JavaScript a form still posts, but its next step (a card payment, a CV upload)
    # cannot run: each page says so plainly, before anyone types and once they have sent it. The
    # notes are plain paragraphs that the script removes as it starts (`data-without-script`), so
    # a browser whose script failed to load is told too, which <noscript> would not do.
    noscript_pay=f'<p class="hint" data-without-script>{W["noscript_pay"]}</p>'
    noscript_next={"cv":f'<p class="status error" data-without-script>{W["noscript_cv_next"]}</p>',
                   "payment":f'<p class="status error" data-without-script>{W["noscript_pay_next"]}</p>'}
    def simple(key,path,action,fields,intro_extra=""):
        title,intro,button,thanks,consent=W[key]
        return page(pre+path,title,f"<p>{intro}</p>"+intro_extra+form(action,fields,button,thanks,consent))
    pages["register.html"]=simple("register","/register","/forms/registration",name+email+phone_opt+job_opt+co_opt+country()+state()+interests(["api-management","integration","identity","cloud","events"]))
    pages["download.html"]=simple("download","/download","/forms/product-download",name+email+co_req+job_opt+country(True)+state()+choice("product",W["product"],[("api-manager","API Manager"),("identity-server","Identity Server"),("micro-integrator","Micro Integrator"),("streaming-integrator","Streaming Integrator")])+interests(["api-management","integration","identity"]))
    pages["contact.html"]=simple("contact","/contact","/forms/contact-us",name+email+phone_opt+job_opt+co_opt+country()+state()+f'<label for="message">{W["your_message"]}</label><textarea id="message" name="message" required></textarea>\n')
    pages["events/signup.html"]=simple("event_form","/events/signup","/forms/event-registration",choice("event",W["event"],events_on_sale)+name+email+phone_req+job_req+co_req+country(True)+state(True)+interests(["events","api-management","integration","identity"]),noscript_pay)
    pages["cloud.html"]=simple("cloud","/cloud","/forms/cloud-signup",choice("plan",W["plan"],plans)+name+email+phone_req+job_req+co_req+country(True)+state(True)+interests(["cloud","api-management","integration","identity"]),noscript_pay)
    pages["careers.html"]=simple("careers","/careers","/forms/careers",choice("position",W["position"],W["positions"])+name+email+phone_req+country(True)+state()+f'<p class="hint" data-without-script>{W["noscript_cv"]}</p><label for="cv">{W["your_cv"]} <span class="hint">{W["cv_hint"]}</span></label><input id="cv" type="file" accept=".pdf,.doc,.docx,.rtf,application/pdf,application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/rtf">\n<label for="message">{W["anything_else"]} <span class="hint">{W["optional"]}</span></label><textarea id="message" name="message"></textarea>\n'+interests(["careers"],W["openings"]))
    pages["newsletter.html"]=simple("newsletter","/newsletter","/forms/newsletter",email+text("name",W["name"],False,auto="name")+interests(["api-management","integration","identity","cloud","events","careers"],W["news_required"]))
    title,intro,button,thanks=W["center"]
    pages["privacy-center.html"]=page(pre+"/privacy-center",title,f"<p>{intro}</p>"+f'''<form action="/privacy/link{query}" method="post" data-steward data-thanks="{thanks}" novalidate>
{email}<button type="submit">{button}</button>
<div data-status class="status" role="status" aria-live="polite"></div>
</form>''')
    pages["index.html"]=page(pre or "/",W["site"],f"<p>{W['index']}</p><ul>"+"".join(f'<li><a href="{h}">{t}</a></li>' for h,t in nav[:-1])+f'<li><a href="{pre}/privacy-center">{W["index_center"]}</a></li><li><a href="{pre}/privacy-policy">{W["policy"]}</a></li><li><a href="/_local/mailbox">{W["mailbox"]}</a> {W["local_only"]}</li></ul>')
    steps={"event":"payment","careers":"cv","cloud":"payment"}
    for slug,(title,text_) in W["thanks"].items():
        script=None
        start={"event":"/events/signup","careers":"/careers","cloud":"/cloud"}.get(slug)
        body=f'<p id="next" data-start="{pre}{start}">{text_}</p>' if start else f'<p id="next">{text_}</p>'
        if slug in steps:
            body+=noscript_next[steps[slug]]
            script="thanks"
        pages[f"thanks/{slug}.html"]=page(f"{pre}/thanks/{slug}",title,body,script)
    policy_body="\n".join(POLICY_HTML) if lang=="en" else f'<div lang="en">\n'+"\n".join(POLICY_HTML)+"\n</div>"
    pages["privacy-policy.html"]=page(pre+"/privacy-policy",W["policy"],W["policy_note"]+policy_body,script="none")
    return {(p if lang=="en" else f"{lang}/{p}"):c for p,c in pages.items()}
# The policy, from its Markdown.
import re
md=open(POLICY).read()
md=md.split("---",1)[1]
out=[]; inlist=False
def inline(s):
    s=html.escape(s,quote=False)
    s=re.sub(r"\[([^\]]+)\]\(([^)]+)\)",lambda m:f'<a href="{m.group(2)}">{m.group(1)}</a>',s)
    # Markdown's autolinks (<https://...>): a link the reader follows, not text to copy.
    s=re.sub(r"&lt;(https://[^\s&]+)&gt;",r'<a href="\1">\1</a>',s)
    s=re.sub(r"\*\*([^*]+)\*\*",r"<strong>\1</strong>",s)
    s=re.sub(r"(?<!\w)\*([^*]+)\*(?!\w)",r"<em>\1</em>",s)
    return s
for line in md.splitlines():
    l=line.strip()
    if l.startswith("* "):
        if not inlist: out.append("<ul>"); inlist=True
        out.append(f"<li>{inline(l[2:])}</li>"); continue
    if inlist and l: out.append("</ul>"); inlist=False
    if not l or l.startswith(">"): continue
    m=re.match(r"(#+)\s*(.*)",l)
    if m:
        level=max(2,min(len(m.group(1))-1,4))
        text_=m.group(2).strip()
        if text_.lower()=="privacy-policy": continue
        out.append(f"<h{level}>{inline(text_.title() if text_.isupper() else text_)}</h{level}>"); continue
    out.append(f"<p>{inline(l)}</p>")
if inlist: out.append("</ul>")
POLICY_HTML=out
pages={}
for lang in LANGS:
    pages.update(build(lang))
for p,c in pages.items():
    (SITE / p).parent.mkdir(parents=True, exist_ok=True)
    (SITE / p).write_text(c)
print(f"{len(pages)} pages written to {SITE}")
