//! The languages Steward speaks to visitors. Every page text, problem and mail subject is written
//! once per language in Project Fluent files (`locales/<language>/steward.ftl`, with the
//! catalogues' and countries' names beside it), and every mail body in `templates/<language>/`;
//! translators edit them without touching code. A request's language is the one it names (`lang`,
//! which the switch on every page, the site's forms and mail links set, remembered in a cookie),
//! else the best match of the browser's `Accept-Language`; it holds for the whole request
//! ([`visit`]), so every page and message built while answering it speaks that language. Mail
//! carries its language with it, so a message sent later (a receipt, a verdict) speaks the
//! language the person used.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::FluentResource;
pub use fluent_bundle::{FluentArgs, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

/// The name of the cookie that remembers a visitor's chosen language (and nothing else).
pub const LANGUAGE_COOKIE: &str = "steward_lang";

/// The query parameter the language switch sets.
pub const LANGUAGE_PARAMETER: &str = "lang";

/// A language Steward ships complete: every message in every page and mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// Its BCP 47 tag, as in `<html lang>` and `Content-Language`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// Its name in itself, as a language switch shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    /// The language of a tag (`de`, `de-AT`, `EN-gb`); `None` for one Steward does not speak.
    pub fn from_code(tag: &str) -> Option<Lang> {
        let tag: LanguageIdentifier = tag.trim().parse().ok()?;
        Lang::ALL.into_iter().find(|lang| lang.code() == tag.language.as_str())
    }

    /// The best of Steward's languages for an `Accept-Language` header, by its weights; English
    /// when it names none of them (or is absent or malformed).
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else { return Lang::En };
        // Most preferred first, by weight (`q`); a weight of 0 means "not this one".
        let mut weighted: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let weight = match parts.find_map(|part| part.trim().strip_prefix("q=")) {
                    Some(weight) => weight.trim().parse::<f32>().ok()?,
                    None => 1.0,
                };
                (!tag.is_empty() && weight > 0.0).then_some((weight, tag))
            })
            .collect();
        weighted.sort_by(|a, b| b.0.total_cmp(&a.0));
        let requested: Vec<LanguageIdentifier> =
            weighted.iter().filter_map(|(_, tag)| tag.parse().ok()).collect();
        let available: Vec<LanguageIdentifier> =
            Lang::ALL.iter().filter_map(|lang| lang.code().parse().ok()).collect();
        let default: LanguageIdentifier = Lang::En.code().parse().expect("en is a language tag");
        fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        )
        .first()
        .and_then(|chosen| Lang::from_code(&chosen.to_string()))
        .unwrap_or_default()
    }

    /// The language of the request being answered; English outside one (a test, a scheduled job
    /// that did not set one).
    pub fn current() -> Lang {
        VISIT.try_with(|visit| visit.lang).unwrap_or_default()
    }

    /// The visitor's language: the one they chose with the switch (this request's `lang`, or the
    /// cookie an earlier switch left), else the best match of their browser's `Accept-Language`.
    pub fn of_visitor(chosen: Option<&str>, remembered: Option<&str>, accept_language: Option<&str>) -> Lang {
        chosen
            .and_then(Lang::from_code)
            .or_else(|| remembered.and_then(Lang::from_code))
            .unwrap_or_else(|| Lang::negotiate(accept_language))
    }

    /// The message `id` in this language, with its variables. A message missing from the files
    /// is a bug the catalogue test catches; if one ships anyway, the visitor sees the English one.
    pub fn text(self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        format(self, id, args).or_else(|| format(Lang::En, id, args)).unwrap_or_else(|| {
            tracing::error!(id, "a message is missing from every language");
            id.to_owned()
        })
    }

    /// A link in mail written in this language, so that the page it opens speaks it too, whatever
    /// the browser that opens it prefers (a phone's, a shared computer's). English, the default,
    /// needs nothing; the language goes last, so the link's own parameters read as before.
    pub fn carried_by(self, url: String) -> String {
        if self == Lang::En {
            return url;
        }
        self.named_in(&url)
    }

    /// The company site's address in this language: the site has each page in English at its root
    /// and in every other language under `/<language>/`.
    pub fn site_in(self, site_url: &str) -> String {
        let site = site_url.trim_end_matches('/');
        match self {
            Lang::En => site.to_owned(),
            lang => format!("{site}/{}", lang.code()),
        }
    }

    /// One of the site's pages (`{site}/thanks/contact`) in this language; any other address as it
    /// is.
    pub fn site_page_in(self, url: &str, site_url: &str) -> String {
        match url.strip_prefix(site_url.trim_end_matches('/')) {
            Some(path) if path.starts_with('/') => format!("{}{path}", self.site_in(site_url)),
            _ => url.to_owned(),
        }
    }

    /// `address` with this language named in its query (`lang=de`).
    fn named_in(self, address: &str) -> String {
        let separator = if address.contains('?') { '&' } else { '?' };
        format!("{address}{separator}{LANGUAGE_PARAMETER}={}", self.code())
    }

    /// Whether this language has message `id`.
    pub fn has(self, id: &str) -> bool {
        bundle(self).has_message(id)
    }

    /// A catalogue's words (a form's title, a topic, an event) in this language: the catalogue
    /// itself is written in English, and `locales/<language>/catalogue.ftl` translates it by id
    /// (`form-newsletter-title`, `topic-cloud`). The catalogues' tests check that every entry has
    /// its translation.
    pub fn catalogue(self, id: &str, english: &str) -> String {
        match self {
            Lang::En => english.to_owned(),
            _ => format(self, id, None).unwrap_or_else(|| english.to_owned()),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What a request's pages need to speak its visitor's language: the language, and (for a page
/// fetched with GET) the address of the same page in each other language, for the switch.
#[derive(Debug, Clone, Default)]
pub struct Visit {
    pub lang: Lang,
    /// The page's path and query without `lang`; `None` when the page cannot be fetched again (it
    /// answers a form post).
    pub page: Option<String>,
}

impl Visit {
    /// Where the switch to `lang` leads: the same page, with `lang` set.
    pub fn switch_to(&self, lang: Lang) -> Option<String> {
        self.page.as_deref().map(|page| lang.named_in(page))
    }

    /// The request's visit, if it has one.
    pub fn current() -> Option<Visit> {
        VISIT.try_with(Clone::clone).ok()
    }
}

tokio::task_local! {
    static VISIT: Visit;
}

/// Runs `work` with `lang` as the language of everything it writes for people.
pub async fn scope<F: std::future::Future>(lang: Lang, work: F) -> F::Output {
    VISIT.scope(Visit { lang, page: None }, work).await
}

/// Where a page's form posts: `path`, naming the page's language, so that its answer speaks it
/// whatever the browser sends or keeps (a link from German mail opened in a browser that asks for
/// English and keeps no cookies).
pub fn form_action(path: &str) -> String {
    Lang::current().named_in(path)
}

/// Runs `work` (not async) with `lang` as the language of everything it writes for people.
pub fn within<R>(lang: Lang, work: impl FnOnce() -> R) -> R {
    VISIT.sync_scope(Visit { lang, page: None }, work)
}

/// Runs `work` as the answer to `visit`: its pages speak its language and offer the others.
pub async fn visit<F: std::future::Future>(visit: Visit, work: F) -> F::Output {
    VISIT.scope(visit, work).await
}

/// A day in words, in the request's language: `6 December 2026`, `6. Dezember 2026`.
pub fn date_in_words(day: time::Date) -> String {
    let month = Lang::current().text(&format!("month-{}", u8::from(day.month())), None);
    crate::tl!(Lang::current(), "date", day = day.day(), month = month, year = day.year())
}

/// A Fluent value from anything a message shows: text or a number.
pub fn arg<'a>(value: impl Into<FluentValue<'a>>) -> FluentValue<'a> {
    value.into()
}

/// The Fluent source of each language, compiled into every binary.
const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../locales/en/steward.ftl")),
    (Lang::De, include_str!("../locales/de/steward.ftl")),
];

