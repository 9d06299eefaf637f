//! Records which Python Kiln links and makes the binary find its libpython.

fn main() {
    let config = pyo3_build_config::get();
    if let Some(lib_dir) = &config.lib_dir {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
    let python = config
        .executable
        .clone()
        .unwrap_or_else(|| "python3".to_string());
    println!("cargo:rustc-env=KILN_PYTHON={python}");
    println!(
        "cargo:rustc-env=KILN_PYTHON_VERSION={}.{}",
        config.version.major, config.version.minor
    );
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
}
