//! Notices as the site owner writes them (`notices/<id>.toml`), checked and turned into
//! the per-language [`Notice`]s the verifier serves, and the registry of every version
//! ever served.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use consent_receipt::{Channel, Controller, LegalBasis, Notice, Purpose, age_of_digital_consent};
use serde::Deserialize;

use crate::domain::{NoticeId, Origin};

/// A notice file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeFile {
    /// Notice id; must equal the file name without `.toml`.
    pub id: String,
    /// Version; bump it for any change of text.
    pub version: u32,
    /// ISO 3166-1 alpha-2 country whose law applies.
    pub jurisdiction: String,
    /// Overrides the age of digital consent of the jurisdiction (required where unknown).
    #[serde(default)]
    pub age_of_consent: Option<u8>,
    /// Double opt-in (confirmation e-mail before marketing) [default: true].
    #[serde(default = "yes")]
    pub double_opt_in: bool,
    /// Language served when the visitor's is not available.
    pub default_lang: String,
    /// Days without contact after which a lead is purged [default: 1095, three years].
    #[serde(default = "three_years")]
    pub retention_days: u32,
    /// Origins of pages allowed to show this notice (besides the verifier's own).
    #[serde(default)]
    pub origins: Vec<String>,
    /// The controller.
    pub controller: Controller,
    /// Texts per language.
    pub text: BTreeMap<String, NoticeText>,
    /// Purposes.
    pub purposes: Vec<PurposeFile>,
    /// How SMS name their sender and offer the way out; required when a purpose uses SMS.
    #[serde(default)]
    pub sms: Option<SmsIdentity>,
}

/// The `[sms]` section: every SMS names its sender and ends with "STOP au <number>"
/// (L34-5 CPCE: the identity of the advertiser and a free way to object in every message).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsIdentity {
    /// The name every SMS starts with, e.g. `Atelier Lumière`.
    pub sender: String,
    /// What the phone shows as the sender: up to 11 letters and digits, or a short code.
    pub sender_id: String,
    /// The free number that takes STOP (in France a short code such as `36111`).
    pub stop_number: String,
}

impl SmsIdentity {
    fn check(&self) -> anyhow::Result<()> {
        let id = &self.sender_id;
        let numeric = !id.is_empty() && id.len() <= 15 && id.bytes().all(|b| b.is_ascii_digit());
        let alphanumeric = !id.is_empty() && id.len() <= 11 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !(numeric || alphanumeric) {
            bail!("[sms] sender_id must be 1 to 11 ASCII letters and digits, or a number of at most 15 digits");
        }
        if self.sender.trim().is_empty() || self.sender.chars().count() > 40 {
            bail!("[sms] sender must name the advertiser in 1 to 40 characters");
        }
        if self.stop_number.is_empty()
            || self.stop_number.len() > 15
            || !self.stop_number.bytes().all(|b| b.is_ascii_digit())
        {
            bail!("[sms] stop_number must be the digits of the number that takes STOP");
        }
        Ok(())
    }
}

fn yes() -> bool {
    true
}
fn three_years() -> u32 {
    1095
}

/// The notice's texts in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeText {
    title: String,
    data: String,
    #[serde(default)]
    legitimate_interests: Option<String>,
    transfers: String,
    retention: String,
    rights: String,
    withdrawal: String,
    complaint: String,
    provision: String,
    automated_decisions: String,
    child_guardian_text: String,
    policy_url: String,
}

/// A purpose as written in a notice file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeFile {
    id: String,
    channels: Vec<Channel>,
    recipients: Vec<String>,
    #[serde(default = "consent")]
    legal_basis: LegalBasis,
    category: String,
    /// `b2b`: the topics its messages are about (tags).
    #[serde(default)]
    topics: Vec<String>,
    /// `b2b`: the form field holding the person's job function.
    #[serde(default)]
    job_field: Option<String>,
    /// `soft_opt_in`: the form field holding the order reference.
    #[serde(default)]
    order_field: Option<String>,
    text: BTreeMap<String, PurposeText>,
}

fn consent() -> LegalBasis {
    LegalBasis::Consent
}

/// A purpose's texts in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeText {
    label: String,
    text: String,
    child_text: String,
}

/// One notice, checked, in every language it has.
#[derive(Debug, Clone)]
pub struct NoticeEntry {
    /// Id.
    pub id: String,
    /// Current version.
    pub version: u32,
    /// Language served by default.
    pub default_lang: String,
    /// Per language: the served notice and its digest.
    pub langs: BTreeMap<String, (Arc<Notice>, String)>,
    /// Allowed origins, besides the global ones.
    pub origins: Vec<Origin>,
    /// Retention in days.
    pub retention_days: u32,
    /// Sender and STOP number of its SMS, when a purpose uses SMS.
    pub sms: Option<SmsIdentity>,
}

impl NoticeEntry {
    /// The notice in the language closest to `wanted` (exact tag, then primary subtag,
    /// then the default language).
    pub fn negotiate(&self, wanted: Option<&str>) -> &(Arc<Notice>, String) {
        let pick = wanted.and_then(|w| {
            let w = w.to_ascii_lowercase();
            self.langs.get(&w).or_else(|| self.langs.get(w.split(['-', '_']).next().unwrap_or("")))
        });
        match pick {
            Some(p) => p,
            // The default language is checked to exist when the file is loaded.
            None => &self.langs[&self.default_lang],
        }
    }
}

impl NoticeEntry {
    /// Every language of this version: id, version, language, notice and digest (what
    /// the store records as served).
    pub fn served(&self) -> impl Iterator<Item = (&str, u32, &str, &Notice, &str)> {
        self.langs.iter().map(|(lang, (n, d))| (self.id.as_str(), self.version, lang.as_str(), &**n, d.as_str()))
    }
}

