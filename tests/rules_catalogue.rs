//! Every rule's positive examples must produce that rule, and its negatives must not.

use promptgate::engine::catalogue::catalogue;
use promptgate::{Engine, Policy};

fn engine_with_codenames() -> Engine {
    Engine::new(Policy::from_yaml("t", "internal:\n  codenames: [Bluefin]\n").unwrap()).unwrap()
}

#[test]
fn catalogue_parses_and_ids_are_unique() {
    let cat = catalogue();
    assert!(cat.len() >= 35, "catalogue has {} rules", cat.len());
    let mut ids: Vec<&str> = cat.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate rule ids");
    for r in cat {
        assert!(
            !r.why.is_empty() && !r.fix.is_empty(),
            "{} lacks why/fix",
            r.id
        );
        assert!(r.builtin || r.pattern.is_some(), "{} has no pattern", r.id);
        assert!(
            r.builtin || !r.keywords.is_empty(),
            "{} has no keywords",
            r.id
        );
        assert!(
            r.also.iter().all(|x| !x.keywords.is_empty()),
            "{}: a pattern under `also` has no keywords",
            r.id
        );
    }
}

#[test]
fn every_rule_has_examples_that_fire() {
    let engine = engine_with_codenames();
    for rule in catalogue() {
        if rule.id != "codename" {
            assert!(!rule.examples.is_empty(), "{} has no examples", rule.id);
        }
        for ex in &rule.examples {
            let f = engine.scan(ex);
            assert!(
                f.iter().any(|f| *f.rule == rule.id),
                "rule {} missed its example {:?}; got {:?}",
                rule.id,
                ex,
                f.iter().map(|f| f.rule).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn no_rule_fires_on_its_negatives() {
    let engine = engine_with_codenames();
    for rule in catalogue() {
        for ex in &rule.negatives {
            let f = engine.scan(ex);
            assert!(
                !f.iter().any(|f| *f.rule == rule.id),
                "rule {} fired on its negative {:?}",
                rule.id,
                ex
            );
        }
    }
}

#[test]
fn keywords_are_in_the_examples() {
    // A keyword the examples never contain is probably a typo: the regex would never run.
    for rule in catalogue().iter().filter(|r| !r.builtin) {
        for ex in &rule.examples {
            assert!(
                rule.all_keywords().any(|k| ex.contains(k)),
                "{}: example {:?} holds none of the keywords {:?}",
                rule.id,
                ex,
                rule.all_keywords().collect::<Vec<_>>()
            );
        }
        // Each of a rule's patterns gets an example of its own.
        for keywords in rule.also.iter().map(|x| &x.keywords) {
            assert!(
                rule.examples
                    .iter()
                    .any(|ex| keywords.iter().any(|k| ex.contains(k.as_str()))),
                "{}: no example holds the keywords {keywords:?}",
                rule.id
            );
        }
    }
}
