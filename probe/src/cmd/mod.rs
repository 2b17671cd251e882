//! One file per subcommand, named for it: the flags it adds (if any) and `command`, which
//! carries it out and returns the process exit code. `cli` parses and dispatches here.

pub mod completions;
pub mod demo;
pub mod man;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod serve;
pub mod watch;
