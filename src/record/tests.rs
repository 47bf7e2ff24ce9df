//! Unit tests of `record`.
use super::*;

#[test]
fn class_words_are_the_serialized_names() {
    for c in [
        FailureClass::ServerError,
        FailureClass::NoResponse,
        FailureClass::Rejected,
        FailureClass::QueryError,
        FailureClass::ProgramFailed,
        FailureClass::Assertion,
        FailureClass::Engine,
    ] {
        assert_eq!(
            serde_json::to_value(c).unwrap(),
            serde_json::Value::from(c.word())
        );
    }
}
