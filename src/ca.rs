//! The local certificate authority the proxy uses to intercept TLS to AI providers.
//!
//! Files in the CA directory (default `certs/` under the working directory):
//! - `promptgate-ca.pem`: the CA certificate (public; clients trust it);
//! - `promptgate-ca.key`: its private key (owner-only, 0600);
//! - `promptgate-audit.key`: the HMAC key for audit fingerprints (owner-only, 0600).
//!
//! The CA carries X.509 name constraints (permitted DNS subtrees) limited to the domains of the
//! policy's intercept list, so a stolen key cannot impersonate any other site. Leaf certificates are
//! minted per host on first use and cached.

use crate::policy::Policy;
use dashmap::DashMap;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CERT_FILE: &str = "promptgate-ca.pem";
pub const KEY_FILE: &str = "promptgate-ca.key";
pub const HMAC_FILE: &str = "promptgate-audit.key";
pub const BUNDLE_FILE: &str = "ca-bundle.pem";
/// The default CA directory, relative to the working directory.
pub const DEFAULT_DIR: &str = "certs";

const CA_COMMON_NAME: &str = "promptgate local CA";
const CA_ORGANIZATION: &str = "promptgate";

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS key: {0}")]
    Tls(#[from] rustls::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The paths of the CA's files in a directory.
#[derive(Debug, Clone)]
pub struct CaPaths {
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub hmac: PathBuf,
    pub bundle: PathBuf,
}

impl CaPaths {
    pub fn new(dir: &Path) -> CaPaths {
        CaPaths {
            dir: dir.to_path_buf(),
            cert: dir.join(CERT_FILE),
            key: dir.join(KEY_FILE),
            hmac: dir.join(HMAC_FILE),
            bundle: dir.join(BUNDLE_FILE),
        }
    }

    pub fn exists(&self) -> bool {
        self.cert.exists() && self.key.exists()
    }
}

/// The DNS subtrees a CA for this policy is limited to: for each intercept pattern, the labels after
/// its last wildcard (`*.cursor.sh` -> `cursor.sh`, `codewhisperer.*.amazonaws.com` ->
/// `amazonaws.com`), or the host itself. Subtrees inside another one are dropped.
pub fn permitted_domains(policy: &Policy) -> Vec<String> {
    let mut bases: Vec<String> = policy
        .intercept_hosts
        .iter()
        .filter_map(|p| pattern_base(p))
        .collect();
    bases.sort();
    bases.dedup();
    let all = bases.clone();
    bases.retain(|b| !all.iter().any(|o| o != b && within(b, o)));
    bases
}

/// The fixed part of a host pattern (see [`permitted_domains`]); None for a pattern that is all
/// wildcard.
pub fn pattern_base(pattern: &str) -> Option<String> {
    let p = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = p.split('.').collect();
    let last_wild = labels.iter().rposition(|l| l.contains('*'));
    let rest = match last_wild {
        Some(i) => &labels[i + 1..],
        None => &labels[..],
    };
    if rest.is_empty() || rest.iter().any(|l| l.is_empty()) {
        None
    } else {
        Some(rest.join("."))
    }
}

/// Whether `host` is `domain` or under it.
pub fn within(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_start_matches('.').to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new()
        .fill(&mut b)
        .expect("the system random generator works");
    b
}

fn serial() -> SerialNumber {
    let mut b = random_bytes::<16>();
    b[0] &= 0x7f; // positive
    b[0] |= 0x01; // no leading zero byte
    SerialNumber::from_slice(&b)
}

fn ca_distinguished_name() -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, CA_ORGANIZATION);
    dn
}

fn ca_params(domains: &[String]) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = ca_distinguished_name();
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    if !domains.is_empty() {
        p.name_constraints = Some(NameConstraints {
            permitted_subtrees: domains
                .iter()
                .map(|d| GeneralSubtree::DnsName(d.clone()))
                .collect(),
            excluded_subtrees: vec![],
        });
    }
    p
}

