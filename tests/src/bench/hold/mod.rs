//! `bench-hold`: what an idle held listener-channel connection costs the mock-relay in resident
//! memory, and whether every push still leaves on time when thousands are held at once.
//!
//! One round per connection count, each against a fresh relay process:
//!
//! 1. start the relay, sample its RSS (the baseline);
//! 2. open N TLS + WebSocket channels (bounded concurrency, several loopback source addresses);
//! 3. send every channel one hold whose push falls due in a window that opens once all holds
//!    are in, spread evenly over `push_window` (staggered, not a thundering herd);
//! 4. once all are held and quiet, sample RSS again: KiB per connection = (held - baseline) / N;
//! 5. wait for every push; latency = arrival - due (due = `held` received + `push_after_s`).

mod client;
mod relay_process;
mod round;
mod summary;

pub use relay_process::RelayProcess;
pub use round::{run_round, RoundConfig};
pub use summary::{Latency, RoundReport};
