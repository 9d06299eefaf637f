//! HMAC-SHA256 signing and verification of the four JSON frames of a message.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Signs outgoing frames and checks incoming ones; an empty key disables signing,
/// as the Jupyter protocol specifies.
#[derive(Clone)]
pub struct Signer {
    key: Option<Hmac<Sha256>>,
}

impl Signer {
    pub fn new(key: &str) -> Self {
        let key = if key.is_empty() {
            None
        } else {
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok()
        };
        Signer { key }
    }

    pub fn sign(&self, frames: &[&[u8]]) -> String {
        match &self.key {
            None => String::new(),
            Some(mac) => {
                let mut mac = mac.clone();
                for frame in frames {
                    mac.update(frame);
                }
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }

    /// Constant-time check of a hex signature against the frames.
    pub fn verify(&self, signature: &[u8], frames: &[&[u8]]) -> bool {
        match &self.key {
            None => true,
            Some(mac) => {
                let Ok(expected) = hex::decode(signature) else {
                    return false;
                };
                let mut mac = mac.clone();
                for frame in frames {
                    mac.update(frame);
                }
                mac.verify_slice(&expected).is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let signer = Signer::new("Jefe");
        let sig = signer.sign(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(signer.verify(sig.as_bytes(), &[b"what do ya want for nothing?"]));
    }

    #[test]
    fn rejects_forged_and_missing_signatures() {
        let signer = Signer::new("secret");
        let good = signer.sign(&[b"header", b"{}", b"{}", b"{}"]);
        assert!(signer.verify(good.as_bytes(), &[b"header", b"{}", b"{}", b"{}"]));
        assert!(!signer.verify(good.as_bytes(), &[b"header", b"{}", b"{}", b"{\"x\":1}"]));
        assert!(!signer.verify(b"", &[b"header", b"{}", b"{}", b"{}"]));
        assert!(!signer.verify(b"not hex", &[b"header"]));
    }

    #[test]
    fn empty_key_means_unsigned() {
        let signer = Signer::new("");
        assert_eq!(signer.sign(&[b"x"]), "");
        assert!(signer.verify(b"", &[b"x"]));
    }
}