/// Writes a file readable by the owner only; fails if it exists.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), CaError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(contents).map_err(io_err(path))
}

fn write_public(path: &Path, contents: &[u8]) -> Result<(), CaError> {
    std::fs::write(path, contents).map_err(io_err(path))
}

/// What `create` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    Existing,
}

/// Creates the CA in `dir` for `policy`'s intercept list unless it already exists (or `force`).
pub fn create(dir: &Path, policy: &Policy, force: bool) -> Result<Created, CaError> {
    let paths = CaPaths::new(dir);
    if paths.exists() && !force {
        return Ok(Created::Existing);
    }
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    for p in [&paths.cert, &paths.key, &paths.hmac, &paths.bundle] {
        if force && p.exists() {
            std::fs::remove_file(p).map_err(io_err(p))?;
        }
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = ca_params(&permitted_domains(policy));
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params.serial_number = Some(serial());
    let cert = params.self_signed(&key)?;
    write_private(&paths.key, key.serialize_pem().as_bytes())?;
    if !paths.hmac.exists() {
        let hmac = crate::fingerprint::hex(&random_bytes::<32>());
        write_private(&paths.hmac, format!("{hmac}\n").as_bytes())?;
    }
    write_public(&paths.cert, cert.pem().as_bytes())?;
    Ok(Created::New)
}

/// A leaf certificate and key, ready for rustls.
pub type Leaf = Arc<CertifiedKey>;

/// A loaded CA that mints leaf certificates.
pub struct Ca {
    pub paths: CaPaths,
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    /// The permitted DNS subtrees (None: the certificate has no name constraints).
    pub permitted: Option<Vec<String>>,
    issuer: rcgen::Certificate,
    key: KeyPair,
    hmac_key: ring::hmac::Key,
    leaves: DashMap<String, Leaf>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("paths", &self.paths)
            .field("permitted", &self.permitted)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// Creates the CA if it is missing, then loads it.
    pub fn ensure(dir: &Path, policy: &Policy) -> Result<(Ca, Created), CaError> {
        let created = create(dir, policy, false)?;
        Ok((Ca::load(dir)?, created))
    }

    /// Loads the CA from `dir`.
    pub fn load(dir: &Path) -> Result<Ca, CaError> {
        let paths = CaPaths::new(dir);
        let cert_pem = std::fs::read_to_string(&paths.cert).map_err(io_err(&paths.cert))?;
        let key_pem = std::fs::read_to_string(&paths.key).map_err(io_err(&paths.key))?;
        let invalid = |path: &Path, message: String| CaError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let cert_der = first_cert(&cert_pem)
            .ok_or_else(|| invalid(&paths.cert, "no CERTIFICATE block".into()))?;
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| invalid(&paths.key, format!("bad private key: {e}")))?;
        let info = CertInfo::parse(&cert_der)
            .ok_or_else(|| invalid(&paths.cert, "cannot parse the certificate".into()))?;
        // rcgen signs leaves with an issuer built from parameters: subject and key identifier must
        // match the stored certificate, which they do (fixed subject, key identifier from the key).
        let issuer = ca_params(&[]).self_signed(&key)?;
        if key.public_key_der() != info.spki {
            return Err(invalid(
                &paths.key,
                "the key does not belong to the certificate".into(),
            ));
        }
        let hmac_hex = match std::fs::read_to_string(&paths.hmac) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let hmac = crate::fingerprint::hex(&random_bytes::<32>());
                write_private(&paths.hmac, format!("{hmac}\n").as_bytes())?;
                hmac
            }
            Err(e) => return Err(io_err(&paths.hmac)(e)),
        };
        let hmac_bytes = unhex(hmac_hex.trim())
            .filter(|b| b.len() >= 16)
            .ok_or_else(|| invalid(&paths.hmac, "expected at least 32 hex digits".into()))?;
        Ok(Ca {
            permitted: info.permitted_dns,
            paths,
            cert_pem,
            cert_der,
            issuer,
            key,
            hmac_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &hmac_bytes),
            leaves: DashMap::new(),
        })
    }

    /// The HMAC key for audit fingerprints.
    pub fn fingerprint_key(&self) -> &ring::hmac::Key {
        &self.hmac_key
    }

    /// Whether the CA's name constraints permit `host`.
    pub fn permits(&self, host: &str) -> bool {
        match &self.permitted {
            None => true,
            Some(list) => list.iter().any(|d| within(host, d)),
        }
    }

    /// Intercept patterns of `policy` the CA does not permit (clients would reject their leaves).
    pub fn unpermitted_patterns(&self, policy: &Policy) -> Vec<String> {
        policy
            .intercept_hosts
            .iter()
            .filter(|p| match pattern_base(p) {
                Some(base) => !self.permits(&base),
                None => self.permitted.is_some(),
            })
            .cloned()
            .collect()
    }

    /// The leaf certificate for `host`, minted on first use.
    pub fn leaf(&self, host: &str) -> Result<Leaf, CaError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(l) = self.leaves.get(&host) {
            return Ok(l.clone());
        }
        let leaf = self.mint(&host)?;
        Ok(self.leaves.entry(host).or_insert(leaf).clone())
    }

    fn mint(&self, host: &str) -> Result<Leaf, CaError> {
        let mut p = CertificateParams::new(vec![host.to_string()])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host);
        dn.push(DnType::OrganizationName, CA_ORGANIZATION);
        p.distinguished_name = dn;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::days(1);
        p.not_after = now + time::Duration::days(365);
        p.serial_number = Some(serial());
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let cert = p.signed_by(&key, &self.issuer, &self.key)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
        Ok(Arc::new(CertifiedKey::new(
            vec![cert.der().clone(), self.cert_der.clone()],
            signer,
        )))
    }

    /// A human summary (for `ca show`).
    pub fn describe(&self) -> String {
        let info = CertInfo::parse(&self.cert_der);
        let mut s = String::new();
        s.push_str(&format!("certificate: {}\n", self.paths.cert.display()));
        s.push_str(&format!(
            "private key: {} (owner-only)\n",
            self.paths.key.display()
        ));
        s.push_str(&format!(
            "subject:     CN={CA_COMMON_NAME}, O={CA_ORGANIZATION}\n"
        ));
        if let Some(i) = info {
            s.push_str(&format!(
                "valid:       {} to {}\n",
                i.not_before, i.not_after
            ));
        }
        s.push_str(&format!(
            "sha256:      {}\n",
            crate::fingerprint::sha256_hex(&self.cert_der)
        ));
        match &self.permitted {
            Some(d) => s.push_str(&format!("permitted:   {}\n", d.join(", "))),
            None => s.push_str("permitted:   (no name constraints)\n"),
        }
        s
    }
}

