//! `kiln install`: writes the kernelspec (kernel.json and logos) where Jupyter looks.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::KernelError;
use crate::python::interpreter::BUILT_PYTHON;

const LOGO_32: &[u8] = include_bytes!("../assets/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("../assets/logo-64x64.png");

/// Where the kernelspec goes.
pub enum Location {
    /// The user's Jupyter data directory.
    User,
    /// The environment Kiln was built against (its `sys.prefix`).
    SysPrefix,
    Prefix(PathBuf),
}

fn user_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("JUPYTER_DATA_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    match std::env::var_os("XDG_DATA_HOME") {
        Some(xdg) => PathBuf::from(xdg).join("jupyter"),
        None => home.join(".local/share/jupyter"),
    }
}

/// The venv root of the interpreter Kiln was built against (`<venv>/bin/python`).
fn built_prefix() -> PathBuf {
    Path::new(BUILT_PYTHON)
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/usr/local"))
}

pub fn kernels_dir(location: &Location) -> PathBuf {
    match location {
        Location::User => user_data_dir().join("kernels"),
        Location::SysPrefix => built_prefix().join("share/jupyter/kernels"),
        Location::Prefix(p) => p.join("share/jupyter/kernels"),
    }
}

/// The kernel.json for this binary, its cells in `language` by default.
pub fn kernel_json(executable: &Path, display_name: &str, language: &str) -> serde_json::Value {
    json!({
        "argv": [executable.display().to_string(), "kernel", "--language", language,
                 "--connection-file", "{connection_file}"],
        "display_name": display_name,
        "language": language,
        "interrupt_mode": "message",
        "env": {},
        "metadata": {"debugger": false},
        "kernel_protocol_version": "5.3",
    })
}

/// Writes the two kernelspecs: `name` (Python cells by default) and
/// `name-rust` ("… (Rust)", Rust cells by default); their names and directories.
pub fn install(
    location: &Location,
    name: &str,
    display_name: &str,
) -> Result<Vec<(String, PathBuf)>, KernelError> {
    let specs = [
        (name.to_string(), display_name.to_string(), "python"),
        (
            format!("{name}-rust"),
            format!("{display_name} (Rust)"),
            "rust",
        ),
    ];
    let mut written = Vec::new();
    for (spec_name, spec_display, language) in specs {
        let dir = kernels_dir(location).join(&spec_name);
        let fail = |e: std::io::Error| KernelError::Install {
            path: dir.display().to_string(),
            reason: e.to_string(),
        };
        let executable = std::env::current_exe()
            .and_then(|p| p.canonicalize())
            .map_err(fail)?;
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let spec = serde_json::to_string_pretty(&kernel_json(&executable, &spec_display, language))
            .map_err(|e| fail(std::io::Error::other(e)))?;
        std::fs::write(dir.join("kernel.json"), spec).map_err(fail)?;
        std::fs::write(dir.join("logo-32x32.png"), LOGO_32).map_err(fail)?;
        std::fs::write(dir.join("logo-64x64.png"), LOGO_64).map_err(fail)?;
        written.push((spec_display, dir));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_kernel_json_and_logos_under_a_prefix() {
        let prefix = std::env::temp_dir().join(format!("kiln-install-{}", std::process::id()));
        let specs = install(&Location::Prefix(prefix.clone()), "kiln-test", "Kiln").unwrap();
        let dir = &specs[0].1;
        assert_eq!(*dir, prefix.join("share/jupyter/kernels/kiln-test"));
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap())
                .unwrap();
        assert_eq!(spec["interrupt_mode"], "message");
        assert_eq!(spec["argv"][1], "kernel");
        assert_eq!(spec["argv"][3], "python");
        assert_eq!(spec["argv"][5], "{connection_file}");
        assert!(dir.join("logo-64x64.png").exists());
        let (rust_name, rust_dir) = &specs[1];
        assert_eq!(rust_name, "Kiln (Rust)");
        let rust: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(rust_dir.join("kernel.json")).unwrap())
                .unwrap();
        assert_eq!(rust["language"], "rust");
        assert_eq!(rust["argv"][3], "rust");
        std::fs::remove_dir_all(prefix).unwrap();
    }
}
