//! Finding the job a technician means: they may type the job's number (`FS-2026-00042`, as the
//! office says it), the document id, the `automerge:` URL, the job's UUID, or just the first
//! characters of the id as `field jobs` shows it.

use sync_protocol::DocumentId;

use crate::error::ClientError;

/// True when `input` is written as a job number (`FS-` and the rest), whatever the case.
pub fn looks_like_number(input: &str) -> bool {
    input
        .trim()
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("FS-"))
}

/// The job among `numbered` (id and number) whose number is `input`, whatever the case.
pub fn by_number<'a>(
    input: &str,
    numbered: impl IntoIterator<Item = (DocumentId, &'a str)>,
) -> Option<DocumentId> {
    let typed = input.trim();
    numbered
        .into_iter()
        .find(|(_, number)| number.eq_ignore_ascii_case(typed))
        .map(|(id, _)| id)
}

/// The job among `known` that `input` names.
pub fn resolve(input: &str, known: &[DocumentId]) -> Result<DocumentId, ClientError> {
    let typed = input.trim();
    if let Ok(id) = DocumentId::parse(typed) {
        return if known.contains(&id) {
            Ok(id)
        } else {
            Err(ClientError::UnknownJob(typed.to_owned()))
        };
    }
    let prefix = typed.strip_prefix("automerge:").unwrap_or(typed);
    if prefix.is_empty() {
        return Err(ClientError::UnknownJob(typed.to_owned()));
    }
    let lowercase = prefix.to_ascii_lowercase();
    let mut matches: Vec<DocumentId> = known
        .iter()
        .copied()
        .filter(|id| {
            id.to_string().starts_with(prefix) || id.as_uuid().to_string().starts_with(&lowercase)
        })
        .collect();
    matches.sort();
    matches.dedup();
    match matches.as_slice() {
        [] => Err(ClientError::UnknownJob(typed.to_owned())),
        [only] => Ok(*only),
        many => Err(ClientError::AmbiguousJob {
            input: typed.to_owned(),
            count: many.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_form_of_the_id_and_unique_prefixes() {
        let id = DocumentId::random();
        let other = DocumentId::random();
        let known = [id, other];
        for form in [id.to_string(), id.to_url(), id.as_uuid().to_string()] {
            assert_eq!(resolve(&form, &known).unwrap(), id);
        }
        // The shortest prefix of each form that names no form of the other id: a prefix of
        // the id may happen to start the other job's UUID too, and then it is ambiguous.
        let names_other = |prefix: &str| {
            other.to_string().starts_with(prefix)
                || other
                    .as_uuid()
                    .to_string()
                    .starts_with(&prefix.to_ascii_lowercase())
        };
        for text in [id.to_string(), id.as_uuid().to_string()] {
            let unique = (1..text.len())
                .map(|n| &text[..n])
                .find(|p| !names_other(p))
                .unwrap();
            assert_eq!(resolve(unique, &known).unwrap(), id, "prefix {unique}");
        }
    }

    #[test]
    fn finds_a_job_by_its_number_in_any_case() {
        let (id, other) = (DocumentId::random(), DocumentId::random());
        let numbered = [(other, "FS-2026-00041"), (id, "FS-2026-00042")];
        assert!(looks_like_number(" fs-2026-00042"));
        assert!(!looks_like_number("5KXc"));
        assert_eq!(by_number("fs-2026-00042", numbered), Some(id));
        assert_eq!(by_number("FS-2026-00043", numbered), None);
    }

    #[test]
    fn refuses_unknown_and_ambiguous_input() {
        let id = DocumentId::random();
        assert!(matches!(
            resolve(&DocumentId::random().to_string(), &[id]),
            Err(ClientError::UnknownJob(_))
        ));
        assert!(matches!(
            resolve("", &[id]),
            Err(ClientError::UnknownJob(_))
        ));
        let twins = [id, id];
        assert_eq!(resolve(&id.to_string()[..3], &twins).unwrap(), id);
    }
}