impl NoticeFile {
    /// Checks the file and builds one [`Notice`] per language.
    pub fn compile(self) -> anyhow::Result<NoticeEntry> {
        let id = NoticeId::parse(&self.id).map_err(|e| anyhow::anyhow!("the id `{}`: {e}", self.id))?.to_string();
        let age_of_consent = match (self.age_of_consent, age_of_digital_consent(&self.jurisdiction)) {
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                bail!("jurisdiction `{}` has no known age of digital consent: state age_of_consent", self.jurisdiction)
            }
        };
        if self.purposes.is_empty() || self.purposes.len() > consent_receipt::receipt::MAX_PURPOSES {
            bail!("a notice needs 1 to 32 purposes");
        }
        let uses_sms = self.purposes.iter().any(|p| p.channels.contains(&Channel::Sms));
        match &self.sms {
            Some(sms) => sms.check()?,
            None if uses_sms => {
                bail!("a purpose uses SMS: add an [sms] section with sender, sender_id and stop_number")
            }
            None => {}
        }
        if !self.text.contains_key(&self.default_lang) {
            bail!("default_lang `{}` has no [text.{}] section", self.default_lang, self.default_lang);
        }
        let origins = self
            .origins
            .iter()
            .map(|o| Origin::parse(o).map_err(|e| anyhow::anyhow!("origins: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut langs = BTreeMap::new();
        for (lang, t) in &self.text {
            let mut purposes = Vec::new();
            for p in &self.purposes {
                let pt = p
                    .text
                    .get(lang)
                    .with_context(|| format!("purpose `{}` has no [purposes.text.{lang}] section", p.id))?;
                purposes.push(Purpose {
                    id: p.id.clone(),
                    label: pt.label.clone(),
                    text: pt.text.clone(),
                    child_text: pt.child_text.clone(),
                    channels: p.channels.clone(),
                    recipients: p.recipients.clone(),
                    legal_basis: p.legal_basis,
                    category: p.category.clone(),
                    topics: p.topics.clone(),
                    job_field: p.job_field.clone(),
                    order_field: p.order_field.clone(),
                });
            }
            let notice = Notice {
                id: id.clone(),
                version: self.version,
                lang: lang.clone(),
                title: t.title.clone(),
                jurisdiction: self.jurisdiction.clone(),
                age_of_consent,
                double_opt_in: self.double_opt_in,
                controller: self.controller.clone(),
                data: t.data.clone(),
                purposes,
                legitimate_interests: t.legitimate_interests.clone(),
                transfers: t.transfers.clone(),
                retention: t.retention.clone(),
                rights: t.rights.clone(),
                withdrawal: t.withdrawal.clone(),
                complaint: t.complaint.clone(),
                provision: t.provision.clone(),
                automated_decisions: t.automated_decisions.clone(),
                child_guardian_text: t.child_guardian_text.clone(),
                policy_url: t.policy_url.clone(),
            };
            let missing = notice.missing_items();
            if !missing.is_empty() {
                bail!("the `{lang}` text lacks mandatory items: {}", missing.join(", "));
            }
            // The same in every language: reported once, for the first.
            let problems = notice.basis_problems();
            if !problems.is_empty() {
                bail!("a legal basis lacks its conditions: {}", problems.join("; "));
            }
            let digest = notice.digest();
            langs.insert(lang.clone(), (Arc::new(notice), digest));
        }
        Ok(NoticeEntry {
            id,
            version: self.version,
            default_lang: self.default_lang,
            langs,
            origins,
            retention_days: self.retention_days,
            sms: self.sms,
        })
    }
}

/// Reads and checks every `*.toml` notice in `dir`. Errors name the file and what is wrong.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<NoticeEntry>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the notices directory {} (set it with --notices)", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let file: NoticeFile = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if file.id != stem {
            bail!("{}: the id `{}` must equal the file name `{stem}`", path.display(), file.id);
        }
        out.push(file.compile().with_context(|| format!("{}", path.display()))?);
    }
    if out.is_empty() {
        bail!("no notice (*.toml) in {}", dir.display());
    }
    Ok(out)
}

/// Every notice the verifier serves now, and every version it ever served, by digest.
#[derive(Debug, Default)]
pub struct Registry {
    current: HashMap<String, NoticeEntry>,
    by_digest: HashMap<String, Arc<Notice>>,
}

impl Registry {
    /// A registry of the current notices plus earlier versions (from the store).
    pub fn new(current: Vec<NoticeEntry>, earlier: Vec<Notice>) -> Registry {
        let mut by_digest = HashMap::new();
        for n in earlier {
            let digest = n.digest();
            by_digest.insert(digest, Arc::new(n));
        }
        for entry in &current {
            for (notice, digest) in entry.langs.values() {
                by_digest.insert(digest.clone(), notice.clone());
            }
        }
        Registry { current: current.into_iter().map(|e| (e.id.clone(), e)).collect(), by_digest }
    }

    /// A notice served now.
    pub fn current(&self, id: &str) -> Option<&NoticeEntry> {
        self.current.get(id)
    }

    /// Every notice served now.
    pub fn all(&self) -> impl Iterator<Item = &NoticeEntry> {
        self.current.values()
    }

    /// Any version ever served, by digest (to show the words a lead was given).
    pub fn by_digest(&self, digest: &str) -> Option<&Arc<Notice>> {
        self.by_digest.get(digest)
    }

    /// Rule 7: the version a digest names, provided its notice is still served.
    pub fn published(&self, id: &str, digest: &str) -> Option<&Arc<Notice>> {
        self.current.get(id)?;
        self.by_digest.get(digest).filter(|n| n.id == id)
    }
}

#[cfg(test)]
mod tests;
