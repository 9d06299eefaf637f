//! The Jupyter messaging protocol: connection files, signed wire messages,
//! the five ZeroMQ channels and the routing of requests.

pub mod connection;
pub mod message;
pub mod publisher;
pub mod server;
pub mod signer;
pub mod stdin;

pub use connection::ConnectionInfo;
pub use message::Message;
pub use publisher::{Frontend, Publisher};
pub use server::{serve, Job, ServerParts};
pub use stdin::StdinClient;
