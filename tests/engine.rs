//! Detector behaviour through the public engine API.

use promptgate::redact::redact;
use promptgate::{Category, Engine, Policy, Verdict};

fn engine() -> Engine {
    Engine::with_default_policy()
}

fn rules(text: &str) -> Vec<String> {
    engine()
        .scan(text)
        .iter()
        .map(|f| f.rule.to_string())
        .collect()
}

/// The text a finding covers.
fn spans<'a>(e: &Engine, text: &'a str) -> Vec<(&'a str, String)> {
    e.scan(text)
        .into_iter()
        .map(|f| (&text[f.start..f.end], f.rule.to_string()))
        .collect()
}

/// Asserts that each (value, rule) is among the findings `got` (as `spans` gives them).
fn assert_found(got: &[(&str, String)], want: &[(&str, &str)]) {
    for (v, r) in want {
        assert!(
            got.iter().any(|(gv, gr)| gv == v && gr == r),
            "missing {r} {v}: {got:?}"
        );
    }
}

/// Asserts that the generic reader finds each value in its text.
fn assert_generic_finds(e: &Engine, cases: &[(&str, &str)]) {
    for (text, value) in cases {
        let found = spans(e, text);
        assert!(
            found
                .iter()
                .any(|(v, r)| v == value && r == "generic_secret_assignment"),
            "{text}: {found:?}"
        );
    }
}

#[test]
fn finding_offsets_lines_and_columns() {
    let text = "first line\n  token = \"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\"\n";
    let f = engine().scan(text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule, "github_token");
    assert_eq!(
        &text[f[0].start..f[0].end],
        "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"
    );
    assert_eq!((f[0].line, f[0].column), (2, 12));
    assert_eq!(f[0].category, Category::Secret);
    assert_eq!(f[0].verdict, Verdict::Never);
}

#[test]
fn multibyte_text_keeps_byte_offsets() {
    let text = "naïve café → mail zoë.müller@contoso-mail.de or bob@contoso-mail.de";
    let e = engine();
    let got = spans(&e, text);
    assert!(
        got.iter()
            .any(|(v, r)| *v == "bob@contoso-mail.de" && r == "email"),
        "{got:?}"
    );
    // Lossy bytes scan without panicking.
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b' ']);
    bytes.extend_from_slice(b"AKIAF3EYJPTQ6YHGX56Z");
    let f = e.scan_bytes(&bytes);
    assert!(f.iter().any(|f| f.rule == "aws_access_key_id"));
}

#[test]
fn private_key_block_is_one_finding() {
    let text = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA4+FfR/1AOXG6FxKQBsd0z3E2TS+nDbTV41RsKb3npRwycKKM\n5EWBP8GEY6PKRA5vip5f++QHkq+mU648IBRiUDxd6SfYNGUrP3ZNOuWCl0i1W0HE\n-----END RSA PRIVATE KEY-----\nthanks";
    let f = engine().scan(text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].category, Category::PrivateKey);
    assert!(text[f[0].start..f[0].end].starts_with("-----BEGIN RSA"));
    assert!(text[f[0].start..f[0].end].ends_with("-----END RSA PRIVATE KEY-----"));
}

#[test]
fn truncated_and_pgp_private_keys() {
    let truncated = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACCjEaM2H2xl3WTfkkqhdSfttDZ8P625TKNVT6Jb0O1+FQAAAJB7HfGcex3x";
    let f = engine().scan(truncated);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].end, truncated.len());
    let pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF3kZ0EBCAC7w2kYt8aP0Q\n-----END PGP PRIVATE KEY BLOCK-----";
    assert_eq!(rules(pgp), vec!["private_key"]);
}

