//! The kernel's sockets: shell, control, stdin, iopub (XPUB, with welcome
//! messages) and heartbeat, served on one tokio thread. Requests that need the
//! interpreter become `Job`s for the interpreter thread; everything else is
//! answered here, so control stays responsive while a cell runs.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{mpsc as tmpsc, oneshot};
use zeromq::prelude::*;
use zeromq::{RepSocket, RouterSocket, XPubSocket, ZmqMessage};

use super::connection::ConnectionInfo;
use super::message::Message;
use super::publisher::Publisher;
use super::signer::Signer;
use super::stdin::{InputRequest, StdinClient};
use crate::error::KernelError;
use crate::history::History;
use crate::interrupt::Interrupter;

/// Work for the interpreter thread.
pub enum Job {
    /// execute / complete / inspect / is_complete; the reply content comes back.
    Request {
        request: Box<Message>,
        reply: oneshot::Sender<Value>,
    },
    /// Run exit handlers and leave the process.
    Shutdown,
}

/// What the interpreter thread needs from the server.
pub struct ServerParts {
    pub publisher: Arc<Publisher>,
    pub stdin: StdinClient,
}

struct Shared {
    signer: Signer,
    publisher: Arc<Publisher>,
    kernel_info: Value,
    history: Arc<Mutex<History>>,
    interrupter: Arc<Interrupter>,
    jobs: mpsc::Sender<Job>,
}

fn to_zmq(msg: &Message, signer: &Signer) -> Option<ZmqMessage> {
    ZmqMessage::try_from(msg.to_frames(signer)).ok()
}

fn log(text: impl std::fmt::Display) {
    eprintln!("[kiln] {text}");
}