/// Standard base64 with padding.
pub(crate) fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// PEM-encodes one certificate.
pub fn pem_encode_cert(der: &[u8]) -> String {
    let b64 = base64(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap_or(""));
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

/// System CA bundles, in the order they are looked for.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
    "/usr/local/etc/openssl/cert.pem",
    "/opt/homebrew/etc/openssl@3/cert.pem",
];

/// Writes `ca-bundle.pem` in the CA directory: the system roots (the first system bundle found,
/// else the webpki roots) followed by the promptgate CA. Returns where it came from.
pub fn write_bundle(paths: &CaPaths) -> Result<String, CaError> {
    let ca_pem = std::fs::read_to_string(&paths.cert).map_err(io_err(&paths.cert))?;
    let (mut bundle, source) = SYSTEM_BUNDLES
        .iter()
        .find_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .filter(|s| s.contains("BEGIN CERTIFICATE"))
                .map(|s| (s, p.to_string()))
        })
        .unwrap_or_else(|| {
            let s: String = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| pem_encode_cert(c))
                .collect();
            (s, "webpki roots".to_string())
        });
    if !bundle.ends_with('\n') {
        bundle.push('\n');
    }
    bundle.push_str("# promptgate local CA\n");
    bundle.push_str(&ca_pem);
    write_public(&paths.bundle, bundle.as_bytes())?;
    Ok(source)
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:,@+=".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `export NAME=VALUE` lines of `promptgate env` (creates the CA with the default policy if it
/// is missing, and writes the bundle).
pub fn env_exports(listen: &str, dir: &Path) -> Result<String, CaError> {
    let dir = std::path::absolute(dir).map_err(io_err(dir))?;
    create(&dir, &Policy::embedded_default(), false)?;
    let paths = CaPaths::new(&dir);
    write_bundle(&paths)?;
    let proxy = format!("http://{listen}");
    let no_proxy = "localhost,127.0.0.1,::1";
    let ca = paths.cert.display().to_string();
    let bundle = paths.bundle.display().to_string();
    let vars: [(&str, &str); 10] = [
        ("HTTPS_PROXY", &proxy),
        ("HTTP_PROXY", &proxy),
        ("https_proxy", &proxy),
        ("http_proxy", &proxy),
        ("NO_PROXY", no_proxy),
        ("no_proxy", no_proxy),
        ("NODE_EXTRA_CA_CERTS", &ca),
        ("SSL_CERT_FILE", &bundle),
        ("REQUESTS_CA_BUNDLE", &bundle),
        ("CURL_CA_BUNDLE", &bundle),
    ];
    Ok(vars
        .iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
        .collect())
}

