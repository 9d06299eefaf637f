//! Jupyter wire messages: parsing multipart frames into `Message` and back.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::signer::Signer;

pub const PROTOCOL_VERSION: &str = "5.3";
const DELIMITER: &[u8] = b"<IDS|MSG>";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub msg_id: String,
    #[serde(default)]
    pub session: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub date: String,
    pub msg_type: String,
    #[serde(default)]
    pub version: String,
}

impl Header {
    pub fn new(msg_type: &str, session: &str) -> Self {
        Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            session: session.to_string(),
            username: "kernel".to_string(),
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            msg_type: msg_type.to_string(),
            version: PROTOCOL_VERSION.to_string(),
        }
    }
}

/// One message, as received from or about to be sent to a client.
#[derive(Debug, Clone)]
pub struct Message {
    /// ROUTER routing identities (empty on iopub).
    pub identities: Vec<Bytes>,
    pub header: Header,
    /// The request's header for replies and side effects, `{}` otherwise.
    pub parent_header: Value,
    pub metadata: Value,
    pub content: Value,
    pub buffers: Vec<Bytes>,
}

/// Why an incoming multipart message was dropped.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    #[error("no <IDS|MSG> delimiter")]
    MissingDelimiter,
    #[error("fewer than five frames after the delimiter")]
    TooFewFrames,
    #[error("bad or missing HMAC signature")]
    BadSignature,
    #[error("frame {frame} is not valid JSON: {reason}")]
    BadJson { frame: &'static str, reason: String },
}

impl Message {
    pub fn parse(frames: Vec<Bytes>, signer: &Signer) -> Result<Message, WireError> {
        let split = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .ok_or(WireError::MissingDelimiter)?;
        let identities = frames[..split].to_vec();
        let rest = &frames[split + 1..];
        if rest.len() < 5 {
            return Err(WireError::TooFewFrames);
        }
        let body: [&[u8]; 4] = [&rest[1], &rest[2], &rest[3], &rest[4]];
        if !signer.verify(&rest[0], &body) {
            return Err(WireError::BadSignature);
        }
        let json = |frame: &'static str, bytes: &[u8]| -> Result<Value, WireError> {
            serde_json::from_slice(bytes).map_err(|e| WireError::BadJson {
                frame,
                reason: e.to_string(),
            })
        };
        let header: Header = serde_json::from_slice(&rest[1]).map_err(|e| WireError::BadJson {
            frame: "header",
            reason: e.to_string(),
        })?;
        Ok(Message {
            identities,
            header,
            parent_header: json("parent_header", &rest[2])?,
            metadata: json("metadata", &rest[3])?,
            content: json("content", &rest[4])?,
            buffers: rest[5..].to_vec(),
        })
    }

    pub fn to_frames(&self, signer: &Signer) -> Vec<Bytes> {
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let parent = serde_json::to_vec(&self.parent_header).unwrap_or_default();
        let metadata = serde_json::to_vec(&self.metadata).unwrap_or_default();
        let content = serde_json::to_vec(&self.content).unwrap_or_default();
        let signature = signer.sign(&[&header, &parent, &metadata, &content]);
        let mut frames = self.identities.clone();
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(Bytes::from(signature));
        frames.push(Bytes::from(header));
        frames.push(Bytes::from(parent));
        frames.push(Bytes::from(metadata));
        frames.push(Bytes::from(content));
        frames.extend(self.buffers.iter().cloned());
        frames
    }

    /// A message caused by `parent` (a reply or an iopub side effect).
    pub fn child_of(parent: &Message, msg_type: &str, content: Value) -> Message {
        Message {
            identities: parent.identities.clone(),
            header: Header::new(msg_type, &parent.header.session),
            parent_header: serde_json::to_value(&parent.header).unwrap_or(json!({})),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }

    /// An iopub message for the given parent header, from the kernel's session.
    pub fn iopub(session: &str, parent_header: &Value, msg_type: &str, content: Value) -> Message {
        Message {
            identities: vec![Bytes::from(msg_type.to_string())],
            header: Header::new(msg_type, session),
            parent_header: parent_header.clone(),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }

    pub fn msg_type(&self) -> &str {
        &self.header.msg_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(signer: &Signer) -> Vec<Bytes> {
        let msg = Message {
            identities: vec![Bytes::from_static(b"client-1")],
            header: Header::new("execute_request", "s1"),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({"code": "1+1"}),
            buffers: vec![],
        };
        msg.to_frames(signer)
    }

    #[test]
    fn round_trips_with_identities() {
        let signer = Signer::new("k");
        let msg = Message::parse(request(&signer), &signer).unwrap();
        assert_eq!(msg.identities, vec![Bytes::from_static(b"client-1")]);
        assert_eq!(msg.msg_type(), "execute_request");
        assert_eq!(msg.content["code"], "1+1");
    }

    #[test]
    fn a_forged_signature_is_rejected() {
        let signer = Signer::new("k");
        let mut frames = request(&Signer::new("other-key"));
        assert_eq!(
            Message::parse(frames.clone(), &signer).unwrap_err(),
            WireError::BadSignature
        );
        frames[2] = Bytes::new();
        assert_eq!(
            Message::parse(frames, &signer).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn a_tampered_content_is_rejected() {
        let signer = Signer::new("k");
        let mut frames = request(&signer);
        let last = frames.len() - 1;
        frames[last] = Bytes::from_static(b"{\"code\": \"import os\"}");
        assert_eq!(
            Message::parse(frames, &signer).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn reply_carries_parent_header() {
        let signer = Signer::new("k");
        let req = Message::parse(request(&signer), &signer).unwrap();
        let reply = Message::child_of(&req, "execute_reply", json!({"status": "ok"}));
        assert_eq!(reply.parent_header["msg_id"], req.header.msg_id.as_str());
        assert_eq!(reply.identities, req.identities);
    }
}
