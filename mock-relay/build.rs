//! The build identity for `--version` (commit, tree state, target): the probe's build script.
include!("../probe/build.rs");
