//! Asking the client for input (`input()`, `getpass`) over the stdin channel.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc::UnboundedSender;

use super::message::Message;

/// An `input_request` on its way to the stdin socket, with where to put the answer.
pub struct InputRequest {
    pub message: Message,
    pub reply: mpsc::Sender<String>,
}

/// The handle the interpreter thread uses to ask for input.
#[derive(Clone)]
pub struct StdinClient {
    tx: UnboundedSender<InputRequest>,
}

/// Why no input came back.
pub enum InputError {
    /// The caller's `keep_waiting` said stop (an interrupt).
    Interrupted,
    /// The channel to the socket task is gone (the kernel is shutting down).
    Closed,
}

impl StdinClient {
    pub fn new(tx: UnboundedSender<InputRequest>) -> Self {
        StdinClient { tx }
    }

    /// Sends `input_request` for `parent` and waits for the reply, calling
    /// `keep_waiting` every 50 ms so an interrupt can end the wait.
    pub fn request(
        &self,
        parent: &Message,
        prompt: &str,
        password: bool,
        mut keep_waiting: impl FnMut() -> bool,
    ) -> Result<String, InputError> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let message = Message::child_of(
            parent,
            "input_request",
            json!({"prompt": prompt, "password": password}),
        );
        self.tx
            .send(InputRequest {
                message,
                reply: reply_tx,
            })
            .map_err(|_| InputError::Closed)?;
        loop {
            match reply_rx.recv_timeout(Duration::from_millis(50)) {
                Ok(value) => return Ok(value),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if !keep_waiting() {
                        return Err(InputError::Interrupted);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(InputError::Closed),
            }
        }
    }
}
