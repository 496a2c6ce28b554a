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
NAV=[("/register","Register"),("/download","Download"),("/contact","Contact us"),("/events/signup","Events"),("/cloud","Cloud"),("/careers","Careers"),("/newsletter","Newsletter"),("/privacy-center","Your data")]
CUR=' aria-current="page"'
def page(path,title,body,script=None):
    nav="".join(f'<li><a href="{h}"{CUR if h==path else ""}>{t}</a></li>' for h,t in NAV)
    src = {None: "/assets/steward-forms.js", "thanks": "/assets/thanks.js", "none": None}[script]
    js = f'\n<script type="module" src="{src}"></script>' if src else ""
    meta = '\n<!-- The Steward API\'s origin; empty means this site\'s own. -->\n<meta name="steward-api" content="">' if script == "thanks" else ""
    return f'''<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · WSO2 (Steward reference site)</title>
<link rel="stylesheet" href="/assets/site.css">{meta}
</head>
<body>
<header><a class="brand" href="/">WSO2</a><nav aria-label="Site"><ul>{nav}</ul></nav></header>
<main>
<h1>{html.escape(title)}</h1>
{body}
</main>
<footer><p>This is Steward's reference site: every form here posts straight to Steward. <a href="/privacy-policy">Privacy policy</a> · <a href="/privacy-center">See, export, correct or delete your data</a></p></footer>{js}
</body>
</html>
'''
COUNTRIES=[("","Choose…"),("AU","Australia"),("BR","Brazil"),("CA","Canada"),("DE","Germany"),("FR","France"),("IN","India"),("LK","Sri Lanka"),("NL","Netherlands"),("SE","Sweden"),("GB","United Kingdom"),("US","United States")]
TOPICS={"api-management":"API management","integration":"Integration","identity":"Identity and access management","cloud":"WSO2 Cloud","events":"Events and workshops","careers":"Careers updates"}
def text(name,label,required=False,kind="text",auto="",hint=""):
    req=" required" if required else ""
    h=f' <span class="hint">{hint}</span>' if hint else ""
    opt="" if required else ' <span class="hint">(optional)</span>'
    a=f' autocomplete="{auto}"' if auto else ""
    return f'<label for="{name}">{label}{opt}{h}</label><input id="{name}" name="{name}" type="{kind}"{a}{req}>\n'
def country(required=False):
    opts="".join(f'<option value="{c}">{n}</option>' for c,n in COUNTRIES)
    opt="" if required else ' <span class="hint">(optional)</span>'
    return f'<label for="country">Country{opt}</label><select id="country" name="country" autocomplete="country"{" required" if required else ""}>{opts}</select>\n'
def state(required=False):
    return text("state","State or region",required,hint="ISO 3166-2 code, such as US-CA or GB-LND")
def interests(topics,legend="Send me news about (optional)"):
    boxes="".join(f'<label><input type="checkbox" name="interests" value="{t}"> {TOPICS[t]}</label>' for t in topics)
    return f'<fieldset><legend>{legend}</legend>{boxes}</fieldset>\n'
def choice(name,label,options):
    opts="".join(f'<option value="{html.escape(v)}">{html.escape(n)}</option>' for v,n in [("","Choose…")]+options)
    return f'<label for="{name}">{label}</label><select id="{name}" name="{name}" required>{opts}</select>\n'
HONEY='<div class="honeypot" aria-hidden="true"><label for="website">Leave this empty</label><input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>\n<input type="hidden" name="_submission_id" value="">\n'
def form(action,fields,button,thanks,consent):
    return f'''<form action="{action}" method="post" data-steward data-thanks="{html.escape(thanks)}" novalidate>
{HONEY}{fields}<p class="consent">{consent} See our <a href="/privacy-policy">privacy policy</a>.</p>
<button type="submit">{button}</button>
<div data-status class="status" role="status" aria-live="polite"></div>
</form>'''
name=text("name","Name",True,auto="name"); email=text("email","Email",True,"email","email")
phone_opt=text("phone","Phone",False,"tel","tel",hint="with the country code, such as +44 20 7946 0958")
phone_req=text("phone","Phone",True,"tel","tel",hint="with the country code, such as +44 20 7946 0958")
job_opt=text("job_title","Job title",False,auto="organization-title"); job_req=text("job_title","Job title",True,auto="organization-title")
co_opt=text("company","Company",False,auto="organization"); co_req=text("company","Company",True,auto="organization")
# What is sold, its dates, prices and currency: from the payment catalogue that charges them, in
# the words Steward's own pages use (steward_core::domain::payments::catalogue, `Offer::label`;
# tests/template.rs checks that the two agree). Events that have started are left out; Steward refuses
# them anyway, so a page generated earlier cannot sell one.
import tomllib, datetime
CATALOGUE=tomllib.loads((ROOT/"crates"/"steward-core"/"payments.toml").read_text())
ZERO_DECIMAL={"JPY","KRW","VND","CLP","ISK"}
SYMBOLS={"GBP":"£","EUR":"€","USD":"US$","JPY":"¥","INR":"₹"}
def money(minor,currency):
    code=currency.upper()
    amount=str(minor) if code in ZERO_DECIMAL else f"{minor//100}.{minor%100:02d}"
    return f"{SYMBOLS[code]}{amount}" if code in SYMBOLS else f"{code} {amount}"