/// Binds every socket and starts serving on a new thread. Returns once all
/// sockets are bound, so a client's first request always finds them.
pub fn serve(
    info: &ConnectionInfo,
    kernel_info: Value,
    history: Arc<Mutex<History>>,
    interrupter: Arc<Interrupter>,
    jobs: mpsc::Sender<Job>,
) -> Result<ServerParts, KernelError> {
    let (iopub_tx, iopub_rx) = tmpsc::unbounded_channel();
    let (stdin_tx, stdin_rx) = tmpsc::unbounded_channel();
    let session = uuid::Uuid::new_v4().to_string();
    let publisher = Arc::new(Publisher::new(session, iopub_tx));
    let shared = Arc::new(Shared {
        signer: Signer::new(&info.key),
        publisher: publisher.clone(),
        kernel_info,
        history,
        interrupter,
        jobs,
    });
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), KernelError>>();
    let info = info.clone();
    std::thread::Builder::new()
        .name("kiln-io".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(KernelError::Io(e.to_string())));
                    return;
                }
            };
            runtime.block_on(async move {
                match bind_all(&info).await {
                    Ok(sockets) => {
                        let _ = ready_tx.send(Ok(()));
                        run(sockets, shared, iopub_rx, stdin_rx).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| KernelError::Io(e.to_string()))?;
    ready_rx
        .recv()
        .map_err(|_| KernelError::Io("the I/O thread stopped while binding".into()))??;
    Ok(ServerParts {
        publisher,
        stdin: StdinClient::new(stdin_tx),
    })
}

struct Sockets {
    shell: RouterSocket,
    control: RouterSocket,
    stdin: RouterSocket,
    iopub: XPubSocket,
    heartbeat: RepSocket,
}

async fn bind_all(info: &ConnectionInfo) -> Result<Sockets, KernelError> {
    async fn bind<S: Socket>(mut socket: S, endpoint: String) -> Result<S, KernelError> {
        socket
            .bind(&endpoint)
            .await
            .map_err(|e| KernelError::Bind {
                endpoint: endpoint.clone(),
                reason: e.to_string(),
            })?;
        Ok(socket)
    }
    Ok(Sockets {
        shell: bind(RouterSocket::new(), info.endpoint(info.shell_port)).await?,
        control: bind(RouterSocket::new(), info.endpoint(info.control_port)).await?,
        stdin: bind(RouterSocket::new(), info.endpoint(info.stdin_port)).await?,
        iopub: bind(XPubSocket::new(), info.endpoint(info.iopub_port)).await?,
        heartbeat: bind(RepSocket::new(), info.endpoint(info.hb_port)).await?,
    })
}

async fn run(
    sockets: Sockets,
    shared: Arc<Shared>,
    iopub_rx: tmpsc::UnboundedReceiver<Message>,
    stdin_rx: tmpsc::UnboundedReceiver<InputRequest>,
) {
    tokio::spawn(heartbeat(sockets.heartbeat));
    tokio::spawn(iopub(sockets.iopub, shared.clone(), iopub_rx));
    tokio::spawn(stdin(sockets.stdin, shared.signer.clone(), stdin_rx));
    tokio::spawn(flush_streams(shared.publisher.clone()));
    tokio::spawn(control(sockets.control, shared.clone()));
    shell(sockets.shell, shared).await;
}

async fn heartbeat(mut socket: RepSocket) {
    while let Ok(ping) = socket.recv().await {
        if socket.send(ping).await.is_err() {
            break;
        }
    }
}

/// Sends buffered stream text every 50 ms, so prints appear as they happen.
async fn flush_streams(publisher: Arc<Publisher>) {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        publisher.flush();
    }
}

async fn iopub(
    mut socket: XPubSocket,
    shared: Arc<Shared>,
    mut rx: tmpsc::UnboundedReceiver<Message>,
) {
    loop {
        tokio::select! {
            outgoing = rx.recv() => {
                let Some(msg) = outgoing else { break };
                if let Some(frames) = to_zmq(&msg, &shared.signer) {
                    if let Err(e) = socket.send(frames).await {
                        log(format_args!("iopub send failed: {e}"));
                    }
                }
            }
            incoming = socket.recv() => {
                let Ok(sub) = incoming else { continue };
                // XPUB delivers subscriptions as b"\x01topic"; answer each with a
                // welcome so the client knows iopub is connected (JEP 65).
                let Some(frame) = sub.get(0) else { continue };
                if frame.first() == Some(&1) {
                    let topic = String::from_utf8_lossy(&frame[1..]).to_string();
                    let mut msg = Message::iopub(
                        shared.publisher.session(),
                        &json!({}),
                        "iopub_welcome",
                        json!({"subscription": topic}),
                    );
                    msg.identities = vec![Bytes::from(topic)];
                    if let Some(frames) = to_zmq(&msg, &shared.signer) {
                        let _ = socket.send(frames).await;
                    }
                }
            }
        }
    }
}

async fn stdin(
    socket: RouterSocket,
    signer: Signer,
    mut rx: tmpsc::UnboundedReceiver<InputRequest>,
) {
    let (mut send, mut recv) = socket.split();
    let waiting: Arc<Mutex<HashMap<Vec<Bytes>, mpsc::Sender<String>>>> = Default::default();
    let replies = waiting.clone();
    let receiver_signer = signer.clone();
    tokio::spawn(async move {
        while let Ok(frames) = recv.recv().await {
            match Message::parse(frames.into_vec(), &receiver_signer) {
                Ok(msg) if msg.msg_type() == "input_reply" => {
                    let value = msg.content["value"].as_str().unwrap_or("").to_string();
                    let pending = replies
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&msg.identities);
                    match pending {
                        Some(tx) => {
                            let _ = tx.send(value);
                        }
                        None => log("input_reply with no input_request waiting; dropped"),
                    }
                }
                Ok(msg) => log(format_args!("unexpected {} on stdin", msg.msg_type())),
                Err(e) => log(format_args!("dropped a stdin message: {e}")),
            }
        }
    });
    while let Some(request) = rx.recv().await {
        waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(request.message.identities.clone(), request.reply);
        if let Some(frames) = to_zmq(&request.message, &signer) {
            let _ = send.send(frames).await;
        }
    }
}

async fn control(mut socket: RouterSocket, shared: Arc<Shared>) {
    while let Ok(frames) = socket.recv().await {
        let msg = match Message::parse(frames.into_vec(), &shared.signer) {
            Ok(msg) => msg,
            Err(e) => {
                log(format_args!("dropped a control message: {e}"));
                continue;
            }
        };
        shared
            .publisher
            .publish_for(&msg, "status", json!({"execution_state": "busy"}));
        let reply = match msg.msg_type() {
            "kernel_info_request" => Some(("kernel_info_reply", shared.kernel_info.clone())),
            "interrupt_request" => {
                shared.interrupter.interrupt();
                Some(("interrupt_reply", json!({"status": "ok"})))
            }
            "shutdown_request" => {
                let restart = msg.content["restart"].as_bool().unwrap_or(false);
                let reply = Message::child_of(
                    &msg,
                    "shutdown_reply",
                    json!({"status": "ok", "restart": restart}),
                );
                if let Some(frames) = to_zmq(&reply, &shared.signer) {
                    let _ = socket.send(frames).await;
                }
                shutdown(&shared, &msg).await;
                None
            }
            "debug_request" => Some((
                "debug_reply",
                json!({"status": "error", "ename": "NotImplemented",
                       "evalue": "Kiln has no debugger", "traceback": []}),
            )),
            other => {
                log(format_args!(
                    "unknown control message type {other:?}; ignored"
                ));
                None
            }
        };
        if let Some((reply_type, content)) = reply {
            let reply = Message::child_of(&msg, reply_type, content);
            if let Some(frames) = to_zmq(&reply, &shared.signer) {
                let _ = socket.send(frames).await;
            }
        }
        shared
            .publisher
            .publish_for(&msg, "status", json!({"execution_state": "idle"}));
    }
}

