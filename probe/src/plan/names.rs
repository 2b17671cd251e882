//! A target's name is unique within a run: it labels the target's series in `/metrics` and the
//! textfile (a Prometheus keeps only one of two series with the same labels), its JUnit test
//! case, its matrix row and its section of every report.
//!
//! Targets get their host as a name, so two targets on one host (different ports or paths)
//! would share it. Only the names that collide change, each by the least that tells them
//! apart: the port (`relay.lab:8443`), else port and path (`relay.lab:8443/a`), else a number
//! (`relay.lab #2`).

use crate::target::Target;
use std::collections::{HashMap, HashSet};

/// Renames colliding targets in place; unique names are left as they are.
pub fn make_unique(targets: &mut [Target]) {
    let with_port = |t: &Target| format!("{}:{}", t.name, t.port);
    let with_path = |t: &Target| match t.path.as_str() {
        "/" => format!("{}:{}", t.name, t.port),
        path => format!("{}:{}{path}", t.name, t.port),
    };
    for rule in [&with_port as &dyn Fn(&Target) -> String, &with_path] {
        for group in colliding(targets) {
            let renamed: Vec<String> = group.iter().map(|&i| rule(&targets[i])).collect();
            if distinct(&renamed) {
                for (&i, name) in group.iter().zip(renamed) {
                    targets[i].name = name;
                }
            }
        }
    }
    // Whatever still collides (the same URL twice, or a rename that met another target's
    // name): numbered in order, the first keeping its name.
    let mut taken: HashSet<String> = HashSet::new();
    for t in targets.iter_mut() {
        if !taken.insert(t.name.clone()) {
            let base = t.name.clone();
            let mut n = 2;
            while !taken.insert(format!("{base} #{n}")) {
                n += 1;
            }
            t.name = format!("{base} #{n}");
        }
    }
}

/// Indexes of targets sharing a name, one group per shared name, in order of first appearance.
fn colliding(targets: &[Target]) -> Vec<Vec<usize>> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut order = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let group = by_name.entry(t.name.as_str()).or_default();
        if group.is_empty() {
            order.push(t.name.as_str());
        }
        group.push(i);
    }
    order
        .into_iter()
        .filter_map(|name| by_name.remove(name).filter(|g| g.len() > 1))
        .collect()
}

fn distinct(names: &[String]) -> bool {
    names.iter().collect::<HashSet<_>>().len() == names.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(urls: &[&str]) -> Vec<String> {
        let mut targets: Vec<Target> = urls.iter().map(|u| Target::parse(u).unwrap()).collect();
        make_unique(&mut targets);
        targets.into_iter().map(|t| t.name).collect()
    }

    #[test]
    fn unique_names_are_kept() {
        assert_eq!(
            names(&["https://a.example/", "relay://b.example:8443"]),
            ["a.example", "b.example"]
        );
    }

    #[test]
    fn ports_tell_apart_targets_on_one_host() {
        assert_eq!(
            names(&[
                "relay://relay.lab:8443",
                "relay://relay.lab:9443",
                "https://other.lab/"
            ]),
            ["relay.lab:8443", "relay.lab:9443", "other.lab"]
        );
    }

    #[test]
    fn paths_when_ports_are_the_same() {
        assert_eq!(
            names(&[
                "https://relay.lab/a",
                "https://relay.lab/b",
                "https://relay.lab/"
            ]),
            ["relay.lab:443/a", "relay.lab:443/b", "relay.lab:443"]
        );
    }

    #[test]
    fn the_same_url_twice_is_numbered() {
        assert_eq!(
            names(&["https://x.lab/", "https://x.lab/", "https://x.lab/"]),
            ["x.lab", "x.lab #2", "x.lab #3"]
        );
    }

    #[test]
    fn a_rename_never_meets_another_name() {
        let mut targets: Vec<Target> = ["https://x.lab/", "https://x.lab:8443/", "https://y.lab/"]
            .iter()
            .map(|u| Target::parse(u).unwrap())
            .collect();
        targets[2].name = "x.lab:443".into();
        make_unique(&mut targets);
        let got: Vec<_> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(got, ["x.lab:443", "x.lab:8443", "x.lab:443 #2"]);
        assert!(distinct(
            &targets.iter().map(|t| t.name.clone()).collect::<Vec<_>>()
        ));
    }
}