def day(text): return datetime.date.fromisoformat(text)
def words(d): return f"{d.day} {d.strftime('%B')} {d.year}"
def dates(event):
    starts,ends=day(event["starts"]),day(event["ends"])
    if starts==ends: return words(starts)
    if (starts.year,starts.month)==(ends.year,ends.month): return f"{starts.day}–{words(ends)}"
    return f"{words(starts)} – {words(ends)}"
TODAY=datetime.datetime.now(datetime.timezone.utc).date()
EVENTS_ON_SALE=[(id_,f'{e["title"]}, {dates(e)} ({money(e["price"],e["currency"])})') for id_,e in CATALOGUE["events"].items() if day(e["starts"])>TODAY]
PLANS=[(id_,f'{p["title"]} ({money(p["amount"],p["currency"])} a {p["interval"]})') for id_,p in CATALOGUE["plans"].items()]
pages={}
# Without JavaScript a form still posts, but its next step (a card payment, a CV upload) cannot
# run: each page says so plainly, before anyone types and once they have sent it. The notes are
# plain paragraphs that the script removes as it starts (`data-without-script`), so a browser
# whose script failed to load is told too, which <noscript> would not do.
NOSCRIPT_PAY='<p class="hint" data-without-script>Paying needs JavaScript, which is off in this browser: your card details go from it straight to our payment provider. You can register now; the next page says how to pay once JavaScript is on.</p>'
NOSCRIPT_NEXT={
"cv":'<p class="status error" data-without-script>Attaching your CV needs JavaScript, which is off in this browser. Your application is kept without a CV. To attach one, turn JavaScript on and reload this page within the hour.</p>',
"payment":'<p class="status error" data-without-script>Paying needs JavaScript, which is off in this browser: your card details go from it straight to our payment provider, never to us. Turn JavaScript on and reload this page within a day to pay. Nothing is charged until you pay; an event&rsquo;s seat is held from when the payment step opens.</p>'}
pages["register.html"]=page("/register","Create your account","<p>An account lets us run your profile and send you what you ask for.</p>"+form("/forms/registration",name+email+phone_opt+job_opt+co_opt+country()+state()+interests(["api-management","integration","identity","cloud","events"]),"Create my account","Thank you: your account is created.","We use these details to run your account and, only if you tick topics, to send you news about them (you confirm by email first)."))
pages["download.html"]=page("/download","Download a product","<p>Tell us who you are and we send you the download.</p>"+form("/forms/product-download",name+email+co_req+job_opt+country(True)+state()+choice("product","Product",[("api-manager","API Manager"),("identity-server","Identity Server"),("micro-integrator","Micro Integrator"),("streaming-integrator","Streaming Integrator")])+interests(["api-management","integration","identity"]),"Download","Thank you: your download link is on its way.","We use these details to give you the download and to understand how our products are used."))
pages["contact.html"]=page("/contact","Contact us","<p>Ask us anything; an account manager gets back to you.</p>"+form("/forms/contact-us",name+email+phone_opt+job_opt+co_opt+country()+state()+'<label for="message">Your message</label><textarea id="message" name="message" required></textarea>\n',"Send","Thank you: we will be in touch.","We use these details only to answer you."))
pages["events/signup.html"]=page("/events/signup","Register for an event","<p>Seats are limited; you pay by card once you are registered. Your card details go to our payment provider, never to us.</p>"+NOSCRIPT_PAY+form("/forms/event-registration",choice("event","Event",EVENTS_ON_SALE)+name+email+phone_req+job_req+co_req+country(True)+state(True)+interests(["events","api-management","integration","identity"]),"Register and pay","You are registered.","We use these details to register you and run the event."))
pages["cloud.html"]=page("/cloud","Sign up for WSO2 Cloud","<p>Choose a plan; you pay by card once you have signed up, and you can cancel at any time. Your card details go to our payment provider, never to us.</p>"+NOSCRIPT_PAY+form("/forms/cloud-signup",choice("plan","Plan",PLANS)+name+email+phone_req+job_req+co_req+country(True)+state(True)+interests(["cloud","api-management","integration","identity"]),"Sign up and pay","You are signed up.","We use these details to provide and bill your subscription and to send you important updates about it."))
pages["careers.html"]=page("/careers","Apply for a position","<p>Your CV goes straight to a private store, is checked, and is kept only as long as your application.</p>"+form("/forms/careers",choice("position","Position",[("Rust engineer","Rust engineer"),("Technical writer","Technical writer")])+name+email+phone_req+country(True)+state()+'<p class="hint" data-without-script>Attaching a CV needs JavaScript, which is off in this browser. You can still apply: the next page says how to attach your CV once JavaScript is on.</p><label for="cv">Your CV <span class="hint">PDF, Word or RTF, up to 5 MB</span></label><input id="cv" type="file" accept=".pdf,.doc,.docx,.rtf,application/pdf,application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/rtf">\n<label for="message">Anything else? <span class="hint">(optional)</span></label><textarea id="message" name="message"></textarea>\n'+interests(["careers"],"Tell me about future openings (optional)"),"Apply","Thank you: your application is in.","We use these details to consider your application."))
pages["newsletter.html"]=page("/newsletter","Subscribe to our newsletter","<p>Choose what you want to hear about. We send a confirmation first: nothing arrives until you confirm.</p>"+form("/forms/newsletter",email+text("name","Name",False,auto="name")+interests(["api-management","integration","identity","cloud","events","careers"],"Send me news about"),"Subscribe","Almost done: check your email to confirm.","Every message has a one-click unsubscribe link."))
pages["privacy-center.html"]=page("/privacy-center","Your data","<p>See everything we hold about you, take it with you, correct it, limit its use or delete it. We email you a sign-in link that works once, for 15 minutes.</p>"+f'''<form action="/privacy/link" method="post" data-steward data-thanks="If we know this address, a sign-in link is on its way." novalidate>
{email}<button type="submit">Email me a sign-in link</button>
<div data-status class="status" role="status" aria-live="polite"></div>
</form>''')
pages["index.html"]=page("/","Steward reference site","<p>This small site shows how a company website wires its forms to Steward. Each page is plain HTML that works without JavaScript; <code>/assets/steward-forms.js</code> only makes it nicer.</p><ul>"+"".join(f'<li><a href="{h}">{t}</a></li>' for h,t in NAV[:-1])+'<li><a href="/privacy-center">Your data (the privacy center)</a></li><li><a href="/privacy-policy">Privacy policy</a></li><li><a href="/_local/mailbox">The dev mailbox</a> (local only)</li></ul>')
THANKS={"registration":("Welcome","Your account is created. If you ticked topics, check your email to confirm them.",None),
"download":("Your download","Thank you. Your download link is on its way.",None),
"contact":("Thank you","We received your message and will be in touch.",None),
"newsletter":("Check your email","We sent you a confirmation link: nothing arrives until you confirm.",None),
"event":("You are registered","One step left: the payment.","payment"),
"careers":("Your application is in","One step left: your CV.","cv"),
"cloud":("Welcome to WSO2 Cloud","One step left: the payment.","payment"),
"survey":("Thank you","Your answers are in.",None)}
for slug,(title,text_,step) in THANKS.items():
    script=None
    start={"event":"/events/signup","careers":"/careers","cloud":"/cloud"}.get(slug)
    body=f'<p id="next" data-start="{start}">{text_}</p>' if start else f'<p id="next">{text_}</p>'
    if step:
        body+=NOSCRIPT_NEXT[step]
        script="thanks"
    pages[f"thanks/{slug}.html"]=page(f"/thanks/{slug}",title,body,script)
# The policy, from its Markdown.
import re
md=open(POLICY).read()
md=md.split("---",1)[1]
out=[]; inlist=False
def inline(s):
    s=html.escape(s,quote=False)
    s=re.sub(r"\[([^\]]+)\]\(([^)]+)\)",lambda m:f'<a href="{m.group(2)}">{m.group(1)}</a>',s)
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
pages["privacy-policy.html"]=page("/privacy-policy","Privacy policy","\n".join(out),script="none")
for p,c in pages.items():
    (SITE / p).parent.mkdir(parents=True, exist_ok=True)
    (SITE / p).write_text(c)
print(f"{len(pages)} pages written to {SITE}")
