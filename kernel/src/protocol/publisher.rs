//! The iopub side of a kernel as the rest of Kiln sees it: buffered output
//! streams and ordered side-effect messages for the request being served.

use std::sync::Mutex;

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::message::Message;

/// Past this many buffered bytes a stream is sent at once instead of waiting
/// for the periodic flush.
const STREAM_FLUSH_BYTES: usize = 64 * 1024;

/// The client that sent the request being served, as far as its
/// `execute_request` tells: notebook frontends (JupyterLab, Notebook 7,
/// VS Code) put the cell's id in the request's metadata; consoles and
/// headless runners do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frontend {
    NotebookCell,
    Console,
}

impl Frontend {
    pub fn of_request(metadata: &Value) -> Frontend {
        if metadata.get("cellId").is_some() {
            Frontend::NotebookCell
        } else {
            Frontend::Console
        }
    }
}

struct State {
    /// Header of the request whose outputs we are publishing.
    parent: Value,
    frontend: Frontend,
    /// Stream text not yet sent, in write order, merged per consecutive stream.
    pending: Vec<(&'static str, String)>,
    pending_bytes: usize,
}

/// Everything sent on iopub goes through here, so that stream text written before
/// a display message always arrives before it.
pub struct Publisher {
    session: String,
    tx: UnboundedSender<Message>,
    state: Mutex<State>,
}

impl Publisher {
    pub fn new(session: String, tx: UnboundedSender<Message>) -> Self {
        Publisher {
            session,
            tx,
            state: Mutex::new(State {
                parent: json!({}),
                frontend: Frontend::Console,
                pending: Vec::new(),
                pending_bytes: 0,
            }),
        }
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes `parent` the request later outputs belong to, after flushing
    /// what belongs to the previous one.
    pub fn set_parent(&self, parent: Value, frontend: Frontend) {
        let mut state = self.lock();
        self.flush_locked(&mut state);
        state.parent = parent;
        state.frontend = frontend;
    }

    /// The client of the request being served.
    pub fn frontend(&self) -> Frontend {
        self.lock().frontend
    }

    /// Appends text to the `stdout` or `stderr` stream.
    pub fn stream(&self, name: &'static str, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut state = self.lock();
        match state.pending.last_mut() {
            Some((last, buffered)) if *last == name => buffered.push_str(text),
            _ => state.pending.push((name, text.to_string())),
        }
        state.pending_bytes += text.len();
        if state.pending_bytes >= STREAM_FLUSH_BYTES {
            self.flush_locked(&mut state);
        }
    }

    pub fn flush(&self) {
        let mut state = self.lock();
        self.flush_locked(&mut state);
    }

    fn flush_locked(&self, state: &mut State) {
        for (name, text) in state.pending.drain(..) {
            let msg = Message::iopub(
                &self.session,
                &state.parent,
                "stream",
                json!({"name": name, "text": text}),
            );
            let _ = self.tx.send(msg);
        }
        state.pending_bytes = 0;
    }

    /// Sends an iopub message for the current request, after any buffered stream text.
    pub fn publish(&self, msg_type: &str, content: Value) {
        let mut state = self.lock();
        self.flush_locked(&mut state);
        let msg = Message::iopub(&self.session, &state.parent, msg_type, content);
        let _ = self.tx.send(msg);
    }

    /// Sends an iopub message on behalf of a specific request (status around it).
    pub fn publish_for(&self, parent: &Message, msg_type: &str, content: Value) {
        let mut state = self.lock();
        self.flush_locked(&mut state);
        let parent_header = serde_json::to_value(&parent.header).unwrap_or(json!({}));
        let msg = Message::iopub(&self.session, &parent_header, msg_type, content);
        let _ = self.tx.send(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_merged_and_flushed_before_other_messages() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let publisher = Publisher::new("s".into(), tx);
        publisher.set_parent(json!({"msg_id": "p1"}), Frontend::Console);
        publisher.stream("stdout", "a");
        publisher.stream("stdout", "b");
        publisher.stream("stderr", "c");
        publisher.publish("display_data", json!({"data": {}}));
        let first = rx.try_recv().unwrap();
        assert_eq!(first.content, json!({"name": "stdout", "text": "ab"}));
        assert_eq!(first.parent_header["msg_id"], "p1");
        assert_eq!(rx.try_recv().unwrap().content["name"], "stderr");
        assert_eq!(rx.try_recv().unwrap().msg_type(), "display_data");
        assert!(rx.try_recv().is_err());
    }
}