#[test]
fn public_material_is_quiet() {
    for t in [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMfIyjnoZQn59Js3VSX03VAzisEEcEY64mgwaf3J1qEV ci@build",
        "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
}

#[test]
fn dotenv_block_covers_the_block() {
    let text = "Fix my env:\nNODE_ENV=production\nSESSION_SECRET=e8319002d3167d53e5753dc98fa36a1009aecac22ae386fb\nPORT=5000\n\nthanks";
    let e = engine();
    let f = e.scan(text);
    let d: Vec<_> = f
        .iter()
        .filter(|f| f.category == Category::Dotenv)
        .collect();
    assert_eq!(d.len(), 1, "{f:?}");
    assert_eq!(
        &text[d[0].start..d[0].end],
        "NODE_ENV=production\nSESSION_SECRET=e8319002d3167d53e5753dc98fa36a1009aecac22ae386fb\nPORT=5000"
    );
    // Redaction keeps the names and harmless values.
    let r = redact(text, &f);
    assert!(r.text.contains("NODE_ENV=production"), "{}", r.text);
    assert!(r.text.contains("PORT=5000"));
    assert!(r.text.contains("SESSION_SECRET=["));
    assert!(!r.text.contains("e8319002"));
}

#[test]
fn pii_detectors() {
    let e = engine();
    let text = "From: omar.mensah@northwind-trading.com\nSSN 138-07-8581, IBAN FR6541981132860957433973675, call +44 20 8667 5203 or (912) 254-9183. Card 5387-5175-0346-2348.";
    let got = spans(&e, text);
    assert_found(
        &got,
        &[
            ("omar.mensah@northwind-trading.com", "email"),
            ("138-07-8581", "us_ssn"),
            ("FR6541981132860957433973675", "iban"),
            ("+44 20 8667 5203", "phone_number"),
            ("(912) 254-9183", "phone_number"),
            ("5387-5175-0346-2348", "credit_card"),
        ],
    );
}

#[test]
fn pii_lookalikes_are_quiet() {
    for t in [
        "Order 4000130060100085 shipped at unix time 1750908373 (ISBN 978-0-13-468599-1).",
        "Version 10.4.12.1 of the driver, color #3a7bd5, build 2026-10-23T01:12:44Z",
        "mail goes to noreply@example.com, bob@shop.test and ci@example.org",
        "card 4242 4242 4242 4241 fails Luhn",
        "SSN 000-12-3456 and 666-12-3456 are invalid",
        "IBAN DE89370400440532013001 has a bad checksum",
        "IBAN GB01 ABBY 0901 7724 5265 27 has a bad checksum, and its tail is no phone",
        "call 555-0123 or 555-0142 (fictional)",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
}

#[test]
fn internal_names() {
    let p = Policy::from_yaml(
        "t",
        "internal:\n  domains: [corp.example.net]\n  codenames: [\"Project Bluefin\", NIGHTJAR]\n",
    )
    .unwrap();
    let e = Engine::new(p).unwrap();
    let text = "db at pg01.prod.internal and 192.168.88.94; wiki.corp.example.net; project bluefin ships; nightjar-v2 is not a word match but NIGHTJAR is";
    let got = spans(&e, text);
    assert_found(
        &got,
        &[
            ("pg01.prod.internal", "internal_host"),
            ("192.168.88.94", "private_ip"),
            ("wiki.corp.example.net", "internal_host"),
            ("project bluefin", "codename"),
            ("NIGHTJAR", "codename"),
        ],
    );
    let f = e.scan(text);
    assert!(f.iter().all(|f| f.verdict == Verdict::Caution));
    assert_eq!(Engine::verdict(&f), Verdict::Caution);
    for quiet in [
        "127.0.0.1 localhost 0.0.0.0",
        "threading.local()",
        "172.32.0.1 8.8.8.8",
        "notcorp.example.net",
    ] {
        assert!(e.scan(quiet).is_empty(), "{quiet}: {:?}", spans(&e, quiet));
    }
    // Whole words: `_` separates words in a name, a letter or a digit makes another word.
    for (t, want) in [
        ("NIGHTJAR_ENABLED=1", true),
        ("enable_nightjar()", true),
        ("the NightjarDB driver", false),
        ("Nightjars roost", false),
        ("nightjar2 build", false),
    ] {
        let got = spans(&e, t).iter().any(|(_, r)| *r == "codename");
        assert_eq!(got, want, "{t}: {:?}", spans(&e, t));
    }
}

#[test]
fn placeholders_and_identifiers_are_quiet() {
    for t in [
        "Set OPENAI_API_KEY=sk-... in your shell",
        "token: ${GITHUB_TOKEN}\npassword: ${DB_PASSWORD}",
        "const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);",
        "api_key = os.environ[\"API_KEY\"]",
        "Replace <YOUR_API_KEY> with the key from the dashboard",
        "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "def rotate_secret(secret_id: str, token_ttl: int = 3600) -> None:",
        "password = getpass.getpass(\"Password: \")",
        "commit bdb686ef8d98e23ae97a74587d0dc74225ec79c8",
        "\"integrity\": \"sha512-A8Y/m0v/BNeMLrGM8r3QPAJfNL/MHuLHQtHX4/vXflAOgNf1nPqbSET3EkeQc4dvJA2Lvfe/XoWK3gDQ1+AlRZ==\"",
        "id: 'dc8f3450-e1f6-4ca7-a321-de656cb67b2a'",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
}

#[test]
fn policy_disables_rules_and_changes_boxes() {
    let p = Policy::from_yaml(
        "t",
        "rules:\n  phone_number: { enabled: false }\n  email: { box: caution }\n",
    )
    .unwrap();
    let e = Engine::new(p).unwrap();
    let f = e.scan("call +44 20 8667 5203 or mail omar@northwind-trading.com");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule, "email");
    assert_eq!(f[0].verdict, Verdict::Caution);
}

#[test]
fn a_disabled_rule_reports_nothing_whatever_finds_it() {
    // Each rule that fires on a mixed prompt, turned off alone: none of its findings is left, and
    // the other rules still report.
    let text = "export GITHUB_TOKEN=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\n\
        DATABASE_URL=postgres://app:Hx8vQ2rLm9Tz@db7.prod.internal:5432/app\n\
        password = \"Qm7rTz82-4410!\"\n\
        contact: omar@northwind-trading.com, +44 20 8667 5203\n\
        upstream = 10.12.7.31:8443\n\
        card 4111 1111 1111 1111 for order 4412\n\
        Authorization: Bearer 8f2b1c9d7e6a5f4b3c2d1e0f9a8b7c6d\n";
    let all = engine().scan(text);
    let mut ids: Vec<&str> = all.iter().map(|f| f.rule).collect();
    ids.sort_unstable();
    ids.dedup();
    assert!(ids.len() >= 6, "{ids:?}");
    for id in ids {
        let p = Policy::from_yaml("t", &format!("rules:\n  {id}: {{ enabled: false }}\n")).unwrap();
        let f = Engine::new(p).unwrap().scan(text);
        assert!(f.iter().all(|x| x.rule != id), "{id}: {f:?}");
        assert!(!f.is_empty(), "{id}");
    }
}

#[test]
fn allowlist_literal_regex_and_fingerprint() {
    let token = "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";
    let fp = promptgate::fingerprint::sha256_hex(token.as_bytes());
    for entry in [
        format!("literal: {token}"),
        "regex: '^ghp_G73w'".to_string(),
        format!("fingerprint: sha256:{fp}"),
    ] {
        let p = Policy::from_yaml("t", &format!("allowlist:\n  - {entry}\n")).unwrap();
        let e = Engine::new(p).unwrap();
        assert!(
            e.scan(&format!("GITHUB_TOKEN={token}")).is_empty(),
            "{entry}"
        );
    }
}

#[test]
fn redaction_is_typed_numbered_and_stable() {
    let text = "a=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 b=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 mail omar@northwind-trading.com host pg01.prod.internal";
    let f = engine().scan(text);
    let r = redact(text, &f);
    assert_eq!(
        r.text,
        "a=[SECRET_1] b=[SECRET_1] mail [PII_1] host [INTERNAL_1]"
    );
    assert_eq!(r.replacements.len(), 3);
    assert_eq!(r.restore(&r.text), text);
    // The redacted text scans clean.
    assert!(engine().scan(&r.text).is_empty());
    // Debug output never shows a value.
    assert!(!format!("{:?}", r.replacements).contains("ghp_"));
}

#[test]
fn engine_is_shareable_across_threads() {
    let e = std::sync::Arc::new(engine());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || {
                e.scan("export NPM_TOKEN=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")
                    .len()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 1);
    }
}

#[test]
fn default_keywords_fit_the_simd_prefilter() {
    // aho-corasick's fast (Slim Teddy) prefilter wants small pattern sets, and three-byte
    // fingerprints need patterns of at least three bytes. Keep the default policy inside both.
    let (count, shortest) = engine().keyword_stats();
    assert!(count <= 16, "{count} keywords in one automaton");
    assert!(shortest >= 3, "shortest keyword has {shortest} bytes");
}

#[test]
fn digits_inside_a_token_are_the_token_not_personal_data() {
    let e = engine();
    // A Slack token's and a Telegram token's digit runs look like phone numbers or SSNs.
    let slack = "SLACK_BOT_TOKEN=xoxb-415555267100-4155552671123-aB3dE5fG7hJ9kL1mN3pQ5rS7\n";
    let telegram = "bot token 4155552671:AAHk3x9Zq2LmX7vQ8pR3sT1uV5wY0zB4cD6\n";
    for text in [slack, telegram] {
        let found = spans(&e, text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_ne!(found[0].1, "phone_number");
        assert_ne!(found[0].1, "us_ssn");
    }
    // Personal data beside a token on the same line is still found.
    let both = format!("call +1 (415) 555-2671 or use {}", slack.trim_end());
    let found = spans(&e, &both);
    assert!(
        found
            .iter()
            .any(|f| f.1 == "phone_number" && f.0 == "+1 (415) 555-2671"),
        "{found:?}"
    );
    assert!(found.iter().any(|f| f.1 == "slack_token"), "{found:?}");
    // A private address's digits are the address's; a phone right after it is still a phone.
    let ip = "upstream = 10.123.145.167:8443\n";
    let found = spans(&e, ip);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "private_ip");
    // (One run of digits and separators: the address's claim must not hide the phone's digits.)
    let found = spans(&e, "relay at 10.123.145.167. 415-555-2671 is on call");
    assert!(found.iter().any(|f| f.1 == "private_ip"), "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| f.1 == "phone_number" && f.0 == "415-555-2671"),
        "{found:?}"
    );
}

#[test]
fn a_value_a_specific_rule_found_is_reported_once_by_that_rule() {
    let e = engine();
    for (text, rule) in [
        (
            "export GITHUB_TOKEN=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\n",
            "github_token",
        ),
        (
            "api_key: \"sk_live_4f9Qx2LmZ8rT1vB6nK3pW7yD\"\n",
            "stripe_secret_key",
        ),
        (
            "password: \"postgres://app:Winter_2024!171@pg.prod.lan:5432/app\"\n",
            "url_password",
        ),
    ] {
        let found = spans(&e, text);
        let secrets: Vec<_> = found.iter().filter(|f| f.1 != "internal_host").collect();
        assert_eq!(secrets.len(), 1, "{text}: {found:?}");
        assert_eq!(secrets[0].1, rule, "{text}");
    }
    // With no specific rule, the generic reader still reports the value.
    assert_eq!(
        rules("api_key: \"f3a9c1e7b5d24f6a8c0e9d2b\"\n"),
        ["generic_secret_assignment"]
    );
}

#[test]
fn values_given_beside_their_names_and_in_wrappers() {
    let e = engine();
    let cases: &[(&str, &str)] = &[
        // Kubernetes env entries and Postman/CloudFormation key-value objects.
        (
            "env:\n  - name: API_TOKEN\n    value: \"q7ivCEFHfXYO6AGprHmStCWRxrA2uoJ\"\n",
            "q7ivCEFHfXYO6AGprHmStCWRxrA2uoJ",
        ),
        (
            "{ \"key\": \"apiKey\", \"value\": \"e8mNFL40M1twSn1Xa2H_peonju2JqKS0ft0QCk7a\", \"enabled\": true }",
            "e8mNFL40M1twSn1Xa2H_peonju2JqKS0ft0QCk7a",
        ),
        // Wrapped literals.
        (
            "var signingKey = []byte(\"4a8abd53e9dd194b08d1c7c020660fde247a515d348ff602\")",
            "4a8abd53e9dd194b08d1c7c020660fde247a515d348ff602",
        ),
        (
            "const webhookSecret = Buffer.from(\"Kq7ivCEFHfXYO6AGp\", \"utf8\");",
            "Kq7ivCEFHfXYO6AGp",
        ),
        // A .properties value with brackets in it, whole.
        (
            "app.security.jwt.secret=x0bCzZSlvE++xhsWBe3lL7GZfVmdBRN0%(sg46^Ra8AfsDAgg)",
            "x0bCzZSlvE++xhsWBe3lL7GZfVmdBRN0%(sg46^Ra8AfsDAgg)",
        ),
        // A WordPress salt: a `<` amid random bytes is no placeholder.
        (
            "define( 'AUTH_KEY', '8-)KG5vo{V6y;LSWp#*<hu27<wE0L5~^8nxaYa)_Z=I;WclAs67R(Bk#Z' );",
            "8-)KG5vo{V6y;LSWp#*<hu27<wE0L5~^8nxaYa)_Z=I;WclAs67R(Bk#Z",
        ),
        // Prose.
        (
            "rotated the DB password to `iygHmfD0NKzZVw4BsdZPOxIlGNbaSagFT0wyB4nY` and restarted",
            "iygHmfD0NKzZVw4BsdZPOxIlGNbaSagFT0wyB4nY",
        ),
    ];
    assert_generic_finds(&e, cases);
}

#[test]
fn values_in_flags_escaped_json_and_plain_config() {
    let e = engine();
    let cases: &[(&str, &str)] = &[
        // kubectl takes the pair as a flag's value.
        (
            "kubectl create secret generic app \\\n  --from-literal=DB_PASSWORD='Thistle_163pepper' \\",
            "Thistle_163pepper",
        ),
        // A JSON body inside a JSON string (a HAR file's postData).
        (
            r#""text": "{\"email\":\"zoe@shop.io\",\"password\":\"vJHVWQqNhnbcFqVq0ASvf5\"}""#,
            "vJHVWQqNhnbcFqVq0ASvf5",
        ),
        // The passwords people choose, bare in YAML and .properties.
        ("db:\n  auth:\n    password: Summer2020!\n", "Summer2020!"),
        ("spring.datasource.password=Fern2026!\n", "Fern2026!"),
        // A .properties value with a comma in it, whole.
        (
            "spring.datasource.password=l8e34x,~BS0VX5s+TO\n",
            "l8e34x,~BS0VX5s+TO",
        ),
        // ODBC's Pwd, and a WordPress salt whose first bytes look like a template reference.
        (
            "$odbc = \"Driver={ODBC Driver 18};Server=sql01;Uid=rpt;Pwd=Orchid%455quartz;\"",
            "Orchid%455quartz",
        ),
        (
            "define( 'AUTH_SALT',        '$$-?tfmpV78wL+WCd+:BT+l&K9U``}Z@`v!lZ{e^y{MffDDGs8gvEvYYmNP' );",
            "$$-?tfmpV78wL+WCd+:BT+l&K9U``}Z@`v!lZ{e^y{MffDDGs8gvEvYYmNP",
        ),
    ];
    assert_generic_finds(&e, cases);
    // Variables stay variables.
    for t in [
        "password: pass2",
        "password = cfg12",
        "password: passwordInput!",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
}

#[test]
fn a_config_only_env_block_is_dotenv_when_it_names_internal_hosts() {
    let e = engine();
    let real = "Which of these are build-time?\n\nTZ=UTC\nSENTRY_ENVIRONMENT=production\nAPI_BASE_URL=https://api.stg.payments.internal/v2\nELASTIC_NODE=http://10.107.31.238:9200\nPORT=3000\n";
    let f = e.scan(real);
    let d: Vec<_> = f
        .iter()
        .filter(|f| f.category == Category::Dotenv)
        .map(|f| &real[f.start..f.end])
        .collect();
    assert_eq!(
        d,
        ["TZ=UTC\nSENTRY_ENVIRONMENT=production\nAPI_BASE_URL=https://api.stg.payments.internal/v2\nELASTIC_NODE=http://10.107.31.238:9200\nPORT=3000"],
        "{f:?}"
    );
    // An example file points at localhost: no dotenv finding.
    let example = "Template:\nNODE_ENV=development\nREDIS_URL=redis://localhost:6379\nPORT=3000\nAPI_URL=http://127.0.0.1:8080\n";
    assert!(
        e.scan(example)
            .iter()
            .all(|f| f.category != Category::Dotenv),
        "{:?}",
        e.scan(example)
    );
    // Two pairs with an internal host are not yet a file.
    let two = "DB_HOST=db01.payments.internal\nDB_PORT=5432\n";
    assert!(e.scan(two).iter().all(|f| f.category != Category::Dotenv));
}

#[test]
fn look_alikes_from_real_configs_and_code_stay_quiet() {
    for t in [
        // Deployment tools' tokens, SOPS ciphertext, Key Vault references, YAML tags.
        "\"Smtp\": { \"Password\": \"#{SmtpPassword}#\" }",
        "\"Password\": \"__DB_PASSWORD__\"",
        "password = %(DB_PASSWORD)s",
        "spring.datasource.password=@db.password@",
        "password: !env_var INFLUX_PASSWORD",
        "password: ENC[AES256_GCM,data:Tr3kPq9Zx0vW,iv:kq8Zx0Lm3Vb7Nc2Xa9Sd,tag:p0Oi9Uy8,type:str]",
        "\"value\": \"@Microsoft.KeyVault(VaultName=kv-demo;SecretName=db-password)\"",
        // Metadata about tokens and passwords, and names of Secret objects.
        "token.scopes=read,write",
        "password_encryption = scram-sha-256",
        "--set auth.existingSecret=pg-credentials-v2",
        "  remoteRef:\n    key: prod/payments/stripe-api-key-v2",
        "partition_key: tenant#2024-05#orders-archive",
        // Calls and paths in code.
        "    password = models.CharField(max_length=128)",
        "    token := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)",
        "    auto token = std::make_unique<Token>(raw);",
        // .env keys that only contain a secret word, or are about one.
        "KEYCLOAK_REALM=myrealm\nTOKENIZER_NAME=bert-base-uncased\nBYPASS_CACHE_PATHS=/health,/metrics\n",
        "API_KEY_HEADER=X-Api-Key\nPUBLIC_KEY_PATH=./keys/jwt.pub\nPASSWORD_POLICY=strong\n",
        // Cookies that hold no session, vault fields that hold no secret, uid:gid.
        "Cookie: sidebar_state=collapsedleftpanel00; theme=dark",
        "vault read -field=token_type auth/approle/role/ci\nservice\n",
        "docker run --user 1000:1000 alpine id",
        // Package names, files, Kubernetes' default domain, systemd units, Kotlin labels.
        "logging.level.io.grpc.internal=WARN",
        "make -f Makefile.local dev",
        "clusterDomain: cluster.local",
        "systemctl restart wg-quick@wg0.service",
        "this@MainActivity.startActivity(intent)",
        "git clone https://x-token-auth@bitbucket.org/acme/app.git",
        // `tel` inside a word labels no phone; `ssn` inside a word labels no SSN.
        "telemetry: stateless, max 2147483647 events",
        "import classnames from 'classnames';\nconst MAX_UPLOAD_BYTES = 104857600;",
        // RFC 7617's example credentials.
        "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
    // The same forms with real values are still found.
    for (t, rule) in [
        (
            "Cookie: theme=dark; connect.sid=s%3Aq8Zr3KfL0pW2mX7vT9bN4cY6",
            "session_cookie",
        ),
        (
            "vault kv get -field=db_password secret/app\nq8Zr3KfL0pW2mX7v\n",
            "vault_field_output",
        ),
        (
            "docker login -u ci --password x; curl -u ci:q8Zr3KfL0pW2 https://x",
            "curl_user_password",
        ),
    ] {
        assert!(rules(t).iter().any(|r| r == rule), "{t}: {:?}", rules(t));
    }
}

#[test]
fn ids_public_keys_ciphertext_and_calls_stay_quiet() {
    for t in [
        // An idempotency key is a UUID, and a name field without a value field says nothing.
        "  \"idempotency_key\": \"c6b96829-da20-42f9-9334-f822cd225894\"",
        "env:\n  - name: API_TOKEN\n    valueFrom:\n      secretKeyRef: {name: app, key: token}\n",
        // Stripe's publishable key is public.
        "\"PublishableKey\": \"pk_live_e2E0M204CPeqEhD45ar5ouGC\"",
        // A command substitution and a call.
        "DB_PASSWORD=$(openssl rand -hex 32)",
        "password = get_password(user)",
        // A SealedSecret's ciphertext is meant to be committed.
        "kind: SealedSecret\nspec:\n  encryptedData:\n    password: AgBZThC5jkGmmv/R/9rJOfJjCVZKZP69KFNVZ6t8ajwzuPDH67MSoTNXh4AO/FwS54hWZa/V2/QED1Ll\n",
        // Stripe's 3D Secure test card.
        "card 4000 0025 0000 3155 exp 12/34",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
    // A list of field names, a TypeScript type, a name made of words under an access key, and a
    // published example IBAN.
    for t in [
        "const SECRET_FIELDS = ['password', 'token', 'client_secret', 'private_key'];",
        "interface Session {\n  accessToken: string;\n}",
        "[runners.cache.s3]\n  AccessKey = \"fc-runner-cache\"",
        "IBAN: GB82 WEST 1234 5698 7654 32 (the example from the docs)",
        "hash_password::<sha2::Sha256>(\"my_password\", \"abcd\", &mut buf);",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
    // The PowerShell cmdlet is not the password; the string it converts is.
    let e = engine();
    let t = "$pass = ConvertTo-SecureString \"q7ivCEFHfXYO6AGprH\" -AsPlainText";
    assert!(spans(&e, t).iter().all(|(v, _)| !v.contains("ConvertTo")));
}

#[test]
fn registry_scoped_keys_plists_and_random_letters_are_read() {
    let e = engine();
    assert_generic_finds(
        &e,
        &[
            // `.npmrc` scopes the key to a registry path.
            (
                "//artifacts.corp/api/npm/npm-local/:_authToken=10dbdefe697fbedae64677353f371d935f58e32c14086a415ab28807ef223e24",
                "10dbdefe697fbedae64677353f371d935f58e32c14086a415ab28807ef223e24",
            ),
            // A property list: the value on the line after its key.
            (
                "\t<key>API_CLIENT_SECRET</key>\n\t<string>bd11e5d4f0f0540edb67bee211532b278e8a7a88d525fe338be03a10d6cdbdbd</string>",
                "bd11e5d4f0f0540edb67bee211532b278e8a7a88d525fe338be03a10d6cdbdbd",
            ),
            // `.netrc`: random letters in both cases, no digit.
            (
                "machine ci.corp login backup\n  password WUcvTrEGNkJWUxHE",
                "WUcvTrEGNkJWUxHE",
            ),
        ],
    );
    // Words in code change case once per word; a plist key that names no secret says nothing.
    for t in [
        "password = XMLHttpRequest",
        "token: HTTPSConnection",
        "<key>SecretKeyName</key>\n<string>MySecretKey</string>",
        "<key>CFBundleName</key>\n<string>Wq7vR2mZp9LkT4wN</string>",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
}

#[test]
fn nonces_digests_paths_and_encoded_ids_stay_quiet() {
    for t in [
        // Anti-forgery nonces and a scanner baseline's digest.
        "Cookie: theme=dark; csrftoken=bhF5se2IBonsjUoxRRQUSTrfLiU1ek1Q",
        "{\"type\": \"Secret Keyword\", \"hashed_secret\": \"d9c78ca7a3cffef335998d6b065ba1ba3935422b\"}",
        // A shell expansion reads the variable; a Vault path names where a secret is kept.
        ": \"${API_TOKEN:?API_TOKEN must be set}\"",
        "vault.hashicorp.com/agent-inject-secret-config.env: \"secret/data/gateway/config\"",
        // A test's stand-in, Ruby's safe navigation, the Key Uri Format's example secret.
        "r = client.post(\"/login\", json={\"username\": \"alice\", \"password\": \"wrong-password\"})",
        "webhook_secret = Rails.application.credentials.github&.webhook_secret",
        "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        // A UUID in base64 under a record key; a public key under an extension's `key`.
        "{\"partition\": 11, \"key\": \"ZjkyNjkxMjctN2UxMC00MzQxLWI5YmEtOWNhMDIzOTIxMGVj\"}",
        "\"key\": \"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAi66/6fzKJvKlAzt6/ZlqG5Efv3GE5fPoHD1nha2b6bk\"",
        // Ciphertext under encryptedData, whatever its first bytes.
        "spec:\n  encryptedData:\n    DB_PASSWORD: AAKMVdm7WkHnW0DIyoreqgJMvET8DCatcY+RLFxLyYEpV7bng/9djyYcAJkCDEHH7//9rd/65VgBAAbd\n",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
    // A PKCS#8 private key in base64 is no public key.
    assert!(!rules(
        "private_key = \"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4\""
    )
    .is_empty());
}

#[test]
fn digit_runs_that_are_ids_and_serials_are_not_cards_or_phones() {
    for t in [
        // 19 digits in a row (an amount in wei, a snowflake id) pass Luhn but are no card.
        "\"value\": \"3896362376915751733\",",
        // An ISSN, a barcode and a short serial.
        "\"A Field Guide to Clouds\",979-2-9255-1121-1,5923274108,0159-8902,698",
        "SKU-8653BD,7631789351378,002589828358,17631789351378",
        "\"Compilers\",8065751180,0057-1431,515",
        // An access log's status, size and time after the request.
        "203.0.113.7 - - [17/May/2024:10:00:00 +0000] \"GET /api/items HTTP/1.1\" 200 532 1234",
        "\"POST /v1/chat HTTP/2\" 404 415 5552671",
    ] {
        assert!(rules(t).is_empty(), "{t}: {:?}", rules(t));
    }
    // Phones with an area code in parentheses and no trunk prefix: labelled, or Brazil's mobiles.
    for (t, phone) in [
        ("'phone': '(11) 5559-4852'", "(11) 5559-4852"),
        ("- (11) 96003-3022", "(11) 96003-3022"),
    ] {
        let e = engine();
        assert!(
            spans(&e, t)
                .iter()
                .any(|(v, r)| *v == phone && r == "phone_number"),
            "{t}: {:?}",
            spans(&e, t)
        );
    }
    assert!(rules("see section (11) 5559-4852").is_empty());
}

#[test]
fn personal_data_beside_hex_digests_is_found_and_the_digests_stay_quiet() {
    let e = engine();
    // Digests hold long runs of digits between lowercase letters: none is personal data.
    let digests = "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n\
                   commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad 2718281828459045235360\n\
                   blake2 a19283746501928374650192837465019283746501928374650192837465aa\n";
    assert!(rules(digests).is_empty(), "{:?}", rules(digests));
    // The same digests with personal data among them, on their lines and after.
    let text = format!(
        "{digests}id a19283746501928374650192837465 card 5387-5175-0346-2348\n\
         9f86d081884c7d659a2f call +44 20 8667 5203\nIBAN FR6541981132860957433973675 ok\n"
    );
    let got = spans(&e, &text);
    assert_found(
        &got,
        &[
            ("5387-5175-0346-2348", "credit_card"),
            ("+44 20 8667 5203", "phone_number"),
            ("FR6541981132860957433973675", "iban"),
        ],
    );
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn ids_and_addresses_in_logs_and_csv_are_quiet_and_personal_data_among_them_is_found() {
    let e = engine();
    // Runs of nine digits or more that no card, SSN, phone or IBAN takes the shape of: an IPv4
    // address, ids of 11 and 12 digits, 17 digits, an unlabelled 10-digit id, nine digits with no
    // SSN named, 13 digits that fail Luhn, a date with its hour.
    let quiet = "2026-11-21 10:33:12 GET /orders from 203.0.113.45 took 12ms\n\
                 order_id,account,amount,ref\n\
                 98765432101,456789012345,12.50,7654321098765\n\
                 12345678901234567,1234567890,987654321,2026-05-12T11:22:33Z\n\
                 INSERT INTO orders VALUES (1042, '2026-05-12 11:22:33', 98765432101);\n";
    assert!(rules(quiet).is_empty(), "{:?}", rules(quiet));
    // The same rows with personal data in them: a card without separators, a labelled phone, an
    // SSN under its header, an international number and a compact IBAN.
    let text = format!(
        "{quiet}98765432101,5387517503462348,12.50,ok\n\
         name,phone\nAna,phone 4155552671\nssn\n138078581\n\
         203.0.113.45 call +966957970208, FR6541981132860957433973675\n\
         2026-05-12 11:22:33 customer 415-555-2671\n\
         Date:   Sat Nov 21 10:33:12 2026 +0000, iban NL58 TRIO 9320 4856 21\n"
    );
    let got = spans(&e, &text);
    assert_found(
        &got,
        &[
            ("5387517503462348", "credit_card"),
            ("4155552671", "phone_number"),
            ("138078581", "us_ssn"),
            ("+966957970208", "phone_number"),
            ("FR6541981132860957433973675", "iban"),
            ("415-555-2671", "phone_number"),
            ("NL58 TRIO 9320 4856 21", "iban"),
        ],
    );
    assert_eq!(got.len(), 7, "{got:?}");
    // A bare phone at the end of a row of numbers, labelled by the header just above the row.
    let csv = "ID,card,payout_iban,bic,tel\n\
               3285,5120813766997605,FR76 1131 5250 4108 7035 8477 946,RABONL2U,7075553762\n";
    assert!(
        spans(&e, csv)
            .iter()
            .any(|(v, r)| *v == "7075553762" && r == "phone_number"),
        "{:?}",
        spans(&e, csv)
    );
}

#[test]
fn bare_numbers_under_a_header_that_names_them_are_found() {
    let e = engine();
    // CSV (with a quoted comma), TSV and a Markdown table; the header is many rows up.
    let mut csv = String::from("id,name,account,phone,ssn,note\n");
    for i in 0..80 {
        csv.push_str(&format!(
            "{},\"Doe, Jane\",{},{},{},ok\n",
            1000 + i,
            7_300_000_000u64 + i * 7919,
            4_155_552_000u64 + i,
            219_091_000 + i
        ));
    }
    let got = spans(&e, &csv);
    // Every row's phone and SSN, from the last rows too; no account number.
    let phones = got.iter().filter(|(_, r)| r == "phone_number").count();
    let ssns = got.iter().filter(|(_, r)| r == "us_ssn").count();
    assert_eq!((phones, ssns), (80, 80), "{got:?}");
    assert!(got.iter().all(|(v, _)| !v.starts_with("73")), "{got:?}");

    let tsv = "order\tcustomer_phone\tSSN/TIN\n5848292\t07958019389\t278988036\n";
    let got = spans(&e, tsv);
    assert!(
        got.contains(&("07958019389", "phone_number".into())),
        "{got:?}"
    );
    assert!(got.contains(&("278988036", "us_ssn".into())), "{got:?}");
    assert!(!got.iter().any(|(v, _)| *v == "5848292"), "{got:?}");

    let md = "| id | mobile | amount |\n|---|---|---|\n| 46914 | 9861662960 | 12.50 |\n";
    assert!(spans(&e, md).contains(&("9861662960", "phone_number".into())));

    // Ids under headers that name no phone or SSN stay quiet, and so does a header's own row.
    let ids = "invoice,ref,account\n2025110656,2934829798,846498629\n";
    assert!(rules(ids).is_empty(), "{:?}", rules(ids));
}

#[test]
fn versions_are_no_addresses_and_numbers_after_id_words_are_ids() {
    let has = |text: &str, rule: &str| rules(text).iter().any(|r| r == rule);
    // A version word before a private address, in any case, or as a word's ending.
    for text in [
        "version 10.4.12.1",
        "Firmware 10.1.0.2",
        "v 10.1.0.2",
        "RELEASE: 10.2.3.4",
        "fwversion 10.2.3.4",
        "tag 192.168.1.20",
    ] {
        assert!(!has(text, "private_ip"), "{text}");
    }
    for text in [
        "host 10.4.12.1",
        "versions 10.4.12.1",
        "tags 192.168.1.20",
        "ver2 10.1.0.2",
    ] {
        assert!(has(text, "private_ip"), "{text}");
    }
    // A card number after a word that names an id (or after `number` / `no.` that follows one).
    for text in [
        "order 4539 1488 0343 6467",
        "Invoice No. 4539 1488 0343 6467",
        "TRACKING number 4539 1488 0343 6467",
        "transaction: 4539 1488 0343 6467",
    ] {
        assert!(!has(text, "credit_card"), "{text}");
    }
    for text in [
        "card 4539 1488 0343 6467",
        "orderly 4539 1488 0343 6467",
        "number 4539 1488 0343 6467",
        "a-very-long-word-before-it 4539 1488 0343 6467",
    ] {
        assert!(has(text, "credit_card"), "{text}");
    }
}

#[test]
fn an_email_right_after_a_secret_is_found_and_url_credentials_are_no_email() {
    let e = engine();
    let text = "token ghp_8fK2mQ7vLx9pR3tZ1wY6nB4cD0hJ5sGaE2uV alice@northwind-mail.io";
    let found = spans(&e, text);
    assert_found(
        &found,
        &[
            ("ghp_8fK2mQ7vLx9pR3tZ1wY6nB4cD0hJ5sGaE2uV", "github_token"),
            ("alice@northwind-mail.io", "email"),
        ],
    );
    for text in [
        "DATABASE_URL=postgres://app:S3cretPa55-word@db01.northwind-mail.io:5432/app",
        "redis://:s3cretPw9zz@cache.northwind-mail.io:6379",
    ] {
        let found = spans(&e, text);
        assert!(found.iter().any(|f| f.1 == "url_password"), "{found:?}");
        assert!(!found.iter().any(|f| f.1 == "email"), "{found:?}");
    }
}
