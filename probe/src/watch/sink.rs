//! Where events go: the most recent ones in memory (for `/events`), and, with `--events FILE`,
//! JSON lines in a file rotated by size (`FILE`, `FILE.1` ... `FILE.N`, oldest dropped), so a
//! watch that runs for months never fills a disk.

use super::event::Event;
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Events kept in memory for `/events`.
pub const RECENT: usize = 1000;

/// A size-rotated JSON-lines file.
pub struct Rotating {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: File,
    written: u64,
}

impl Rotating {
    /// Opens `path` for appending (an existing file goes on growing up to `max_bytes`).
    pub fn open(path: &Path, max_bytes: u64, keep: u32) -> std::io::Result<Rotating> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(Rotating {
            path: path.to_path_buf(),
            max_bytes: max_bytes.max(1),
            keep,
            file,
            written,
        })
    }

    /// Appends one line; rotates first when the line would take the file past its size.
    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.written > 0 && self.written + len > self.max_bytes {
            self.rotate()?;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.written += len;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if self.keep == 0 {
            self.file = File::create(&self.path)?;
        } else {
            let _ = std::fs::remove_file(numbered(self.keep));
            for n in (1..self.keep).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(&from, numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
        }
        self.written = 0;
        Ok(())
    }
}

/// The recent events, and the file if any.
pub struct Sink {
    recent: VecDeque<String>,
    file: Option<Rotating>,
    /// The file failed once: said on stderr, not again.
    file_failed: bool,
}

impl Sink {
    pub fn new(file: Option<Rotating>) -> Sink {
        Sink {
            recent: VecDeque::with_capacity(RECENT),
            file,
            file_failed: false,
        }
    }

    pub fn record(&mut self, event: &Event) {
        let line = event.to_line();
        if let Some(file) = &mut self.file {
            if let Err(e) = file.write_line(&line) {
                if !self.file_failed {
                    self.file_failed = true;
                    crate::output::stderr_line(&format!(
                        "probe watch: --events {}: cannot write: {e}",
                        file.path.display()
                    ));
                }
            }
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// The recent events as JSON lines, oldest first.
    pub fn recent_lines(&self) -> String {
        let mut out = String::with_capacity(self.recent.iter().map(|l| l.len() + 1).sum());
        for line in &self.recent {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_rotates_at_its_size_and_keeps_n_old_ones() {
        let dir = std::env::temp_dir().join(format!("probe-watch-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.jsonl");
        let mut file = Rotating::open(&path, 100, 2).unwrap();
        let line = "x".repeat(39); // 40 bytes with its newline: two per file
        for _ in 0..11 {
            file.write_line(&line).unwrap();
        }
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
        assert_eq!(size(&path), Some(40));
        assert_eq!(size(&dir.join("events.jsonl.1")), Some(80));
        assert_eq!(size(&dir.join("events.jsonl.2")), Some(80));
        assert_eq!(size(&dir.join("events.jsonl.3")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
