//! The connection file Jupyter writes for a kernel: transport, ip, ports and key.

use std::path::Path;

use serde::Deserialize;

use crate::error::KernelError;

/// What a client tells the kernel about where to listen and how to sign.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    pub transport: String,
    pub ip: String,
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub control_port: u16,
    pub hb_port: u16,
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_scheme() -> String {
    "hmac-sha256".to_string()
}

impl ConnectionInfo {
    pub fn from_file(path: &Path) -> Result<Self, KernelError> {
        let text = std::fs::read_to_string(path).map_err(|e| KernelError::ConnectionFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let info: ConnectionInfo =
            serde_json::from_str(&text).map_err(|e| KernelError::ConnectionFile {
                path: path.display().to_string(),
                reason: format!("line {}, column {}: {}", e.line(), e.column(), e),
            })?;
        if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
            return Err(KernelError::ConnectionFile {
                path: path.display().to_string(),
                reason: format!(
                    "signature_scheme {:?} is not supported (expected \"hmac-sha256\")",
                    info.signature_scheme
                ),
            });
        }
        Ok(info)
    }

    /// The ZeroMQ endpoint of one channel, e.g. `tcp://127.0.0.1:5555`.
    pub fn endpoint(&self, port: u16) -> String {
        format!("{}://{}:{}", self.transport, self.ip, port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_jupyter_connection_file() {
        let dir = std::env::temp_dir().join(format!("kiln-conn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kernel.json");
        std::fs::write(
            &path,
            r#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4,
                "hb_port": 5, "ip": "127.0.0.1", "key": "abc", "transport": "tcp",
                "signature_scheme": "hmac-sha256", "kernel_name": "kiln"}"#,
        )
        .unwrap();
        let info = ConnectionInfo::from_file(&path).unwrap();
        assert_eq!(info.endpoint(info.hb_port), "tcp://127.0.0.1:5");
        assert_eq!(info.key, "abc");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_broken_file_names_line_and_column() {
        let dir = std::env::temp_dir().join(format!("kiln-conn-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kernel.json");
        std::fs::write(&path, "{\n  \"shell_port\": ,\n}").unwrap();
        let err = ConnectionInfo::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("kernel.json"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
