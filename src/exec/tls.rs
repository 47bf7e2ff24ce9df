//! Exec stage: TLS that costs nothing until it is used. Building reqwest's default
//! client reads every root certificate of the machine (about 150 files under
//! `/etc/ssl/certs`, several milliseconds); here they are read at the first https
//! handshake, so a run against http:// never reads them. Verification is the platform
//! verifier reqwest itself uses, made on first use, trusting a scenario's `tls.ca_file`
//! certificates besides the machine's roots. HTTP and SQL steps share it.
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// The rustls configuration of a client: the machine's roots, loaded lazily, plus
/// `extra_roots`. No ALPN: each client says which protocols it offers.
pub fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, String> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = LazyPlatformVerifier {
        provider: provider.clone(),
        extra_roots,
        inner: OnceLock::new(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The CA certificates of a `tls.ca_file`: PEM `CERTIFICATE` blocks (a bundle may hold
/// several), each usable as a trust anchor. The error says which file and why.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read the CA file `{shown}`: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the CA file `{shown}` is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "the CA file `{shown}` holds no certificate (expected PEM `-----BEGIN CERTIFICATE-----` blocks)"
        ));
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            format!(
                "certificate {} of the CA file `{shown}` cannot be trusted as a CA: {e}",
                i + 1
            )
        })?;
    }
    Ok(certs)
}

#[derive(Debug)]
struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
    inner: OnceLock<Result<Verifier, Error>>,
}

impl LazyPlatformVerifier {
    fn inner(&self) -> Result<&Verifier, Error> {
        self.inner
            .get_or_init(|| {
                if self.extra_roots.is_empty() {
                    Verifier::new(self.provider.clone())
                } else {
                    Verifier::new_with_extra_roots(
                        self.extra_roots.iter().cloned(),
                        self.provider.clone(),
                    )
                }
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.inner()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // Asked when the first ClientHello is built: answered from the provider, so the
        // roots are still not read for a handshake that fails before a certificate.
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_read_at_the_first_certificate_not_before() {
        let config = client_config(Vec::new()).unwrap();
        assert!(config.alpn_protocols.is_empty());
        let verifier = LazyPlatformVerifier {
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            extra_roots: Vec::new(),
            inner: OnceLock::new(),
        };
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(verifier.inner.get().is_none(), "nothing read yet");
        // A certificate that is not one: the platform verifier now exists and rejects it.
        let name = ServerName::try_from("example.invalid").unwrap();
        let verdict = verifier.verify_server_cert(
            &CertificateDer::from(vec![1u8, 2, 3]),
            &[],
            &name,
            &[],
            UnixTime::now(),
        );
        assert!(verdict.is_err());
        assert!(
            verifier.inner.get().is_some(),
            "loaded at the first certificate"
        );
    }

    #[test]
    fn a_ca_file_must_hold_pem_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_ca_file(&dir.path().join("nope.pem")).unwrap_err();
        assert!(
            missing.starts_with("cannot read the CA file `"),
            "{missing}"
        );
        assert!(missing.contains("nope.pem"), "{missing}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let none = read_ca_file(&empty).unwrap_err();
        assert!(none.contains("holds no certificate"), "{none}");
        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let bad = read_ca_file(&broken).unwrap_err();
        assert!(bad.contains("cannot be trusted as a CA"), "{bad}");
    }
}