/// The catalogues' words in each language but English, in which the catalogues are written, and
/// the countries' names (written by `tools/country_names.py`; English names are rust_iso3166's).
const CATALOGUE_SOURCES: [(Lang, &str); 2] = [
    (Lang::De, include_str!("../locales/de/catalogue.ftl")),
    (Lang::De, include_str!("../locales/de/countries.ftl")),
];

/// Parses `lang`'s words now (during a cold start's init) rather than at the first request that
/// needs them.
pub fn prepare(lang: Lang) {
    let _ = bundle(lang);
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    // Each language's files are parsed the first time that language is asked for: an instance that
    // only ever answers in English never parses German.
    static BUNDLES: [OnceLock<FluentBundle<FluentResource>>; Lang::ALL.len()] =
        [const { OnceLock::new() }; Lang::ALL.len()];
    let slot = Lang::ALL.iter().position(|known| *known == lang).expect("every language is in Lang::ALL");
    BUNDLES[slot].get_or_init(|| {
        let tag: LanguageIdentifier = lang.code().parse().expect("a language tag");
        let mut bundle = FluentBundle::new_concurrent(vec![tag]);
        // No Unicode isolation marks around values: pages and mail are left to right, and the
        // marks would land inside links and subjects.
        bundle.set_use_isolating(false);
        let sources = SOURCES.iter().chain(CATALOGUE_SOURCES.iter()).filter(|(of, _)| *of == lang);
        for (_, source) in sources {
            let resource =
                FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(resource, _)| resource);
            bundle.add_resource_overriding(resource);
        }
        bundle
    })
}

