//! Server-sent events. An event's data is split into `data:` lines at every line break, and a
//! browser ends a line at a bare `\r` too: text from a node (a log line, an audit record's
//! decoded field) carrying one could start a field of its own (`event:`, `id:`, `retry:`). Every
//! event the panel sends is made here, with carriage returns taken out.

use poem::web::sse::Event;

/// A message event of `kind` whose data is `data` (HTML from a view), safe to stream.
pub fn event(kind: impl Into<String>, data: impl Into<String>) -> Event {
    Event::message(strip(data.into())).event_type(kind.into())
}

fn strip(data: String) -> String {
    if data.contains('\r') {
        data.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_carriage_return_cannot_start_a_field() {
        assert_eq!(strip("a\rid: 9\rb".into()), "a\nid: 9\nb");
        assert_eq!(strip("x\r\ny".into()), "x\ny");
    }
}