/// Parses PEM certificates.
pub fn pem_certs(pem: &str) -> Vec<CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .filter_map(Result::ok)
        .collect()
}

fn first_cert(pem: &str) -> Option<CertificateDer<'static>> {
    pem_certs(pem).into_iter().next()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The few facts read back from a certificate (a minimal DER walk; no full X.509 parser needed).
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub not_before: String,
    pub not_after: String,
    pub spki: Vec<u8>,
    pub permitted_dns: Option<Vec<String>>,
}

/// One DER element: (tag, content, whole element, rest).
type Der<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

fn der(buf: &[u8]) -> Option<Der<'_>> {
    let tag = *buf.first()?;
    let l0 = *buf.get(1)? as usize;
    let (len, hdr) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let n = l0 & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *buf.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    if end > buf.len() {
        return None;
    }
    Some((tag, &buf[hdr..end], &buf[..end], &buf[end..]))
}

fn der_time(tag: u8, c: &[u8]) -> String {
    let s = String::from_utf8_lossy(c);
    let (y, rest) = match tag {
        0x17 if s.len() >= 12 => {
            let yy: u32 = s[0..2].parse().unwrap_or(0);
            let y = if yy >= 50 { 1900 + yy } else { 2000 + yy };
            (y.to_string(), &s[2..])
        }
        0x18 if s.len() >= 14 => (s[0..4].to_string(), &s[4..]),
        _ => return s.into_owned(),
    };
    format!(
        "{y}-{}-{} {}:{}:{} UTC",
        &rest[0..2],
        &rest[2..4],
        &rest[4..6],
        &rest[6..8],
        &rest[8..10]
    )
}

