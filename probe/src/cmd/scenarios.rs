//! `probe scenarios [FILE...]`: list the built-in scenarios, or validate scenario files.

use crate::error::ConfigError;
use crate::output;
use crate::scenario::{builtin, Scenario};

/// `probe scenarios [FILE...]`: the built-in scenarios, or whether each file is valid.
pub fn command(files: &[std::path::PathBuf]) -> Result<u8, ConfigError> {
    let mut out = String::new();
    if files.is_empty() {
        for (name, _) in builtin::BUILTIN {
            let s = Scenario::load(name)?;
            out.push_str(&format!(
                "{name}{}\n  {}\n  {} target(s); idle requirement: {}\n",
                if *name == builtin::DEFAULT {
                    " (default)"
                } else {
                    ""
                },
                s.description,
                s.targets.len(),
                match &s.idle {
                    Some(t) => match t.recommended_s {
                        Some(r) => format!("{} s ({} s recommended)", t.required_s, r),
                        None => format!("{} s", t.required_s),
                    },
                    None => "none".into(),
                }
            ));
        }
    } else {
        for file in files {
            let s = Scenario::load(&file.to_string_lossy())?;
            out.push_str(&format!(
                "{}: valid ({} target(s))\n",
                file.display(),
                s.targets.len()
            ));
        }
    }
    output::write_stdout(out.as_bytes())?;
    Ok(0)
}
