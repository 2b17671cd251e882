//! `probe watch`: a listener that lives like writeback's, pushed at random times through the
//! relay, every delivery recorded; consecutive failures become incidents.

pub mod event;
