//! Execute stage: what a failure below HTTP was — refused, reset (closed before the
//! answer was whole), a malformed answer, a timeout — read from the error's causes, for
//! HTTP and SQL steps alike.
use std::error::Error;
use std::io::ErrorKind;

use crate::record::TransportKind;

/// The error's causes, outermost first.
fn chain<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn Error + 'static)| (*e).source())
}

/// Its message with every cause, joined by `: `.
pub fn full_message(err: &(dyn Error + 'static)) -> String {
    chain(err)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// The kind of failure the causes show, when they show one.
pub fn kind_of(err: &(dyn Error + 'static)) -> Option<TransportKind> {
    for e in chain(err) {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return Some(TransportKind::Timeout);
            }
            if h.is_parse() || h.is_parse_status() || h.is_parse_too_large() {
                return Some(TransportKind::MalformedResponse);
            }
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            // A certificate nothing vouches for: another attempt gets the same answer.
            return Some(TransportKind::Other);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return Some(TransportKind::Refused),
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof => return Some(TransportKind::Reset),
                ErrorKind::TimedOut => return Some(TransportKind::Timeout),
                ErrorKind::InvalidData => return Some(TransportKind::MalformedResponse),
                _ => {}
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                return Some(TransportKind::Reset);
            }
        }
    }
    None
}

/// Whether the connection died before any byte of an answer came (the request may never
/// have reached the server): what a stale keep-alive connection looks like.
pub fn closed_before_answer(err: &(dyn Error + 'static)) -> bool {
    chain(err).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_canceled())
            || e.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::BrokenPipe
                        | ErrorKind::ConnectionAborted
                )
            })
    })
}
