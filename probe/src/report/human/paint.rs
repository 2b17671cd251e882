//! ANSI styles for the human report, on a terminal only.

use crate::outcome::Status;
use anstyle::{AnsiColor, Style};

pub struct Painter {
    pub color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    pub fn status(&self, status: Status, text: &str) -> String {
        let color = match status {
            Status::Pass => AnsiColor::Green,
            Status::Warn => AnsiColor::Yellow,
            Status::Fail => AnsiColor::Red,
            Status::Skip => AnsiColor::BrightBlack,
        };
        self.paint(Style::new().fg_color(Some(color.into())).bold(), text)
    }
}