/// Lets the interpreter run exit handlers, then leaves even if it is stuck.
async fn shutdown(shared: &Shared, msg: &Message) {
    shared
        .publisher
        .publish_for(msg, "status", json!({"execution_state": "idle"}));
    // Give the iopub and reply frames a moment to leave the sockets.
    tokio::time::sleep(Duration::from_millis(50)).await;
    if shared.interrupter.is_busy() {
        shared.interrupter.interrupt();
    }
    let _ = shared.jobs.send(Job::Shutdown);
    tokio::time::sleep(Duration::from_secs(2)).await;
    std::process::exit(0);
}

async fn shell(mut socket: RouterSocket, shared: Arc<Shared>) {
    // Requests already queued when a cell failed; their execute requests are
    // aborted (Run All stops at the first error, as in ipykernel).
    let mut backlog: VecDeque<ZmqMessage> = VecDeque::new();
    loop {
        let (frames, aborting) = match backlog.pop_front() {
            Some(frames) => (frames, true),
            None => match socket.recv().await {
                Ok(frames) => (frames, false),
                Err(_) => break,
            },
        };
        let msg = match Message::parse(frames.into_vec(), &shared.signer) {
            Ok(msg) => msg,
            Err(e) => {
                log(format_args!("dropped a shell message: {e}"));
                continue;
            }
        };
        shared
            .publisher
            .publish_for(&msg, "status", json!({"execution_state": "busy"}));
        let reply = match msg.msg_type() {
            "execute_request" if aborting => Some((
                "execute_reply".to_string(),
                json!({"status": "aborted", "execution_count": Value::Null}),
            )),
            "execute_request" | "complete_request" | "inspect_request" | "is_complete_request" => {
                let reply_type = msg.msg_type().replace("_request", "_reply");
                let content = run_job(&shared, &msg).await;
                let failed = content["status"] == "error";
                let stop = msg.content["stop_on_error"].as_bool().unwrap_or(true);
                if msg.msg_type() == "execute_request" && failed && stop {
                    tokio::task::yield_now().await;
                    while let Some(Ok(queued)) = socket.recv().now_or_never() {
                        backlog.push_back(queued);
                    }
                }
                Some((reply_type, content))
            }
            "kernel_info_request" => {
                Some(("kernel_info_reply".to_string(), shared.kernel_info.clone()))
            }
            "history_request" => {
                let history = shared.history.lock().unwrap_or_else(|p| p.into_inner());
                Some(("history_reply".to_string(), history.reply(&msg.content)))
            }
            "comm_info_request" => Some((
                "comm_info_reply".to_string(),
                json!({"status": "ok", "comms": {}}),
            )),
            "comm_open" => {
                // No comm targets are registered: close it, as ipykernel does.
                let comm_id = msg.content["comm_id"].clone();
                shared.publisher.publish_for(
                    &msg,
                    "comm_close",
                    json!({"comm_id": comm_id, "data": {}}),
                );
                None
            }
            "comm_msg" | "comm_close" => None,
            "shutdown_request" => {
                let restart = msg.content["restart"].as_bool().unwrap_or(false);
                let reply = Message::child_of(
                    &msg,
                    "shutdown_reply",
                    json!({"status": "ok", "restart": restart}),
                );
                if let Some(frames) = to_zmq(&reply, &shared.signer) {
                    let _ = socket.send(frames).await;
                }
                shutdown(&shared, &msg).await;
                None
            }
            other => {
                log(format_args!(
                    "unknown shell message type {other:?}; ignored"
                ));
                None
            }
        };
        if let Some((reply_type, content)) = reply {
            let reply = Message::child_of(&msg, &reply_type, content);
            if let Some(frames) = to_zmq(&reply, &shared.signer) {
                if let Err(e) = socket.send(frames).await {
                    log(format_args!("shell send failed: {e}"));
                }
            }
        }
        shared
            .publisher
            .publish_for(&msg, "status", json!({"execution_state": "idle"}));
    }
}

/// Hands a request to the interpreter thread and waits for its reply content.
async fn run_job(shared: &Shared, msg: &Message) -> Value {
    let (tx, rx) = oneshot::channel();
    let job = Job::Request {
        request: Box::new(msg.clone()),
        reply: tx,
    };
    if shared.jobs.send(job).is_err() {
        return internal_error("the interpreter thread has stopped");
    }
    match rx.await {
        Ok(content) => content,
        Err(_) => internal_error("the interpreter dropped the request without replying"),
    }
}

fn internal_error(text: &str) -> Value {
    json!({"status": "error", "ename": "KilnInternalError", "evalue": text, "traceback": [text]})
}
