//! Shared harness for the end-to-end tests: the real binaries, real peers, real networks.

pub mod bench;
pub mod bins;
pub mod certs;
pub mod dist;
pub mod hc;
pub mod hostile;
pub mod hostile_proxy;
pub mod https_server;
pub mod hyco;
pub mod lab;
pub mod limits;
pub mod measure;
pub mod probe_cli;
pub mod proc;
pub mod python;
pub mod relay;
pub mod relay_load;
pub mod report_tools;
pub mod served;
pub mod slack;
pub mod tls_client;
pub mod watch_events;
pub mod windows;