impl CertInfo {
    pub fn parse(cert: &[u8]) -> Option<CertInfo> {
        let (_, certc, _, _) = der(cert)?;
        let (_, tbs, _, _) = der(certc)?;
        let mut rest = tbs;
        let (tag, _, _, r) = der(rest)?;
        if tag == 0xa0 {
            rest = r; // version
        }
        let (_, _, _, r) = der(rest)?; // serial
        let (_, _, _, r) = der(r)?; // signature algorithm
        let (_, _, _, r) = der(r)?; // issuer
        let (_, validity, _, r) = der(r)?;
        let (t1, nb, _, vr) = der(validity)?;
        let (t2, na, _, _) = der(vr)?;
        let (_, _, _, r) = der(r)?; // subject
        let (_, _, spki, mut r) = der(r)?;
        let mut permitted_dns = None;
        while let Some((tag, c, _, next)) = der(r) {
            if tag == 0xa3 {
                let (_, mut exts, _, _) = der(c)?;
                while let Some((_, ext, _, more)) = der(exts) {
                    let (_, oid, _, er) = der(ext)?;
                    if oid == [0x55, 0x1d, 0x1e] {
                        let mut er = er;
                        let (mut t, mut v, _, mut rr) = der(er)?;
                        if t == 0x01 {
                            er = rr;
                            (t, v, _, rr) = der(er)?;
                        }
                        let _ = (t, rr);
                        // OCTET STRING { NameConstraints SEQ { [0] permitted, [1] excluded } }
                        let (_, nc, _, _) = der(v)?;
                        let mut list = Vec::new();
                        let mut ncr = nc;
                        while let Some((ntag, subtrees, _, nrest)) = der(ncr) {
                            if ntag == 0xa0 {
                                let mut s = subtrees;
                                while let Some((_, gs, _, srest)) = der(s) {
                                    if let Some((0x82, name, _, _)) = der(gs) {
                                        list.push(String::from_utf8_lossy(name).into_owned());
                                    }
                                    s = srest;
                                }
                            }
                            ncr = nrest;
                        }
                        permitted_dns = Some(list);
                    }
                    exts = more;
                }
            }
            r = next;
        }
        Some(CertInfo {
            not_before: der_time(t1, nb),
            not_after: der_time(t2, na),
            spki: spki.to_vec(),
            permitted_dns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_and_domains() {
        assert_eq!(pattern_base("*.cursor.sh").as_deref(), Some("cursor.sh"));
        assert_eq!(
            pattern_base("codewhisperer.*.amazonaws.com").as_deref(),
            Some("amazonaws.com")
        );
        assert_eq!(
            pattern_base("api.openai.com").as_deref(),
            Some("api.openai.com")
        );
        assert_eq!(pattern_base("*"), None);
        let d = permitted_domains(&Policy::embedded_default());
        assert!(d.contains(&"api.openai.com".to_string()));
        assert!(d.contains(&"amazonaws.com".to_string()));
        assert!(!d.iter().any(|x| x == "openai.com"));
        assert!(within("api.openai.com", "api.openai.com"));
        assert!(within("x.cursor.sh", "cursor.sh"));
        assert!(!within("evilcursor.sh", "cursor.sh"));
    }

    #[test]
    fn create_load_and_mint() {
        let dir = tempfile::tempdir().unwrap();
        let policy = Policy::embedded_default();
        assert_eq!(create(dir.path(), &policy, false).unwrap(), Created::New);
        assert_eq!(
            create(dir.path(), &policy, false).unwrap(),
            Created::Existing
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [KEY_FILE, HMAC_FILE] {
                let m = std::fs::metadata(dir.path().join(f)).unwrap();
                assert_eq!(m.permissions().mode() & 0o777, 0o600, "{f}");
            }
        }
        let ca = Ca::load(dir.path()).unwrap();
        let permitted = ca.permitted.clone().unwrap();
        assert_eq!(permitted, permitted_domains(&policy));
        assert!(ca.permits("api.openai.com"));
        assert!(!ca.permits("example.com"));
        assert!(ca.unpermitted_patterns(&policy).is_empty());
        let other = Policy::from_yaml("p", "intercept:\n  hosts: [example.com]\n").unwrap();
        assert_eq!(ca.unpermitted_patterns(&other), vec!["example.com"]);
        let a = ca.leaf("api.openai.com").unwrap();
        let b = ca.leaf("API.openai.com").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.cert.len(), 2);
        assert!(ca.describe().contains("api.openai.com"));
    }
}