fn format(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let bundle = bundle(lang);
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors).into_owned();
    if !errors.is_empty() {
        // A variable the code did not pass, or a select with no key for it: the English instead.
        tracing::error!(id, language = lang.code(), errors = ?errors, "a message could not be formatted");
    }
    errors.is_empty().then_some(text)
}

/// A message in the language of the request being answered: `t!("id")`, or with variables
/// `t!("id", name = value, count = 3)`.
#[macro_export]
macro_rules! t {
    ($id:expr) => { $crate::i18n::Lang::current().text($id, None) };
    ($id:expr, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::tl!($crate::i18n::Lang::current(), $id, $($name = $value),+)
    };
}

/// A message in a given language (mail, which speaks the language it was asked in):
/// `tl!(lang, "id", name = value)`.
#[macro_export]
macro_rules! tl {
    ($lang:expr, $id:expr) => { $lang.text($id, None) };
    ($lang:expr, $id:expr, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = $crate::i18n::FluentArgs::new();
        $( args.set(stringify!($name), $crate::i18n::arg($value)); )+
        $lang.text($id, Some(&args))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_s_preferences_choose_among_the_languages_steward_speaks() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("de-DE,de;q=0.9,en;q=0.8")), Lang::De);
        assert_eq!(Lang::negotiate(Some("de-AT")), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr-FR,de;q=0.5,en;q=0.7")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr-FR,de;q=0.5")), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr, ja")), Lang::En);
        assert_eq!(Lang::negotiate(Some(";;;q=x,,")), Lang::En);
        assert_eq!(Lang::negotiate(Some("de;q=0, en;q=0.1")), Lang::En, "q=0 refuses a language");
        assert_eq!(Lang::negotiate(Some("*")), Lang::En);
        assert_eq!(Lang::from_code("DE"), Some(Lang::De));
        assert_eq!(Lang::from_code("xx"), None);
        assert_eq!(Lang::from_code("\"><script>"), None);
    }

    #[tokio::test]
    async fn a_request_s_language_is_the_language_of_everything_built_while_answering_it() {
        assert_eq!(Lang::current(), Lang::En);
        let inside = scope(Lang::De, async { Lang::current() }).await;
        assert_eq!(inside, Lang::De);
        assert_eq!(Lang::current(), Lang::En);
    }

    type Catalogue = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

    /// Each message of a Fluent file with the variables it uses.
    fn messages(source: &str) -> Catalogue {
        use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
        type Names = std::collections::BTreeSet<String>;
        fn in_pattern(pattern: &Pattern<&str>, names: &mut Names) {
            for element in &pattern.elements {
                if let PatternElement::Placeable { expression } = element {
                    in_expression(expression, names);
                }
            }
        }
        fn in_expression(expression: &Expression<&str>, names: &mut Names) {
            match expression {
                Expression::Inline(inline) => in_inline(inline, names),
                Expression::Select { selector, variants } => {
                    in_inline(selector, names);
                    variants.iter().for_each(|variant| in_pattern(&variant.value, names));
                }
            }
        }
        fn in_inline(inline: &InlineExpression<&str>, names: &mut Names) {
            match inline {
                InlineExpression::VariableReference { id } => {
                    names.insert(id.name.to_owned());
                }
                InlineExpression::FunctionReference { arguments, .. } => {
                    arguments.positional.iter().for_each(|argument| in_inline(argument, names));
                    arguments.named.iter().for_each(|argument| in_inline(&argument.value, names));
                }
                InlineExpression::Placeable { expression } => in_expression(expression, names),
                _ => {}
            }
        }
        let resource = fluent_syntax::parser::parse(source)
            .unwrap_or_else(|(_, errors)| panic!("a Fluent file does not parse: {errors:?}"));
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(message) => Some(message),
                _ => None,
            })
            .map(|message| {
                let mut names = Names::new();
                if let Some(value) = &message.value {
                    in_pattern(value, &mut names);
                }
                (message.id.name.to_owned(), names)
            })
            .collect()
    }

    /// Every language has every message, with the same variables, and every file parses: a
    /// message added in English and not translated fails here, not in front of a visitor.
    #[test]
    fn every_language_is_complete() {
        for (lang, source) in CATALOGUE_SOURCES {
            assert!(!messages(source).is_empty(), "{lang}: the catalogue's words parse");
        }
        let english = messages(SOURCES[0].1);
        assert!(english.len() > 50, "the English file holds Steward's messages");
        for (lang, source) in &SOURCES[1..] {
            let translated = messages(source);
            let missing: Vec<_> = english.keys().filter(|id| !translated.contains_key(*id)).collect();
            let extra: Vec<_> = translated.keys().filter(|id| !english.contains_key(*id)).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, extra {extra:?}");
            for (id, variables) in &english {
                assert_eq!(&translated[id], variables, "{lang}: {id} uses other variables");
            }
        }
    }

    /// Every message the code names (`t!("…")`, `tl!(lang, "…")`) is in the files, and so is
    /// every message it builds an id for (months, field labels, findings in a CV).
    #[test]
    fn every_message_the_code_names_is_in_the_files() {
        for month in 1..=12 {
            assert!(Lang::En.has(&format!("month-{month}")), "month-{month}");
        }
        for field in crate::domain::fields::KNOWN_LABELS {
            let id = format!("field-{}", field.replace('_', "-"));
            assert!(Lang::En.has(&id), "{id}");
        }
        let english = messages(SOURCES[0].1);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut named = std::collections::BTreeSet::new();
        let mut pending = vec![root.join("crates"), root.join("functions")];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/i18n.rs") {
                    let source = std::fs::read_to_string(&path).unwrap();
                    for (macro_name, skip_language) in [("t!(", false), ("tl!(", true)] {
                        for (at, _) in source.match_indices(macro_name) {
                            let before = source[..at].chars().next_back();
                            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                                continue; // format!(, assert!(…
                            }
                            let rest = &source[at + macro_name.len()..];
                            let rest = if skip_language {
                                rest.split_once(',').map_or("", |(_, r)| r)
                            } else {
                                rest
                            };
                            if let Some((id, _)) =
                                rest.trim_start().strip_prefix('"').and_then(|r| r.split_once('"'))
                            {
                                named.insert(id.to_owned());
                            }
                        }
                    }
                }
            }
        }
        let unknown: Vec<_> = named.iter().filter(|id| !english.contains_key(*id)).collect();
        assert!(unknown.is_empty(), "messages named in code but not in the files: {unknown:?}");
    }
}
